"""`outside.routes`: what the LAN's router (the `outside` namespace) is told about container
subnets. Docker's `routed` and `nat-unprotected` gateway modes expect exactly this of the
network around the host ("add a route to the subnet via the host"); a lab says it here."""
from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Network

from ..context import Context, is_addr, listing, mapping
from ..topology import Host, Segment, Underlay


def read_outside_routes(ctx: Context, underlay: Underlay, hosts: Mapping[str, Host],
                        segments: Mapping[str, Mapping[str, Segment]]) -> tuple[tuple[IPv4Network, str], ...]:
    """(destination, host) pairs: `to` is a CIDR or a network's name (its subnet on `via`)."""
    out: list[tuple[IPv4Network, str]] = []
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
        dst = _destination(ctx, to, via, segments.get(via, {}), f"{path}.to")
        if dst is None:
            continue
        if dst.overlaps(underlay.subnet):
            ctx.err(f"{path}.to", f"{dst} overlaps the underlay {underlay.subnet}, which `outside` reaches directly")
        elif any(dst == d for d, _ in out):
            ctx.err(f"{path}.to", f"{dst} already has a route; the outside can send it to one host only")
        else:
            out.append((dst, via))
    return tuple(out)


def _destination(ctx: Context, to: str, via: str, on_host: Mapping[str, Segment], path: str) -> IPv4Network | None:
    if to in on_host:
        return on_host[to].subnet
    if "/" in to or is_addr(to):
        return ctx.net(to, path)
    known = tuple(on_host)
    ctx.err(path, f"{to!r} is neither a CIDR nor a network on host {via!r}{ctx.suggest(to, known)}")
    return None
