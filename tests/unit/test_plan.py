"""Planning and diffing are pure: a topology gives the same items every time, and the diff
against an observation asks for exactly the missing or different ones."""
from __future__ import annotations

import pytest

from netlab.model import load_text
from netlab.plan.diff import LinkView, Observed, canonical_iptables, diff
from netlab.plan.items import (
    DNS_ITEMS,
    Address,
    Bridge,
    EtcFile,
    Firewall,
    Netns,
    Process,
    Proxy,
    Route,
    Sysctl,
    Uts,
    Veth,
)
from netlab.plan.plan import Plan, PlanConflict
from netlab.plan.planner import build_plan

LAB = """
name: pl
networks: {u: {subnet: 10.9.0.0/24}}
containers:
  a: {networks: [u], command: "sleep 100"}
  b: {ports: ["8080:80"]}
  s: {network_mode: "container:a"}
  n: {network_mode: none}
  h: {network_mode: host, ports: ["9000:9000"]}
"""


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_text(LAB))


def test_plan_is_deterministic(plan):
    again = build_plan(load_text(LAB))
    assert plan.items == again.items


def test_plan_round_trips_through_json(plan):
    assert Plan.from_json(plan.to_json()).items == plan.items


def test_namespaces_per_mode(plan):
    names = {i.name: i.role for i in plan.of(Netns)}
    assert names == {"pl-outside": "outside", "pl-node1": "host", "pl-a": "container",
                     "pl-b": "container", "pl-n": "container"}   # s shares a, h uses node1


def test_underlay_and_host(plan):
    assert Veth(netns="pl-outside", name="u-node1", peer_netns="pl-node1", peer_name="eth0", mtu=1500, master="underlay",
                peer_mac=plan.get(("link", "pl-outside", "u-node1")).peer_mac) in plan.items
    assert Address("pl-node1", "eth0", "10.10.101.105/24") in plan.items
    assert Route("pl-node1", "default", "10.10.101.254", "eth0") in plan.items
    assert Address("pl-outside", "lo", "203.0.113.10/32") in plan.items


def test_endpoints(plan):
    veths = [v for v in plan.of(Veth) if v.peer_netns == "pl-a"]
    assert len(veths) == 1
    v = veths[0]
    assert (v.netns, v.peer_name, v.master, v.peer_mac) == ("pl-node1", "eth0", plan.get(
        ("link", "pl-node1", v.master)).name, "02:42:0a:09:00:02")
    assert v.name.startswith("veth") and len(v.name) == 11
    assert Address("pl-a", "eth0", "10.9.0.2/24") in plan.items
    assert Route("pl-a", "default", "10.9.0.1", "eth0") in plan.items
    assert not [i for i in plan.items if getattr(i, "netns", None) == "pl-n" and isinstance(i, (Veth, Route))]
    assert Sysctl("pl-n", "net/ipv6/conf/all/disable_ipv6", "1") in plan.items


def test_bridges(plan):
    bridges = {b.name for b in plan.of(Bridge) if b.netns == "pl-node1"}
    assert "docker0" in bridges and any(b.startswith("br-") and len(b) == 15 for b in bridges)
    assert Address("pl-node1", "docker0", "172.17.0.1/16") in plan.items


def test_processes_proxies_and_notes(plan):
    assert Process("pl-a", "a", "sleep 100") in plan.items
    assert Proxy(netns="pl-node1", proto="tcp", host_ip="0.0.0.0", host_port=8080, container_ip="172.17.0.2", container_port=80) in plan.items
    assert any("host network mode" in n for n in plan.notes)


def test_files(plan):
    resolv = {(i.netns, i.name): i.content for i in plan.of(EtcFile)}
    assert resolv[("pl-a", "resolv.conf")] == "nameserver 127.0.0.11\noptions ndots:0\n"
    assert "nameserver 203.0.113.53" in resolv[("pl-b", "resolv.conf")]
    assert resolv[("pl-b", "hosts")].endswith(f"172.17.0.2\t{load_text(LAB).container('b').hostname}\n")


def test_conflicting_specs_for_one_key_are_a_bug():
    p = Plan("x")
    p.add(Address("n", "eth0", "10.0.0.1/24"))
    p.add(Address("n", "eth0", "10.0.0.1/24"))
    p.add(Route("n", "default", "10.0.0.254", "eth0"))
    with pytest.raises(PlanConflict):
        p.add(Route("n", "default", "10.0.0.253", "eth0"))


