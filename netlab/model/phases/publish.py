"""Published ports: host ports of one lab, allocated as dockerd's portallocator does."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from ... import drivers
from ..context import Context, portlike
from ..ports import PROTO_NUMBERS, Port, PortSpecError, daemon_order, parse_port
from ..specs import ContainerSpec
from ..topology import Host, PortBinding, Segment

ANY = IPv4Address("0.0.0.0")
ANY6 = IPv6Address("::")
IP = IPv4Address | IPv6Address
EPHEMERAL = (32768, 60999)          # net.ipv4.ip_local_port_range of a fresh namespace
_Space = tuple[str, IP | None, str]        # (host, host IP, protocol)
_Try = tuple[str, IP, range | None, bool]  # (key path, host IP, host ports to try, IP given)


class PortAllocator:
    """Host ports of one lab: explicit bindings checked for clashes, ephemeral ones handed out
    from the start of ip_local_port_range per (host, host IP, protocol), as portallocator does.
    Each family apart: 0.0.0.0 clashes with every IPv4 address, :: with every IPv6 one."""

    def __init__(self, ctx: Context) -> None:
        """A binding on every address takes its host port on :: too (model/published.py):
        every lab host can listen on IPv6, an IPv4 lab's through its ::1."""
        self.ctx = ctx
        self.owner: dict[tuple[str, IP | None, int, str], str] = {}
        # (host, port, proto) -> host IPs bound: 0.0.0.0 clashes with every IP, and a scan of
        # `owner` per lookup made 10,000 published ports take minutes
        self.ips: dict[tuple[str, int, str], list[IP | None]] = {}
        self.last: dict[_Space, int] = {}
        self.full: set[_Space] = set()     # (host, ip, proto) with no ephemeral port left
        self.failed: set[object] = set()          # what was reported already: one error per spec

    def taken(self, host: str, ip: IP | None, port: int, proto: str) -> str | None:
        ips = self.ips.get((host, port, proto))
        if not ips:
            return None
        if ip is not None and ip.version == 6:
            ips = [i for i in ips if i is not None and i.version == 6]
            unspecified: IP = ANY6
        else:
            ips = [i for i in ips if i is None or i.version == 4]
            unspecified = ANY
        for other in (ip, unspecified) if ip != unspecified else ips[:1]:
            if (host, other, port, proto) in self.owner:
                return self.owner[(host, other, port, proto)]
        return None

    def bind(self, s: ContainerSpec, host: Host, seg: Segment | None, exposed: list[Port],
             publish_all: bool) -> tuple[list[PortBinding], list[Port]]:
        """The container's bindings and exposed ports, both in the order dockerd processes
        them (ports.daemon_order): ephemeral host ports are handed out in that order."""
        wanted: list[tuple[Port, int, _Try]] = []     # (port, host port as requested, what to try)
        for i, spec in enumerate(s.ports):
            path = f"{s.path}.ports[{i}]"
            if not portlike(spec):
                continue            # the schema reported the type
            try:
                req = parse_port(spec)  # type: ignore[arg-type]  # portlike: str or int
            except PortSpecError as e:
                self.ctx.err(path, str(e))
                continue
            ip = req.host_ip or (seg.host_binding_ipv4 if seg else ANY)    # no seg: nothing is bound
            given = req.host_ip is not None
            cports = range(req.container_range[0], req.container_range[1] + 1)
            if req.host_range is None:
                wanted += [((cp, req.proto), 0, (path, ip, None, given)) for cp in cports]
            elif len(cports) == 1:
                lo, hi = req.host_range
                wanted.append(((cports[0], req.proto), lo, (path, ip, range(lo, hi + 1), given)))
            else:
                wanted += [((cp, req.proto), hp, (path, ip, range(hp, hp + 1), given))
                           for hp, cp in zip(range(req.host_range[0], req.host_range[1] + 1), cports)]
        order = daemon_order(exposed, wanted)
        out: list[PortBinding] = []
        if seg is None or seg.internal or not drivers.DRIVERS[seg.driver].publishes_ports:
            return out, [port for port, _ in order]   # no gateway endpoint, or an internal one: Docker maps nothing
        todo = [(port, t) for port, requested in order
                for t in (requested or ([(s.path, seg.host_binding_ipv4, None, False)] if publish_all else []))]
        if host.engine.sorts_port_bindings:
            todo.sort(key=_mapper_order)
        for (cp, proto), (path, ip, tries, given) in todo:
            if seg.gateway_mode == "routed":
                # a routed network's port mapper takes no host port ("host port ignored,
                # because NAT is disabled"): the container port is opened, nothing is bound
                out.append(PortBinding(ip, 0, cp, proto, explicit_ip=given))
                continue
            twin = ip == ANY and not given and (seg.ipv6 or host.daemon.userland_proxy)   # published.ipv6_target
            b = self.allocate(s.name, host, path, ip, tries, cp, proto, given, twin)
            if b is not None:
                out.append(b)
        return out, [port for port, _ in order]

    def allocate(self, name: str, host: Host, path: str, ip: IP,
                 tries: range | None, cp: int, proto: str, given: bool = False,
                 twin: bool = False) -> PortBinding | None:
        """`twin`: the binding's IPv6 twin on :: needs the same host port (the port mapper's
        RequestPortsInRange over both addresses)."""
        ips: tuple[IP, ...] = (ip, ANY6) if twin else (ip,)
        if path in self.failed:
            return None             # reported once; the rest of a failed range adds nothing
        if tries is None:
            return PortBinding(ip, self.ephemeral(host.name, ips, proto, name), cp, proto, explicit_ip=given)
        if len(tries) > 1:
            free = next((p for p in tries if not any(self.taken(host.name, i, p, proto) for i in ips)), None)
            if free is None:
                self.ctx.err(path, f"every host port in {tries[0]}-{tries[-1]}/{proto} "
                                   f"on {' and '.join(_show(i) for i in ips)} is already allocated; widen the range")
                return None
            tries = range(free, free + 1)
        for each in ips:
            who = self.taken(host.name, each, tries[0], proto)
            if who:
                if path not in self.failed:
                    self.failed.add(path)
                    self.ctx.err(path, f"Bind for {_show(each)}:{tries[0]}/{proto} failed: port is already "
                                       f"allocated to {who} on host {host.name!r}; publish another host port")
                return None
        for each in ips:
            self.claim(host.name, each, tries[0], proto, f"container {name!r} ({path})")
        return PortBinding(ip, tries[0], cp, proto, explicit_ip=given)

    def claim(self, host: str, ip: IP | None, port: int, proto: str, who: str) -> None:
        self.owner[(host, ip, port, proto)] = who
        self.ips.setdefault((host, port, proto), []).append(ip)

    def ephemeral(self, host: str, ips: tuple[IP, ...], proto: str, who: str) -> int:
        """The next port after the last one handed out on the first address, free on all."""
        key = (host, ips[0], proto)
        lo, hi = EPHEMERAL
        if key not in self.full:   # nothing is freed while loading: once full, always full
            start = self.last.get(key, lo - 1) + 1
            for step in range(hi - lo + 1):
                p = lo + (start - lo + step) % (hi - lo + 1)
                if not any(self.taken(host, ip, p, proto) for ip in ips):
                    for ip in ips:
                        self.last[(host, ip, proto)] = p
                        self.claim(host, ip, p, proto, f"container {who!r}")
                    return p
            self.full.add(key)
        if (key, who) not in self.failed:
            self.failed.add((key, who))
            self.ctx.err(f"containers.{who}", f"no ephemeral host port left on {ips[0]}/{proto} "
                                            f"(range {lo}-{hi} on host {host!r}); publish fewer ports")
        return 0


def _mapper_order(entry: tuple[Port, _Try]) -> tuple[bool, int, int, int]:
    """28.0's port mapper (sortAndNormPBs) takes exact host ports first, then ephemeral and
    ranged ones, each by container port and protocol: the order host ports are allocated in."""
    (cp, proto), (_, _, tries, _) = entry
    loose = tries is None or len(tries) > 1
    return loose, cp, PROTO_NUMBERS.get(proto, 0), tries[0] if tries else 0


def _show(ip: IP) -> str:
    return f"[{ip}]" if ip.version == 6 else str(ip)
