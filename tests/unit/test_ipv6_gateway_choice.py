"""Which endpoint gives a container its default routes and its published ports, and in which
order its networks answer names, when one network is dual-stack: libnetwork ranks dual-stack
endpoints before IPv4-only ones, after internal last and before the network's name. Measured
on real 20.10, 26.1 and 28.5 engines (tests/integration/test_conformance_ipv6.py, a6gw): `aa`
(IPv4 only) sorts first by name, yet `zz` (dual stack) has both default routes, whichever
network the container was started on."""
from __future__ import annotations

import pytest

from netlab.model import load_text
from netlab.plan.dns import lookup_order
from netlab.plan.items import DEFAULT6, Route
from netlab.plan.planner import build_plan

LAB = """
name: gw6
engine: "{engine}"
networks:
  aa: {{}}
  zz:
    enable_ipv6: true
    ipam: {{config: [{{subnet: 10.10.8.0/24}}, {{subnet: "fd00:10:8::/64"}}]}}
  in6:
    internal: true
    enable_ipv6: true
    ipam: {{config: [{{subnet: 10.10.9.0/24}}, {{subnet: "fd00:10:9::/64"}}]}}
containers:
  m1: {{networks: [zz, aa], ports: ["8400:80"]}}
  m2: {{networks: [aa, zz], ports: ["8401:80"]}}
  m3: {{networks: [in6, aa]}}
"""


@pytest.mark.parametrize("engine", ["20.10", "26.1", "28.5", "29.7"])
def test_dual_stack_network_is_the_gateway(engine):
    topo = load_text(LAB.format(engine=engine))
    assert [topo.container(c).gateway_network for c in ("m1", "m2")] == ["zz", "zz"]
    # internal still ranks below: IPv4-only aa beats the internal dual-stack network
    assert topo.container("m3").gateway_network == "aa"


def test_routes_and_ports_follow_it():
    topo = load_text(LAB.format(engine="28.5"))
    plan = build_plan(topo)
    m2 = topo.container("m2")
    routes = {(r.dst, r.gateway, r.dev) for r in plan.of(Route) if r.netns == m2.netns}
    assert ("default", "10.10.8.1", "eth1") in routes
    assert (DEFAULT6, "fd00:10:8::1", "eth1") in routes
    assert {b.host_port for b in m2.ports} == {8401}
    assert m2.attachment("zz").ifname == "eth1"


def test_names_are_looked_up_dual_stack_first():
    topo = load_text(LAB.format(engine="28.5"))
    for c in ("m1", "m2"):
        assert [net for net, _ in lookup_order(topo, topo.container(c))] == ["zz", "aa"]
    assert [net for net, _ in lookup_order(topo, topo.container("m3"))] == ["aa", "in6"]
