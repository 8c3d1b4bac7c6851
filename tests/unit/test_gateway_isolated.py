"""Gateway mode `isolated` (28.0): an --internal bridge network with no gateway at all. The
bridge gets no address (setupBridgeIPv4 skips it), containers get no gateway, and the rules
are those of any internal network (moby's iptabler sees the subnet all the same)."""
from __future__ import annotations

import pytest

from netlab.model import load_text
from netlab.plan.firewall.programs import host_ruleset
from netlab.plan.items import Address, Bridge
from netlab.plan.planner import build_plan

LAB = """\
name: h1iso
engine: "{engine}"
networks:
  sealed:
    subnet: 192.168.50.0/24
    internal: true
    driver_opts: {{com.docker.network.bridge.name: br-sealed, com.docker.network.bridge.gateway_mode_ipv4: isolated}}
containers:
  c1:
    networks: [sealed]
"""
CHAIN = {"28.5": "DOCKER-ISOLATION-STAGE-1", "29.7": "DOCKER-INTERNAL"}


@pytest.mark.parametrize("engine", ["28.5", "29.7"])
def test_isolated_bridge_has_no_address_and_no_gateway(engine: str):
    topo = load_text(LAB.format(engine=engine))
    plan = build_plan(topo)
    assert any(b.name == "br-sealed" for b in plan.of(Bridge))
    assert [a for a in plan.of(Address) if a.dev == "br-sealed"] == []
    att = topo.container("c1").attachment("sealed")
    assert att is not None and att.gateway is None
    assert topo.container("c1").gateway_network is None


@pytest.mark.parametrize("engine", ["28.5", "29.7"])
def test_isolated_rules_are_an_internal_networks(engine: str):
    rules = host_ruleset(load_text(LAB.format(engine=engine)), "node1")
    filt = rules.table("filter")
    assert filt is not None
    chain = filt.chain(CHAIN[engine])
    assert chain is not None
    assert [r for r in chain.rules if "br-sealed" in r] == ["! -s 192.168.50.0/24 -o br-sealed -j DROP", "! -d 192.168.50.0/24 -i br-sealed -j DROP"]
    forward = filt.chain("DOCKER-FORWARD")
    assert forward is not None and "-i br-sealed -o br-sealed -j ACCEPT" in forward.rules
    # no direct-access DROP: an internal network's endpoint has none
    assert rules.table("raw") is None


@pytest.mark.parametrize("engine", ["28.5", "29.7"])
def test_isolated_network_reserves_no_gateway_address(engine: str):
    """IPAM allocates no gateway for it (skipGwAllocIPv4), so the first container takes .1."""
    att = load_text(LAB.format(engine=engine)).container("c1").attachment("sealed")
    assert att is not None and str(att.address) == "192.168.50.1/24"
