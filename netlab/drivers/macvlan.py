"""The macvlan driver (20.10 drivers/macvlan, §6.1): per container a macvlan on the
parent, made in the host namespace and moved into the container as ethN; an 802.1q link
when the parent is `<if>.<vid>`; no host rules. With `shim: "true"`, the host-side macvlan
and route people add by hand so the host reaches its own macvlan containers."""
from __future__ import annotations

from ipaddress import IPv4Address

from ..plan.items import Address, Macvlan, Route, Vlan
from ..plan.plan import Plan
from ..model import naming
from ..model.macvlan import split_parent, wants_shim
from ..model.topology import Attachment, Container, Host, Segment, Topology


def plan_segment(plan: Plan, topo: Topology, seg: Segment) -> None:
    ns = topo.host(seg.host).netns
    base, vid = split_parent(seg.device) or (seg.device, None)
    if vid is not None:
        plan.add(Vlan(ns, seg.device, base, vid))
    if wants_shim(seg):
        address = shim_addresses(topo).get((seg.network, seg.host))
        if address is None:
            plan.notes.append(f"{seg.host}: no free address in {seg.subnet} for the shim of {seg.network}")
            return
        if seg.macvlan_mode != "bridge":
            plan.notes.append(f"{seg.host}: the shim of {seg.network} is a bridge-mode macvlan, and only "
                              f"bridge-mode macvlans talk to each other: with {seg.macvlan_mode} mode the "
                              "host still cannot reach its containers")
        name = naming.macvlan_shim(topo.name, seg.host, seg.network)
        plan.add(Macvlan(ns, name, ns, seg.device, "bridge", mtu=seg.mtu))
        plan.add(Address(ns, name, f"{address}/32"))
        for dst in shim_routes(topo, seg):
            plan.add(Route(ns, dst, None, name))


def plan_endpoint(plan: Plan, topo: Topology, c: Container, att: Attachment, hairpin: bool) -> None:
    seg = topo.segment(att.network, c.host)
    plan.add(Macvlan(c.netns, att.ifname, topo.host(c.host).netns, seg.device, seg.macvlan_mode,
                     mac=att.mac, mtu=att.mtu))
    plan.add(Address(c.netns, att.ifname, str(att.address)))


def nic_mac(topo: Topology, host: Host) -> str | None:
    """A passthru macvlan takes its parent over: Docker sets the container's MAC on it, which
    the kernel writes through to the parent. When that parent is eth0, eth0 wears it."""
    for c in topo.containers_on(host.name):
        for a in c.attachments:
            seg = topo.segment(a.network, host.name)
            if seg.driver == "macvlan" and seg.macvlan_mode == "passthru" and seg.device == "eth0":
                return a.mac
    return None


def shim_routes(topo: Topology, seg: Segment) -> list[str]:
    """The ip_range, as people route it; without one a /32 per local container, since the
    whole subnet may be the underlay's and its route must stay on eth0."""
    if seg.ip_range is not None and seg.ip_range != topo.underlay.subnet:
        return [str(seg.ip_range)]
    return [f"{a.address.ip}/32" for c in topo.containers_on(seg.host)
            for a in c.attachments if a.network == seg.network]


def shim_addresses(topo: Topology) -> dict[tuple[str, str], IPv4Address]:
    """(network, host) -> the shim's address: the highest one of the subnet that nothing
    else in the lab holds, outside the ip_range (so IPAM never hands it out), hosts in order."""
    used = {topo.underlay.gateway, *(h.address for h in topo.hosts)}
    used |= {a.address.ip for c in topo.containers for a in c.attachments}
    used |= {s.gateway for s in topo.segments}
    out: dict[tuple[str, str], IPv4Address] = {}
    for seg in topo.segments:
        if seg.driver != "macvlan" or not wants_shim(seg):
            continue
        for value in range(int(seg.subnet.broadcast_address) - 1, int(seg.subnet.network_address), -1):
            a = IPv4Address(value)
            if a not in used and not (seg.ip_range and a in seg.ip_range):
                out[(seg.network, seg.host)] = a
                used.add(a)
                break
    return out
