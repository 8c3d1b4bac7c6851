"""Overlay, docker_gwbridge, macvlan and host parts as data: no root, no kernel."""
from __future__ import annotations

import pytest

from netlab.errors import TopologyError
from netlab.model import load_text
from netlab.plan.diff import Observed, diff
from netlab.plan.items import Address, Fdb, Macvlan, Neighbour, Netns, Route, Veth, Vxlan
from netlab.plan.part import host_part
from netlab.plan.planner import build_plan

OVERLAY = """
name: ovt
hosts: {node1: {}, node2: {}}
networks:
  blue: {driver: overlay}
  red: {driver: overlay, internal: true}
  local: {}
containers:
  b1: {host: node1, networks: [blue]}
  b2: {host: node2, networks: [blue]}
  i1: {host: node1, networks: [red]}
  both: {host: node2, networks: [blue, local]}
"""


def test_overlay_vnis_gwbridge_and_gateway_endpoints():
    topo = load_text(OVERLAY)
    seg = {(s.network, s.host): s for s in topo.segments}
    assert (seg[("blue", "node1")].vni, seg[("red", "node1")].vni) == (4096, 4097)
    assert str(seg[("blue", "node1")].subnet) == "10.0.0.0/24" and seg[("blue", "node2")].mtu == 1450
    gwb = seg[("docker_gwbridge", "node1")]
    assert (str(gwb.subnet), gwb.device, gwb.icc, gwb.masquerade) == ("172.18.0.0/16", "docker_gwbridge", False, True)
    # joined the swarm before the first overlay: the user bridge after it takes the next pool
    assert str(seg[("local", "node2")].subnet) == "172.19.0.0/16"
    b1 = topo.container("b1")
    assert [(a.ifname, a.network) for a in b1.attachments] == [("eth0", "blue"), ("eth1", "docker_gwbridge")]
    assert b1.gateway_network == "docker_gwbridge" and b1.attachments[0].gateway is None
    # an internal overlay gets no way out; a bridge endpoint gives the default route instead
    assert [a.network for a in topo.container("i1").attachments] == ["red"]
    assert topo.container("both").gateway_network == "local"
    assert "docker_gwbridge" not in [a.network for a in topo.container("both").attachments]


def test_overlay_plan_has_sandboxes_and_remote_entries_only():
    plan = build_plan(load_text(OVERLAY))
    sandbox = "ovt-node1@ov4096"
    assert Netns(sandbox, "overlay") in plan.items
    vx = plan.get(("link", sandbox, "vxlan0"))
    assert isinstance(vx, Vxlan) and (vx.vni, vx.local, vx.port, vx.learning, vx.host_netns) == \
        (4096, "10.10.101.105", 4789, False, "ovt-node1")
    remote = [i for i in plan.items if isinstance(i, (Neighbour, Fdb)) and i.netns == sandbox]
    assert {(type(i).__name__, getattr(i, "ip", None) or i.dst) for i in remote} == \
        {("Neighbour", "10.0.0.3"), ("Neighbour", "10.0.0.4"), ("Fdb", "10.10.101.106")}
    veth = next(i for i in plan.of(Veth) if i.peer_netns == "ovt-b1" and i.peer_name == "eth0")
    assert (veth.netns, veth.master, veth.mtu) == (sandbox, "br0", 1450)
    # lazily made: no sandbox where no local container joins (red on node2)
    assert plan.get(("netns", "ovt-node2@ov4097")) is None


def test_a_plan_diffed_against_itself_observed_changes_nothing_for_the_entries():
    plan = build_plan(load_text(OVERLAY))
    entries = [i for i in plan.items if isinstance(i, (Neighbour, Fdb))]
    seen = Observed(netns={i.name for i in plan.of(Netns)})
    seen.neighbours = {(i.netns, i.dev, i.ip, i.mac) for i in entries if isinstance(i, Neighbour)}
    seen.fdb = {(i.netns, i.dev, i.mac, i.dst) for i in entries if isinstance(i, Fdb)}
    changes = [c for c in diff(plan, plan, seen) if isinstance(c.item, (Neighbour, Fdb))]
    assert changes == []
    seen.fdb.pop()
    assert [c.action for c in diff(plan, plan, seen) if isinstance(c.item, Fdb)] == ["create"]