def _observed_from(plan: Plan) -> Observed:
    """What the kernel would hold if the plan had been applied exactly."""
    seen = Observed(machine_uts=("vm", "(none)"))
    seen.netns = {i.name for i in plan.of(Netns)}
    for i in plan.items:
        if isinstance(i, Bridge):
            seen.links[(i.netns, i.name)] = LinkView(kind="bridge", mtu=i.mtu or 1500, mac=i.mac, master=None, up=True)
        elif isinstance(i, Veth):
            seen.links[(i.netns, i.name)] = LinkView(kind="veth", mtu=i.mtu, mac="x", master=i.master, up=True, hairpin=i.hairpin)
            seen.links[(i.peer_netns, i.peer_name)] = LinkView(kind="veth", mtu=i.mtu, mac=i.peer_mac, master=None, up=True)
        elif isinstance(i, Address):
            seen.addresses.add((i.netns, i.dev, i.cidr))
        elif isinstance(i, Route):
            seen.routes[(i.netns, i.dst)] = (i.gateway, i.dev)
        elif isinstance(i, Sysctl):
            seen.sysctls[(i.netns, i.path)] = i.value
        elif isinstance(i, Firewall):
            seen.firewall[i.netns] = canonical_iptables(i.text)
        elif isinstance(i, EtcFile):
            seen.etc[(i.netns, i.name)] = i.content
        elif isinstance(i, Uts):
            seen.uts[i.name] = (i.hostname if i.hostname is not None else "vm", i.domainname or "(none)")
        elif isinstance(i, Process):
            seen.processes[i.name] = (i.netns, i.command, True)
        elif isinstance(i, Proxy):
            seen.proxies.add(i.key)
        elif isinstance(i, DNS_ITEMS):
            seen.dns[i.key] = i.digest
    return seen


def test_nothing_to_do_when_all_is_there(plan):
    assert diff(plan, plan, _observed_from(plan)) == []


def test_fresh_lab_creates_everything_namespaces_first(plan):
    changes = diff(plan, None, Observed())
    assert {c.action for c in changes} == {"create"}
    assert len(changes) == len(plan.items)
    kinds = [c.item.kind for c in changes]
    assert kinds[:5] == ["netns"] * 5 and kinds.index("veth") > kinds.index("bridge")


def test_a_veth_end_that_outlived_its_peers_namespace_is_rebuilt(plan):
    # the container's namespace was deleted by hand while a socket kept it (and the peer) alive:
    # the host's end is still there, so the pair is recreated rather than created over it
    veth = next(iter(plan.of(Veth)))
    seen = _observed_from(plan)
    seen.netns.discard(veth.peer_netns)
    seen.links = {k: v for k, v in seen.links.items() if k[0] != veth.peer_netns}
    actions = {(c.action, c.item.kind) for c in diff(plan, plan, seen) if c.item == veth or c.item.kind == "netns"}
    assert actions == {("create", "netns"), ("recreate", "veth")}


def test_drift_is_named_item_by_item(plan):
    seen = _observed_from(plan)
    veth = next(v for v in plan.of(Veth) if v.peer_netns == "pl-b")
    del seen.links[(veth.netns, veth.name)]
    seen.addresses.discard(("pl-a", "eth0", "10.9.0.2/24"))
    seen.addresses.add(("pl-a", "eth0", "10.9.0.99/24"))
    seen.firewall["pl-node1"] = "*filter\n:FORWARD ACCEPT\nCOMMIT"
    seen.processes["a"] = ("pl-a", "sleep 100", False)
    got = {(c.action, c.item.kind, getattr(c.item, "cidr", getattr(c.item, "name", ""))) for c in
           diff(plan, plan, seen)}
    assert got == {("create", "veth", veth.name), ("create", "address", "10.9.0.2/24"),
                   ("delete", "address", "10.9.0.99/24"), ("update", "firewall", ""),
                   ("recreate", "process", "a")}


def test_removed_container_is_deleted_with_its_namespace_only(plan):
    smaller = build_plan(load_text(LAB.replace('  n: {network_mode: none}\n', '')))
    changes = diff(smaller, plan, _observed_from(plan))
    assert [(c.action, c.item.kind, c.item.name) for c in changes if c.action == "delete"] == \
        [("delete", "uts", "pl-n"), ("delete", "netns", "pl-n")]


def test_canonical_iptables_treats_an_empty_table_as_absent():
    empty = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
    nat = "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j X\nCOMMIT\n"
    assert canonical_iptables(empty + nat) == canonical_iptables(nat)
    assert canonical_iptables(empty.replace("FORWARD ACCEPT", "FORWARD DROP")) != ""


def test_canonical_iptables_ignores_counters_comments_and_other_tables():
    text = ("# Generated by iptables-save\n*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"
            "*nat\n:PREROUTING ACCEPT [12:720]\n-A PREROUTING -j DOCKER\nCOMMIT\n# Completed\n")
    assert canonical_iptables(text) == "*nat\n:PREROUTING ACCEPT\n-A PREROUTING -j DOCKER\nCOMMIT"
