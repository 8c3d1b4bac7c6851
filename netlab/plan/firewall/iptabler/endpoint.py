"""An endpoint's rules (iptabler `endpoint.go`, `port.go`, `link.go`): the raw-table DROP of
direct access to its address, its published ports, its legacy links.

Bindings reach here as the bridge driver hands them over (driver.py sorts them): on a routed
network the port mapper has already dropped the host side (host port 0 on 0.0.0.0), so such
a binding gets its ACCEPT and nothing in nat or raw.

An IPv6 endpoint's rules are IPv4's with its IPv6 address, except that a port published on
::1 needs no raw DROP (the kernel never routes ::1 from outside) and the DNAT leaves
link-local sources alone (`! -s fe80::/10`)."""
from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address

from ....model.topology import PortBinding, Segment
from .. import endpoint as legacy
from ..libnetwork import APPEND, DELETE, FILTER, INSERT, NAT, program_rule
from .flavor import DOCKER
from .iptabler import Iptabler
from .netfam import host_match, net_fam

Address = IPv4Address | IPv6Address

RAW = "raw"


def add_endpoint(fw: Iptabler, seg: Segment, ip: Address | None) -> None:
    """filterDirectAccess: only the bridge itself may address the container directly; other
    hosts must come through a published port. Not for internal networks, nor gateway modes
    that open the bridge (nat-unprotected, routed), nor with allow-direct-routing. `ip` is
    the endpoint's address of the iptabler's family (None: it has none)."""
    nf = net_fam(seg, fw.family.ipv6)
    if ip is None or nf is None or seg.internal or nf.unprotected or nf.routed:
        return
    program_rule(fw.ipt, RAW, "PREROUTING", APPEND, f"-d {host_match(ip)} ! -i {seg.device} -j DROP")


def add_ports(fw: Iptabler, seg: Segment, cip: Address, bindings: Iterable[PortBinding]) -> None:
    """setPerPortIptables for each binding of the iptabler's family, in order."""
    nf = net_fam(seg, fw.family.ipv6)
    if nf is None or seg.internal:
        return
    for b in bindings:
        _loopback_only(fw, b)
        # dropLegacyFilterDirectAccess would delete 28.0's per-port raw DROP: never written here
        _nat(fw, seg.device, cip, b)
        if not nf.unprotected:
            # inserted: the network's DROP at the end of DOCKER must come after every ACCEPT
            br = seg.device
            program_rule(fw.ipt, FILTER, DOCKER, INSERT,
                         f"-d {host_match(cip)} ! -i {br} -o {br} {_match(b)} --dport {b.container_port} -j ACCEPT")
        # 28's SCTP CHECKSUM rule needs DOCKER_IPTABLES_SCTP_CHECKSUM=1; 29 has none


def _match(b: PortBinding) -> str:
    return f"-p {b.proto} -m {b.proto}"


def _loopback_only(fw: Iptabler, b: PortBinding) -> None:
    """filterPortMappedOnLoopback: a port published on 127.x is for the host alone, so the
    raw table drops it from anywhere but lo (the kernel would route it otherwise). ::1 is
    never routed: no rule."""
    if b.host_port and b.host_ip.is_loopback and b.host_ip.version == 4:
        program_rule(fw.ipt, RAW, "PREROUTING", APPEND,
                     f"-d {b.host_ip}/32 ! -i lo {_match(b)} --dport {b.host_port} -j DROP")


def _nat(fw: Iptabler, br: str, cip: Address, b: PortBinding) -> None:
    """setPerPortNAT: the DNAT and, without the proxy, the hairpin MASQUERADE of a container
    reaching its own published port."""
    if not b.host_port:
        return
    # IPv6: a link-local source is on the host's own link, not a client of the published port
    src = "! -s fe80::/10 " if cip.version == 6 else ""
    dst = "" if b.host_ip.is_unspecified else f"-d {host_match(b.host_ip)} "
    # with the proxy on, the bridge's own traffic is left to the proxy
    not_bridge = "" if fw.hairpin else f"! -i {br} "
    to = f"[{cip}]:{b.container_port}" if cip.version == 6 else f"{cip}:{b.container_port}"
    program_rule(fw.ipt, NAT, DOCKER, APPEND,
                 f"{src}{dst}{not_bridge}{_match(b)} --dport {b.host_port} -j DNAT --to-destination {to}")
    own = host_match(cip)
    program_rule(fw.ipt, NAT, "POSTROUTING", APPEND if fw.hairpin else DELETE,
                 f"-s {own} -d {own} {_match(b)} --dport {b.container_port} -j MASQUERADE")


def add_link(fw: Iptabler, seg: Segment, parent: IPv4Address, child: IPv4Address,
             ports: Iterable[tuple[int, str]]) -> None:
    """AddLink: ChainInfo.Link appends to DOCKER exactly as 20.10 did."""
    if not fw.family.ipv6:
        legacy.link(fw.ipt, seg.device, parent, child, ports)