def test_host_part_and_in_place():
    topo = load_text(OVERLAY)
    plan = build_plan(topo)
    part = host_part(topo, plan, "node1", in_place=False)
    names = {i.name for i in part.of(Netns)}
    assert names == {"ovt-outside", "ovt-node1", "ovt-node1@ov4096", "ovt-node1@ov4097", "ovt-b1", "ovt-i1"}
    vm = host_part(topo, plan, "node1", in_place=True, nic="eth1")
    here = next(i for i in vm.of(Netns) if i.name == "ovt-node1")
    assert here.adopted and "ovt-outside" not in {i.name for i in vm.of(Netns)}
    # the VM keeps its own NIC, address and default route; the lab adds routes to the stand-ins
    assert not [i for i in vm.items if getattr(i, "netns", None) == "ovt-node1"
                and (isinstance(i, Address) and i.dev == "eth0" or isinstance(i, Route) and i.dst == "default")]
    routes = {(r.dst, r.gateway, r.dev) for r in vm.of(Route) if r.netns == "ovt-node1"}
    assert ("203.0.113.10/32", "10.10.101.254", "eth1") in routes
    outside = host_part(topo, plan, "outside", in_place=True, nic="eth1")
    assert {type(i).__name__ for i in outside.items if getattr(i, "netns", None) == "ovt-outside"} >= {"Address"}
    assert not [i for i in outside.items if getattr(i, "name", None) == "underlay"]


MACVLAN = """
name: mvt
networks:
  lan: {{driver: macvlan, subnet: 10.10.101.0/24, gateway: 10.10.101.254, driver_opts: {{{opts}}}}}
{more}containers:
  m1: {{networks: [lan]}}
{containers}"""


def errors(text: str) -> str:
    with pytest.raises(TopologyError) as e:
        load_text(text)
    return str(e.value)


def test_macvlan_plan_in_place_uses_the_vms_nic():
    topo = load_text(MACVLAN.format(opts="shim: 'true'", more="", containers=""))
    plan = build_plan(topo)
    m1 = plan.get(("link", "mvt-m1", "eth0"))
    assert isinstance(m1, Macvlan) and (m1.parent_netns, m1.parent, m1.mode) == ("mvt-node1", "eth0", "bridge")
    # the underlay's own addresses are never handed out; the shim takes a free one outside them
    assert str(topo.container("m1").attachments[0].address) == "10.10.101.1/24"
    vm = host_part(topo, plan, "node1", in_place=True, nic="ens6")
    assert {i.parent for i in vm.of(Macvlan)} == {"ens6"}


@pytest.mark.parametrize("opts, more, containers, message", [
    ("macvlan_mode: passthru", "", "  m2: {networks: [lan]}\n", "'m1' has it"),
    ("parent: lo", "", "", "loopback interface is not a valid macvlan parent link"),
    ("parent: eth7", "", "", "-o parent interface does was not found on the host: eth7"),
    ("parent: eth0.x", "", "", "invalid subinterface vlan name eth0.x, example formatting is eth0.10"),
    ("macvlan_mode: passthru, shim: 'true'", "", "", "passthru mode allows only one"),
    ("parent: eth0", "  lan2: {driver: macvlan, subnet: 192.168.7.0/24}\n", "",
     "is already using parent interface eth0"),
])
def test_docker_refusals_are_reported_on_the_file(opts, more, containers, message):
    text = MACVLAN.format(opts=opts, more=more, containers=containers)
    assert message in errors(text)


def test_one_subnet_on_the_shared_underlay_cannot_hand_one_address_to_two_hosts():
    text = """
name: mvd
hosts: {node1: {}, node2: {}}
networks:
  lan: {driver: macvlan, subnet: 10.10.101.0/24, gateway: 10.10.101.254}
containers:
  a: {host: node1, networks: [lan]}
  b: {host: node2, networks: [lan]}
"""
    assert "10.10.101.1 is also 'a''s on host 'node1'" in errors(text)
