"""Read what the diff needs about VXLAN, macvlan and VLAN links and the overlay's static
neighbour and FDB entries, in the few namespaces that hold them (pyroute2, read only)."""
from __future__ import annotations

import socket
from typing import Any

from .links import NTF_SELF, NUD_PERMANENT, Netlink
from .ops import L2State

KINDS = ("vxlan", "macvlan", "vlan")


def _settings(kind: str, data: Any) -> dict[str, Any]:
    get = data.get_attr if data is not None else (lambda name: None)
    if kind == "vxlan":
        return {"vni": get("IFLA_VXLAN_ID"), "local": get("IFLA_VXLAN_LOCAL"),
                "port": get("IFLA_VXLAN_PORT"), "learning": bool(get("IFLA_VXLAN_LEARNING"))}
    if kind == "macvlan":
        return {"mode": get("IFLA_MACVLAN_MODE")}
    return {"vid": get("IFLA_VLAN_ID")}


def read_l2(nl: Netlink, ns: str) -> L2State:
    """-> ({link: settings}, {(dev, ip, mac)}, {(dev, mac, dst)}), permanent entries only."""
    ipr = nl.ipr(ns)
    names: dict[int, str] = {}
    links: dict[str, dict[str, Any]] = {}
    for msg in ipr.get_links():
        name = msg.get_attr("IFLA_IFNAME")
        names[msg["index"]] = name
        info = msg.get_attr("IFLA_LINKINFO")
        kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
        if kind in KINDS:
            links[name] = _settings(kind, info.get_attr("IFLA_INFO_DATA"))
    neighbours = {(names.get(m["ifindex"]), m.get_attr("NDA_DST"), m.get_attr("NDA_LLADDR"))
                  for family in (socket.AF_INET, socket.AF_INET6)
                  for m in ipr.get_neighbours(family=family) if m["state"] & NUD_PERMANENT}
    # the dump without a device filter: filtered by ifindex, pyroute2 drops NTF_SELF entries
    fdb = {(names.get(m["ifindex"]), m.get_attr("NDA_LLADDR"), m.get_attr("NDA_DST"))
           for m in ipr.fdb("dump") if m["flags"] & NTF_SELF and m["state"] & NUD_PERMANENT
           and m.get_attr("NDA_DST") is not None}
    return links, neighbours, fdb
