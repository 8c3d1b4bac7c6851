"""One host's part of a lab (`--host H`) and that part built in the namespace netlab runs
in (`--in-place`: a Vagrant VM's own). Pure: the whole lab's plan, cut and adjusted.

A part holds every item whose namespaces all belong to the host: its own, its containers',
its overlay sandboxes (and, unless in place, `outside` with the host's underlay port). In
place, the VM already has its underlay NIC, address and routes: the lab adds none of those,
only a /32 route per stand-in internet address via the outside VM, and `eth0` in the file
(a lab host's underlay NIC, the default macvlan parent) means the VM's underlay NIC."""
from __future__ import annotations

from dataclasses import fields, replace

from ..errors import LabError
from ..model.topology import Topology
from .items import Address, Bridge, Item, Macvlan, Netns, Route, Veth, Vlan
from .plan import Plan

OUTSIDE = "outside"


def namespaces_of(item: Item) -> set[str]:
    if isinstance(item, Netns):
        return {item.name}
    names = {f.name for f in fields(item)}
    return {getattr(item, n) for n in ("netns", "peer_netns", "parent_netns", "host_netns") if n in names}


def part_namespaces(topo: Topology, plan: Plan, host: str) -> set[str]:
    if host == OUTSIDE:
        return {topo.outside_netns}
    h = topo.host(host)
    mine = {h.netns} | {c.netns for c in topo.containers_on(host)}
    mine |= {i.name for i in plan.of(Netns) if i.role == "overlay" and i.name.startswith(f"{h.netns}@")}
    return mine


def host_part(topo: Topology, plan: Plan, host: str, in_place: bool, nic: str | None = None) -> Plan:
    if host != OUTSIDE and host not in {h.name for h in topo.hosts}:
        raise LabError(f"lab {topo.name!r} has no host {host!r} (hosts: "
                       f"{', '.join(h.name for h in topo.hosts)}, and `outside`)")
    keep = part_namespaces(topo, plan, host)
    if not in_place:
        keep.add(topo.outside_netns)
    out = Plan(plan.lab, notes=list(plan.notes))
    for item in plan.items:
        if namespaces_of(item) <= keep:
            out.add(item)
    if not in_place:
        return out
    assert nic is not None
    return _in_place(topo, plan, out, host, nic)


def _in_place(topo: Topology, whole: Plan, part: Plan, host: str, nic: str) -> Plan:
    here = topo.outside_netns if host == OUTSIDE else topo.host(host).netns
    out = Plan(part.lab, notes=list(part.notes))
    for item in part.items:
        if isinstance(item, Netns) and item.name == here:
            out.add(replace(item, adopted=True))
        elif _vm_has_it(item, here):
            continue
        else:
            out.add(_on_nic(item, here, nic))
    if host != OUTSIDE:
        gateway = str(topo.underlay.gateway)
        for a in whole.of(Address):
            if a.netns == topo.outside_netns and a.dev == "lo":
                out.add(Route(here, a.cidr, gateway, nic))
    return out


def _vm_has_it(item: Item, here: str) -> bool:
    """The VM's own underlay: its NIC and address (a host's eth0, the outside's underlay
    bridge) and its routes, which the lab must neither make nor take away."""
    if getattr(item, "netns", None) != here:
        return False
    if isinstance(item, (Veth, Bridge)) and item.name in ("eth0", "underlay"):
        return True
    if isinstance(item, Address) and item.dev in ("eth0", "underlay"):
        return True
    return isinstance(item, Route) and item.dst == "default"


def _on_nic(item: Item, here: str, nic: str) -> Item:
    def rename(name: str) -> str:
        return nic + name[4:] if name == "eth0" or name.startswith("eth0.") else name

    if isinstance(item, Macvlan) and item.parent_netns == here:
        return replace(item, parent=rename(item.parent),
                       name=rename(item.name) if item.netns == here else item.name)
    if isinstance(item, Vlan) and item.netns == here:
        return replace(item, name=rename(item.name), parent=rename(item.parent))
    return item
