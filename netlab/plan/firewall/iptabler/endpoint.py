"""An endpoint's rules (iptabler `endpoint.go`, `port.go`, `link.go`): the raw-table DROP of
direct access to its address, its published ports, its legacy links.

Bindings reach here as the bridge driver hands them over (driver.py sorts them): on a routed
network the port mapper has already dropped the host side (host port 0 on 0.0.0.0), so such
a binding gets its ACCEPT and nothing in nat or raw."""
from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address

from ....model.topology import PortBinding, Segment
from .. import endpoint as legacy
from ..libnetwork import APPEND, DELETE, FILTER, INSERT, NAT, program_rule
from .flavor import DOCKER
from .iptabler import Iptabler

RAW = "raw"


def add_endpoint(fw: Iptabler, seg: Segment, ip: IPv4Address) -> None:
    """filterDirectAccess: only the bridge itself may address the container directly; other
    hosts must come through a published port. Not for internal networks, nor gateway modes
    that open the bridge (nat-unprotected, routed), nor with allow-direct-routing."""
    if fw.family.ipv6 or seg.internal or seg.gateway_mode in ("nat-unprotected", "routed"):
        return
    program_rule(fw.ipt, RAW, "PREROUTING", APPEND, f"-d {ip}/32 ! -i {seg.device} -j DROP")


def add_ports(fw: Iptabler, seg: Segment, cip: IPv4Address, bindings: Iterable[PortBinding]) -> None:
    """setPerPortIptables for each binding, in order."""
    if fw.family.ipv6 or seg.internal:
        return
    for b in bindings:
        _loopback_only(fw, b)
        # dropLegacyFilterDirectAccess would delete 28.0's per-port raw DROP: never written here
        _nat(fw, seg.device, cip, b)
        if seg.gateway_mode != "nat-unprotected":
            # inserted: the network's DROP at the end of DOCKER must come after every ACCEPT
            br = seg.device
            program_rule(fw.ipt, FILTER, DOCKER, INSERT,
                         f"-d {cip}/32 ! -i {br} -o {br} {_match(b)} --dport {b.container_port} -j ACCEPT")
        # 28's SCTP CHECKSUM rule needs DOCKER_IPTABLES_SCTP_CHECKSUM=1; 29 has none


def _match(b: PortBinding) -> str:
    return f"-p {b.proto} -m {b.proto}"


def _loopback_only(fw: Iptabler, b: PortBinding) -> None:
    """filterPortMappedOnLoopback: a port published on 127.x is for the host alone, so the
    raw table drops it from anywhere but lo (the kernel would route it otherwise)."""
    if b.host_port and b.host_ip.is_loopback:
        program_rule(fw.ipt, RAW, "PREROUTING", APPEND,
                     f"-d {b.host_ip}/32 ! -i lo {_match(b)} --dport {b.host_port} -j DROP")


def _nat(fw: Iptabler, br: str, cip: IPv4Address, b: PortBinding) -> None:
    """setPerPortNAT: the DNAT and, without the proxy, the hairpin MASQUERADE of a container
    reaching its own published port."""
    if not b.host_port:
        return
    dst = "" if b.host_ip.is_unspecified else f"-d {b.host_ip}/32 "
    # with the proxy on, the bridge's own traffic is left to the proxy
    not_bridge = "" if fw.hairpin else f"! -i {br} "
    to = f"{cip}:{b.container_port}"
    program_rule(fw.ipt, NAT, DOCKER, APPEND,
                 f"{dst}{not_bridge}{_match(b)} --dport {b.host_port} -j DNAT --to-destination {to}")
    program_rule(fw.ipt, NAT, "POSTROUTING", APPEND if fw.hairpin else DELETE,
                 f"-s {cip}/32 -d {cip}/32 {_match(b)} --dport {b.container_port} -j MASQUERADE")


def add_link(fw: Iptabler, seg: Segment, parent: IPv4Address, child: IPv4Address,
             ports: Iterable[tuple[int, str]]) -> None:
    """AddLink: ChainInfo.Link appends to DOCKER exactly as 20.10 did."""
    if not fw.family.ipv6:
        legacy.link(fw.ipt, seg.device, parent, child, ports)
