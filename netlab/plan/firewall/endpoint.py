"""The rules a container's start adds: published ports and legacy links, written by the
bridge driver's ProgramExternalConnectivity on the container's gateway endpoint
(20.10 `iptables.go` Forward and Link, `drivers/bridge/link.go`). All are appended."""
from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address

from ...model.topology import Container, PortBinding, Segment
from .daemon import DOCKER
from .iptables import Iptables
from .libnetwork import APPEND, FILTER, MANGLE, NAT, program_rule


def forward(ipt: Iptables, br: str, b: PortBinding, cip: IPv4Address, hairpin: bool) -> None:
    """One binding: DNAT, its ACCEPT, the hairpin MASQUERADE, and for sctp a checksum fix.
    Two bindings of one container port share the last three (ProgramRule checks first)."""
    match = f"-p {b.proto} -m {b.proto}"
    dst = "" if b.host_ip.is_unspecified else f"-d {b.host_ip}/32 "
    # with the proxy on, traffic from the bridge is left to the proxy, which sees the real
    # destination; without it, DNAT must also catch it (hairpin)
    not_bridge = "" if hairpin else f"! -i {br} "
    program_rule(ipt, NAT, DOCKER, APPEND,
                 f"{dst}{not_bridge}{match} --dport {b.host_port} -j DNAT --to-destination {cip}:{b.container_port}")
    program_rule(ipt, FILTER, DOCKER, APPEND,
                 f"-d {cip}/32 ! -i {br} -o {br} {match} --dport {b.container_port} -j ACCEPT")
    program_rule(ipt, NAT, "POSTROUTING", APPEND,
                 f"-s {cip}/32 -d {cip}/32 {match} --dport {b.container_port} -j MASQUERADE")
    if b.proto == "sctp":
        # veth offloads SCTP checksums that a physical NIC behind may not fill in
        program_rule(ipt, MANGLE, "POSTROUTING", APPEND,
                     f"{match} --sport {b.container_port} -j CHECKSUM --checksum-fill")


def link(ipt: Iptables, br: str, parent: IPv4Address, child: IPv4Address,
         ports: Iterable[tuple[int, str]]) -> None:
    """Let `parent` reach the exposed ports of `child` across an icc=false bridge."""
    for port, proto in ports:
        match = f"-i {br} -o {br} -p {proto} -m {proto}"
        program_rule(ipt, FILTER, DOCKER, APPEND, f"-s {parent}/32 -d {child}/32 {match} --dport {port} -j ACCEPT")
        program_rule(ipt, FILTER, DOCKER, APPEND, f"-s {child}/32 -d {parent}/32 {match} --sport {port} -j ACCEPT")


def program_external_connectivity(ipt: Iptables, seg: Segment, c: Container, hairpin: bool,
                                  parents: list[Container], children: list[Container]) -> None:
    """Ports first, then (icc=false only) the links: to the running containers `c` links to
    (its children) and from the running containers that link to `c` (its parents).
    Links count only between endpoints whose gateway is this network, as extConnConfig,
    which holds the exposed ports, exists only there."""
    cip = _address(c, seg)
    for b in c.ports:
        if b.host_ip.version == 4:      # an IPv6 host address is docker-proxy's alone here
            forward(ipt, seg.device, b, cip, hairpin)
    if seg.icc:
        return
    for p in parents:
        link(ipt, seg.device, _address(p, seg), cip, c.exposed)
    for child in children:
        link(ipt, seg.device, cip, _address(child, seg), child.exposed)


def _address(c: Container, seg: Segment) -> IPv4Address:
    att = c.attachment(seg.network)
    assert att is not None, f"{c.name} has no endpoint on {seg.network}"
    return att.address.ip
