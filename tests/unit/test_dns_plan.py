"""The embedded DNS as plan data: who gets a resolver, its ports and nat rules, and the names
each network serves (Docker 20.10 §2 and §5). Pure: no root."""
from __future__ import annotations

import pytest

from netlab.model import load_text
from netlab.plan.diff import Observed, diff
from netlab.plan.dns import resolver_ports, resolver_rules
from netlab.plan.items import DnsNames, Firewall, Resolver, StandinDNS
from netlab.plan.plan import Plan
from netlab.plan.planner import build_plan

LAB = """
name: dp
networks:
  u: {subnet: 10.9.0.0/24}
  v: {}
  hidden: {internal: true}
containers:
  a: {networks: {u: {aliases: [db, shared]}, v: {}, hidden: {}}, links: ["b:bee"]}
  b: {networks: {u: {aliases: [shared]}}, hostname: bhost}
  c: {}
  d: {networks: [bridge, v]}
  s: {network_mode: "container:a"}
  h: {network_mode: host}
  n: {network_mode: none}
"""


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_text(LAB))


def by_key(plan, kind):
    return {i.key[1:] if len(i.key) > 2 else i.key[1]: i for i in plan.of(kind)}


def test_resolvers_only_off_the_default_bridge(plan):
    # c: default bridge only; s shares a's; h uses the host's; n has no network
    assert set(by_key(plan, Resolver)) == {"dp-a", "dp-b", "dp-d"}


def test_ports_are_stable_distinct_and_ephemeral():
    for name in ("a", "b", "web", "x" * 63):
        udp, tcp = resolver_ports("lab", name)
        assert udp != tcp
        assert 32768 <= udp <= 60999 and 32768 <= tcp <= 60999
        assert resolver_ports("lab", name) == (udp, tcp)
    assert resolver_ports("lab", "a") != resolver_ports("lab2", "a")


def test_nat_rules_are_dockers():
    # as `iptables-save` showed them in a container of a real Docker 20.10 (reference §5)
    assert resolver_rules(58304, 44387) == (
        "*nat\n"
        ":PREROUTING ACCEPT [0:0]\n"
        ":INPUT ACCEPT [0:0]\n"
        ":OUTPUT ACCEPT [0:0]\n"
        ":POSTROUTING ACCEPT [0:0]\n"
        ":DOCKER_OUTPUT - [0:0]\n"
        ":DOCKER_POSTROUTING - [0:0]\n"
        "-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT\n"
        "-A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING\n"
        "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.11:44387\n"
        "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:58304\n"
        "-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p tcp -m tcp --sport 44387 -j SNAT --to-source :53\n"
        "-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp -m udp --sport 58304 -j SNAT --to-source :53\n"
        "COMMIT\n")


def test_each_resolver_namespace_gets_its_rules(plan):
    for r in plan.of(Resolver):
        fw = plan.get(("firewall", r.netns))
        assert isinstance(fw, Firewall)
        assert fw.text == resolver_rules(r.udp_port, r.tcp_port)
    assert plan.get(("firewall", "dp-c")) is None


def test_lookup_order_links_and_upstreams(plan):
    a = plan.get(("resolver", "dp-a"))
    # endpoint.Less: non-internal first, then network name
    assert [n for n, _ in a.networks] == ["u", "v", "hidden"]
    assert a.networks[0] == ("u", "u@node1")
    assert a.links == (("bee", "b"),)
    assert a.upstreams == (("203.0.113.53", "dp-a"),)         # asked from the container's namespace
    assert not a.ndots_set
    d = plan.get(("resolver", "dp-d"))
    assert d.networks == (("v", "v@node1"),)   # the default bridge has no names to look up


def test_name_tables(plan):
    u = plan.get(("dnsnames", "u@node1"))
    topo = load_text(LAB)
    a, b = topo.container("a"), topo.container("b")
    names = dict(u.names)
    assert names["a"] == ("10.9.0.2",) and names["db"] == ("10.9.0.2",)
    assert names["shared"] == ("10.9.0.2", "10.9.0.3")      # one alias, two containers
    assert names[a.short_id] == ("10.9.0.2",)
    assert names["bhost"] == ("10.9.0.3",)                  # a hostname that is not the name
    assert a.short_id in names and b.short_id in names
    assert "c" not in names and "d" not in names and "bee" not in names
    assert u.reverse == (("10.9.0.2", "a"), ("10.9.0.3", "b"))
    assert plan.get(("dnsnames", "bridge@node1")) is None
    assert set(dict(plan.get(("dnsnames", "v@node1")).names)) == {
        "a", a.short_id, "d", topo.container("d").short_id}


def test_names_are_case_insensitive_keys():
    plan = build_plan(load_text("name: dq\nnetworks: {n: {}}\ncontainers:\n  Web: {networks: {n: {aliases: [API]}}}\n"))
    names = dict(plan.get(("dnsnames", "n@node1")).names)
    assert names["web"] == names["api"] == ("172.18.0.2",)


def test_ndots_and_dns_daemon_options():
    plan = build_plan(load_text(
        "name: dr\nhosts:\n  node1:\n    daemon: {dns: [198.51.100.53], dns-opts: ['ndots:2']}\n"
        "networks: {n: {}}\ncontainers:\n  a: {networks: [n]}\n"))
    r = plan.get(("resolver", "dr-a"))
    assert r.upstreams == (("198.51.100.53", "dr-a"),) and r.ndots_set


def test_a_loopback_upstream_is_asked_from_the_host():
    plan = build_plan(load_text(
        "name: ds\nhosts:\n  node1:\n    daemon: {dns: [127.0.0.53, 192.0.2.53, 192.0.2.54, 192.0.2.55]}\n"
        "networks: {n: {}}\ncontainers:\n  a: {networks: [n]}\n"))
    assert plan.get(("resolver", "ds-a")).upstreams == (
        ("127.0.0.53", "ds-node1"), ("192.0.2.53", "ds-a"), ("192.0.2.54", "ds-a"))   # the first three


def test_standin_upstream_in_outside(plan):
    assert plan.get(("standin_dns", "dp-outside", "203.0.113.53")) == StandinDNS("dp-outside", "203.0.113.53")


def test_dns_items_round_trip_through_json(plan):
    again = Plan.from_json(plan.to_json())
    for kind in (Resolver, DnsNames, StandinDNS):
        assert again.of(kind) == plan.of(kind)
        assert [i.digest for i in again.of(kind)] == [i.digest for i in plan.of(kind)]


def test_diff_asks_the_agent_for_what_it_does_not_serve(plan):
    served = {i.key: i.digest for kind in (Resolver, DnsNames, StandinDNS) for i in plan.of(kind)}
    seen = Observed(dns=served)
    dns_changes = lambda changes: [c for c in changes if isinstance(c.item, (Resolver, DnsNames, StandinDNS))]
    # everything else is missing in this observation; only the DNS part is looked at
    assert dns_changes(diff(plan, plan, _all_there(plan, seen))) == []
    stale = dict(served)
    stale[("dnsnames", "u@node1")] = "0" * 16
    del stale[("resolver", "dp-b")]
    changes = {(c.action, c.item.key) for c in dns_changes(diff(plan, plan, _all_there(plan, Observed(dns=stale))))}
    assert changes == {("update", ("dnsnames", "u@node1")), ("create", ("resolver", "dp-b"))}


def _all_there(plan, seen: Observed) -> Observed:
    from netlab.plan.items import Netns
    seen.netns = {n.name for n in plan.of(Netns)}
    return seen
