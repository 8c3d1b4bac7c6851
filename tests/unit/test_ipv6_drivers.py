"""IPv6 through the overlay driver as Docker builds it: each endpoint's IPv6 address on its
interface, IPv4 alone on the sandbox's br0 and in the peer entries on vxlan0 (moby#47125)."""
from __future__ import annotations

from netlab.model import load_text
from netlab.plan.items import DEFAULT6, Address, Neighbour, Route
from netlab.plan.planner import build_plan

OVERLAY = """
name: b6ovu
engine: "28.5"
hosts: {node1: {}, node2: {}}
networks:
  blue:
    driver: overlay
    enable_ipv6: true
    ipam: {config: [{subnet: 10.0.9.0/24}, {subnet: "2001:db8:9::/64"}]}
containers:
  b1: {host: node1, networks: [blue]}
  b2: {host: node2, networks: [blue]}
"""


def test_overlay_endpoints_get_ipv6_and_the_peers_stay_ipv4():
    topo = load_text(OVERLAY)
    plan = build_plan(topo)
    b1 = topo.container("b1")
    assert Address(b1.netns, "eth0", "2001:db8:9::2/64") in plan.items
    assert not any(isinstance(i, Route) and i.netns == b1.netns and i.dst == DEFAULT6 for i in plan.items)
    neighbours = sorted((i.netns, i.ip) for i in plan.of(Neighbour))
    assert neighbours == [("b6ovu-node1@ov4096", "10.0.9.3"), ("b6ovu-node2@ov4096", "10.0.9.2")]
    sandbox = [i for i in plan.of(Address) if i.netns.endswith("@ov4096")]
    assert sandbox and all(":" not in i.cidr for i in sandbox)
