"""`outside.routes`: what the LAN's router (the `outside` namespace) is told about container
subnets. Docker's `routed` and `nat-unprotected` gateway modes expect exactly this of the
network around the host ("add a route to the subnet via the host"); a lab says it here. An
IPv6 destination goes via the host's IPv6 LAN address; a dual-stack network's name routes
both of its subnets."""
from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network

from ..context import Context, is_addr, is_addr6, listing, mapping
from ..topology import Host, Segment, Underlay

Dst = IPv4Network | IPv6Network


def read_outside_routes(ctx: Context, underlay: Underlay, hosts: Mapping[str, Host],
                        segments: Mapping[str, Mapping[str, Segment]]) -> tuple[tuple[Dst, str], ...]:
    """(destination, host) pairs: `to` is a CIDR or a network's name (its subnets on `via`)."""
    out: list[tuple[Dst, str]] = []
    for i, raw in enumerate(listing(mapping(ctx.data.get("outside")).get("routes"))):
        path = f"outside.routes[{i}]"
        raw = mapping(raw)
        via, to = raw.get("via"), raw.get("to")
        if not isinstance(via, str) or not isinstance(to, str):
            ctx.err(path, "a route needs `to:` (a CIDR or a network name) and `via:` (a host name)")
            continue
        if via not in hosts:
            ctx.err(f"{path}.via", f"unknown host {via!r}{ctx.suggest(via, hosts)}")
            continue
        for dst in _destinations(ctx, to, via, segments.get(via, {}), underlay, f"{path}.to"):
            lan = underlay.subnet if dst.version == 4 else underlay.subnet6
            if lan is not None and dst.overlaps(lan):
                ctx.err(f"{path}.to", f"{dst} overlaps the underlay {lan}, which `outside` reaches directly")
            elif any(dst == d for d, _ in out):
                ctx.err(f"{path}.to", f"{dst} already has a route; the outside can send it to one host only")
            else:
                out.append((dst, via))
    return tuple(out)


def _destinations(ctx: Context, to: str, via: str, on_host: Mapping[str, Segment], underlay: Underlay,
                  path: str) -> list[Dst]:
    if to in on_host:
        seg = on_host[to]
        return [seg.subnet] + ([seg.subnet6] if seg.subnet6 is not None and underlay.subnet6 else [])
    if ":" in to and ("/" in to or is_addr6(to)):
        if underlay.subnet6 is None:
            ctx.err(path, f"{to} is IPv6, but the lab has no IPv6 (no network with enable_ipv6, no "
                          "daemon with ipv6: true), so neither has its LAN")
            return []
        net6 = ctx.net6(to, path)
        return [net6] if net6 is not None else []
    if "/" in to or is_addr(to):
        net = ctx.net(to, path)
        return [net] if net is not None else []
    known = tuple(on_host)
    ctx.err(path, f"{to!r} is neither a CIDR nor a network on host {via!r}{ctx.suggest(to, known)}")
    return []
