"""SRC and DST as people type them -> the probe: where it is sent from, to which address
and port, with which source address (the one the kernel would pick there)."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from ..errors import LabError
from ..model.targets import address, endpoint
from ..model.topology import Topology
from .wiring import Wiring

PROTOS = ("icmp", "tcp", "udp")


class TraceError(LabError):
    """A trace cannot be set up as asked."""


@dataclass(frozen=True, kw_only=True)
class Probe:
    src: str                        # as asked
    dst: str
    proto: str
    netns: str                      # sent from here
    owner: str
    dst_ip: IPv4Address
    dport: int | None
    src_ip: IPv4Address | None      # None: no route from the source
    dst_netns: str | None           # the namespace expected to answer, when known


def resolve(topo: Topology, wiring: Wiring, src: str, dst: str, proto: str | None = None,
            port: int | None = None) -> Probe:
    if proto is not None and proto not in PROTOS:
        raise TraceError(f"--proto must be one of {', '.join(PROTOS)}, not {proto!r}")
    where = endpoint(topo, src)
    if port is not None and not 0 < port < 65536:
        raise TraceError(f"port {port}: a port is a number from 1 to 65535")
    if dst.count(":") > 1:
        raise TraceError(f"{dst!r} looks like an IPv6 address: netlab traces IPv4, as Docker's networks "
                         "use by default")
    host_part, sep, port_part = dst.rpartition(":")
    if sep:
        if not port_part.isdigit() or not 0 < int(port_part) < 65536:
            raise TraceError(f"{dst!r}: the port after ':' must be a number from 1 to 65535")
        if not host_part:
            raise TraceError(f"{dst!r} names a port but no destination: write CONTAINER:PORT or ADDRESS:PORT")
        if port is not None and port != int(port_part):
            raise TraceError(f"{dst!r} names port {port_part} but --port says {port}")
        dst, port = host_part, int(port_part)
    proto = proto or ("tcp" if port is not None else "icmp")
    if proto == "icmp" and port is not None:
        raise TraceError("icmp has no ports: use --proto tcp or udp with a port")
    if proto != "icmp" and port is None:
        raise TraceError(f"{proto} needs a destination port: --port N or HOST:PORT")
    dst_ip = _address(topo, wiring, src, dst, where.netns)
    _traceable(dst_ip)
    found = wiring.space(where.netns).route(dst_ip)
    holders = wiring.holders(dst_ip)
    return Probe(src=src, dst=dst if not sep else f"{dst}:{port}", proto=proto, netns=where.netns,
                 owner=wiring.space(where.netns).owner, dst_ip=dst_ip, dport=port,
                 src_ip=found.src if found.kind != "unreachable" else None,
                 dst_netns=holders[0][0] if len(holders) == 1 else None)


def _traceable(ip: IPv4Address) -> None:
    """A trace follows one packet from one namespace to one destination across interfaces."""
    if ip.is_loopback or ip.is_unspecified:
        raise TraceError(f"{ip} never leaves the namespace it is sent in, so there is no path to trace; "
                         "trace to one of the source's own addresses to see local delivery, or "
                         "`netlab exec LAB SRC -- ping` to see that it answers")
    if ip.is_multicast or ip == IPv4Address("255.255.255.255"):
        raise TraceError(f"{ip} is a broadcast or multicast address: a trace follows one packet to one "
                         "destination; name a container, a host or a unicast address")


def _address(topo: Topology, wiring: Wiring, src: str, dst: str, src_ns: str) -> IPv4Address:
    try:
        return address(topo, src, dst)
    except LabError:
        if topo.find_container(dst) is not None:
            raise               # a container without an address: that message says so
    # a network alias or a hostname, as the source's embedded DNS or /etc/hosts would answer
    mine = {a.network for c in topo.containers if c.netns == src_ns for a in c.attachments}
    for c in topo.containers:
        for a in c.attachments:
            if a.network in mine and (dst in a.aliases or dst == c.hostname):
                return a.address.ip
    known = [c.name for c in topo.containers] + [h.name for h in topo.hosts] + ["outside"]
    raise TraceError(f"{dst!r} is not a container, host, address or name in lab {topo.name!r} "
                     f"(it has: {', '.join(known)})")
