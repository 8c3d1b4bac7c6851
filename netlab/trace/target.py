"""SRC and DST as people type them -> the probe: where it is sent from, to which address
and port, with which source address (the one the kernel would pick there)."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address

from ..errors import LabError
from ..model.targets import address, endpoint
from ..model.topology import Topology
from .wiring import IP, Wiring

PROTOS = ("icmp", "tcp", "udp")
FAMILIES = (4, 6)


class TraceError(LabError):
    """A trace cannot be set up as asked."""


@dataclass(frozen=True, kw_only=True)
class Probe:
    src: str                        # as asked
    dst: str
    proto: str
    netns: str                      # sent from here
    owner: str
    dst_ip: IP
    dport: int | None
    src_ip: IP | None               # None: no route from the source
    dst_netns: str | None           # the namespace expected to answer, when known
    family: int = 4                 # 4 or 6: the address family of dst_ip


def dst_name(dst: str) -> str | None:
    """DST's host part when it is a name (not an address): what a by-name trace resolves."""
    host, _ = _split(dst)
    return None if _literal(host) is not None else host


@dataclass(frozen=True)
class Asked:
    """SRC and DST as typed, checked: the probe's protocol, port and family, DST's host part."""

    netns: str
    host: str
    shown: str                      # DST as the trace names it: `web`, `web:80`, `[2001:db8::2]:80`
    proto: str
    port: int | None
    family: int


def asked(topo: Topology, src: str, dst: str, proto: str | None = None, port: int | None = None,
          family: int | None = None) -> Asked:
    if proto is not None and proto not in PROTOS:
        raise TraceError(f"--proto must be one of {', '.join(PROTOS)}, not {proto!r}")
    if family is not None and family not in FAMILIES:
        raise TraceError(f"the address family is 4 or 6, not {family!r}")
    where = endpoint(topo, src)
    if port is not None and not 0 < port < 65536:
        raise TraceError(f"port {port}: a port is a number from 1 to 65535")
    host, named_port = _split(dst)
    if named_port is not None:
        if port is not None and port != named_port:
            raise TraceError(f"{dst!r} names port {named_port} but --port says {port}")
        port = named_port
    literal = _literal(host)
    if literal is not None:
        if family is not None and family != literal.version:
            raise TraceError(f"{host} is an IPv{literal.version} address but -{family} asks for IPv{family}")
        family = literal.version
    proto = proto or ("tcp" if port is not None else "icmp")
    if proto == "icmp" and port is not None:
        raise TraceError("icmp has no ports: use --proto tcp or udp with a port")
    if proto != "icmp" and port is None:
        raise TraceError(f"{proto} needs a destination port: --port N or HOST:PORT")
    shown = host if named_port is None else (f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    return Asked(where.netns, host, shown, proto, port, family or 4)


def resolve(topo: Topology, wiring: Wiring, src: str, dst: str, proto: str | None = None,
            port: int | None = None, family: int | None = None, dst_ip: IP | None = None) -> Probe:
    """`family` 6 (`-6`) traces to a name's IPv6 address; an IPv6 address as DST implies it.
    `dst_ip`: the address DST's name resolved to from SRC (a by-name trace), instead of the
    one the lab's own view gives it."""
    a = asked(topo, src, dst, proto, port, family)
    dst_ip = dst_ip if dst_ip is not None else _address(topo, src, a.host, a.netns, a.family)
    _traceable(dst_ip)
    found = wiring.space(a.netns).route(dst_ip)
    holders = wiring.holders(dst_ip)
    return Probe(src=src, dst=a.shown, proto=a.proto, netns=a.netns,
                 owner=wiring.space(a.netns).owner, dst_ip=dst_ip, dport=a.port,
                 src_ip=found.src if found.kind != "unreachable" else None,
                 dst_netns=holders[0][0] if len(holders) == 1 else None, family=a.family)


def _split(dst: str) -> tuple[str, int | None]:
    """DST as typed -> (host, port): `web`, `web:80`, `10.0.0.2:80`, `2001:db8::2`,
    `[2001:db8::2]:80`."""
    if dst.startswith("["):
        host, sep, rest = dst[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise TraceError(f"{dst!r}: write an IPv6 address with a port as [ADDRESS]:PORT")
        return host, _port(dst, rest[1:]) if rest else None
    if dst.count(":") > 1:
        return dst, None            # an IPv6 address; a port needs the brackets
    host, sep, port = dst.rpartition(":")
    if not sep:
        return dst, None
    if not host:
        raise TraceError(f"{dst!r} names a port but no destination: write CONTAINER:PORT or ADDRESS:PORT")
    return host, _port(dst, port)


def _port(dst: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise TraceError(f"{dst!r}: the port after ':' must be a number from 1 to 65535")
    return int(text)


def _literal(host: str) -> IP | None:
    try:
        return ip_address(host)
    except ValueError:
        if host.count(":") > 1:
            raise TraceError(f"{host!r} is not a valid IPv6 address") from None
        return None


def _traceable(ip: IP) -> None:
    """A trace follows one packet from one namespace to one destination across interfaces."""
    if ip.is_loopback or ip.is_unspecified:
        raise TraceError(f"{ip} never leaves the namespace it is sent in, so there is no path to trace; "
                         "trace to one of the source's own addresses to see local delivery, or "
                         "`netlab exec LAB SRC -- ping` to see that it answers")
    if ip.is_multicast or ip == IPv4Address("255.255.255.255"):
        raise TraceError(f"{ip} is a broadcast or multicast address: a trace follows one packet to one "
                         "destination; name a container, a host or a unicast address")
    if ip.version == 6 and ip.is_link_local:
        raise TraceError(f"{ip} is link-local: it means something only with an interface (`%eth0`), and "
                         "Docker's rules and routes are about global addresses; trace to the container's "
                         "IPv6 address or name with -6")


def _address(topo: Topology, src: str, dst: str, src_ns: str, family: int) -> IP:
    try:
        return address(topo, src, dst, family)
    except LabError:
        if topo.find_container(dst) is not None or any(h.name == dst for h in topo.hosts) or dst == "outside":
            raise               # it exists but has no such address: that message says so
    # a network alias or a hostname, as the source's embedded DNS or /etc/hosts would answer
    mine = {a.network for c in topo.containers if c.netns == src_ns for a in c.attachments}
    for c in topo.containers:
        for a in c.attachments:
            if a.network in mine and (dst in a.aliases or dst == c.hostname):
                if family == 6:
                    if a.address6 is None:
                        raise TraceError(f"{dst!r} (on {a.network}) has no IPv6 address: its network has no "
                                         "enable_ipv6")
                    return a.address6.ip
                return a.address.ip
    known = [c.name for c in topo.containers] + [h.name for h in topo.hosts] + ["outside"]
    raise TraceError(f"{dst!r} is not a container, host, address or name in lab {topo.shown_name!r} "
                     f"(it has: {', '.join(known)})")
