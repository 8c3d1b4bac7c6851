"""The bridge driver: docker0 and user-defined bridges, one veth per endpoint."""
from __future__ import annotations

from ..plan.items import Address, Bridge, Veth
from ..plan.plan import Plan
from ..model import naming
from ..model.topology import Attachment, Container, Segment, Topology


def bridge_mac(topo: Topology, seg: Segment) -> str:
    """dockerd gives its bridges a random 02:42 MAC; ours is derived so reruns keep it."""
    h = naming.digest(topo.name, "bridge-mac", seg.host, seg.network)
    return "02:42:" + ":".join(h[i:i + 2] for i in range(0, 8, 2))


def plan_segment(plan: Plan, topo: Topology, seg: Segment) -> None:
    ns = topo.host(seg.host).netns
    plan.add(Bridge(ns, seg.device, bridge_mac(topo, seg)))
    if seg.option("com.docker.network.bridge.inhibit_ipv4") not in ("true", "1", "True", "t"):
        plan.add(Address(ns, seg.device, f"{seg.gateway}/{seg.subnet.prefixlen}"))


def plan_endpoint(plan: Plan, topo: Topology, c: Container, att: Attachment, hairpin: bool) -> None:
    host_ns = topo.host(c.host).netns
    plan.add(Veth(host_ns, att.host_ifname, c.netns, att.ifname, mtu=att.mtu, master=att.device,
                  peer_mac=att.mac, hairpin=hairpin))
    plan.add(Address(c.netns, att.ifname, str(att.address)))
