"""Read what a lab's namespaces hold now, as plain data for the (pure) diff."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import netns
from .links import Netlink


@dataclass(frozen=True)
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


def read_netns(nl: Netlink, ns: str) -> NetnsState:
    ipr = nl.ipr(ns)
    state = NetnsState()
    names: dict[int, str] = {}
    raw = list(ipr.get_links())
    for msg in raw:
        names[msg["index"]] = msg.get_attr("IFLA_IFNAME")
    for msg in raw:
        name = names[msg["index"]]
        info = msg.get_attr("IFLA_LINKINFO")
        kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
        hairpin = False
        if info is not None and info.get_attr("IFLA_INFO_SLAVE_KIND") == "bridge":
            data = info.get_attr("IFLA_INFO_SLAVE_DATA")
            hairpin = bool(data.get_attr("IFLA_BRPORT_MODE")) if data is not None else False
        master = msg.get_attr("IFLA_MASTER")
        state.links[name] = LinkState(
            kind=kind or ("loopback" if name == "lo" else "other"),
            mtu=msg.get_attr("IFLA_MTU"), mac=msg.get_attr("IFLA_ADDRESS"),
            master=names.get(master) if master else None,
            up=bool(msg["flags"] & 1), alias=msg.get_attr("IFLA_IFALIAS"), hairpin=hairpin)
        if name == "lo":
            state.marked = msg.get_attr("IFLA_IFALIAS")
    for msg in ipr.get_addr(family=2):
        dev = names.get(msg["index"])
        state.addresses.add((dev, f"{msg.get_attr('IFA_ADDRESS')}/{msg['prefixlen']}"))
    for msg in ipr.get_routes(family=2, table=254):
        if msg["proto"] == 2:        # RTPROT_KERNEL: subnet routes the kernel adds itself
            continue
        dst = msg.get_attr("RTA_DST")
        key = "default" if msg["dst_len"] == 0 else f"{dst}/{msg['dst_len']}"
        state.routes[key] = (msg.get_attr("RTA_GATEWAY"), names.get(msg.get_attr("RTA_OIF")))
    return state


def lab_namespaces(lab: str) -> list[str]:
    """Namespaces named like the lab's, whatever their mark (the caller decides)."""
    return [n for n in netns.listed() if n.startswith(f"{lab}-")]


def netns_mark(nl: Netlink, ns: str) -> str | None:
    try:
        msg = nl.ipr(ns).get_links(1)[0]
    except Exception:
        return None
    return msg.get_attr("IFLA_IFALIAS")
