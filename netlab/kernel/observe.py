"""Read what a lab's namespaces hold now, as plain data for the (pure) diff."""
from __future__ import annotations

from dataclasses import dataclass, field

from .rtnl_dump import RTPROT_KERNEL, Dumper


@dataclass(frozen=True, kw_only=True)
class LinkState:
    kind: str
    mtu: int
    mac: str
    master: str | None
    up: bool
    alias: str | None
    hairpin: bool = False


@dataclass
class NetnsState:
    marked: str | None = None        # lo's ifalias
    links: dict[str, LinkState] = field(default_factory=dict)
    addresses: set[tuple[str, str]] = field(default_factory=set)    # (dev, cidr)
    routes: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # dst -> (gw, dev)


def read_netns(ns: str) -> NetnsState:
    with Dumper(ns) as d:
        links, addresses, routes = d.links(), d.addresses(), d.routes()
    names = {link.index: link.name for link in links}
    state = NetnsState()
    for link in links:
        state.links[link.name] = LinkState(
            kind=link.kind or ("loopback" if link.name == "lo" else "other"), mtu=link.mtu, mac=link.mac,
            master=names.get(link.master) if link.master else None, up=link.up, alias=link.alias,
            hairpin=link.hairpin)
        if link.name == "lo":
            state.marked = link.alias
    state.addresses = {(names.get(a.index), a.cidr) for a in addresses}
    for r in routes:
        if r.protocol != RTPROT_KERNEL:      # subnet routes the kernel adds itself
            state.routes[r.dst] = (r.gateway, names.get(r.oif))
    return state
