"""Docker 29.7's nftables program beyond the one-network goldens: the table builder's order
rules (plan/firewall/nft/table.py), and what a lab's host gets (docker29.py)."""
from __future__ import annotations

import textwrap

import pytest

from netlab.model import load_text
from netlab.plan.firewall.nft.docker29 import host_nftables, host_sysctls, host_tables
from netlab.plan.firewall.nft.model import NftRule, NftTable
from netlab.plan.firewall.nft.table import Chain, Map, MapElement, Modifier, Rule, RuleExists, TableState
from netlab.plan.items import Firewall, NftRuleset
from netlab.plan.planner import build_plan


def _apply(t: TableState, *objs) -> None:
    tm = Modifier()
    for o in objs:
        tm.create(o)
    t.apply(tm)


def test_chains_of_one_apply_are_made_in_name_order_after_earlier_ones():
    t = TableState("ip", "x")
    _apply(t, Chain("zeta"), Chain("alpha"))
    _apply(t, Chain("b2"), Chain("a1"), Rule("a1", 0, NftRule("accept")))
    assert [c.name for c in t.table().chains] == ["alpha", "zeta", "a1", "b2"]


def test_rules_are_listed_by_group_then_by_age():
    t = TableState("ip", "x")
    _apply(t, Chain("c"), Rule("c", 5, NftRule("drop")), Rule("c", 0, NftRule("a")))
    _apply(t, Rule("c", 3, NftRule("b")), Rule("c", 0, NftRule("a2")))
    assert [r.text for r in t.table().chains[0].rules] == ["a", "a2", "b", "drop"]


def test_a_rule_twice_is_refused_unless_ignored():
    t = TableState("ip", "x")
    _apply(t, Chain("c"), Rule("c", 1, NftRule("accept")))
    _apply(t, Rule("c", 1, NftRule("accept"), ignore_exist=True))
    assert len(t.table().chains[0].rules) == 1
    with pytest.raises(RuleExists):
        _apply(t, Rule("c", 1, NftRule("accept")))


def test_map_elements_in_nfts_order():
    t = TableState("ip", "x")
    _apply(t, Map("m", "ifname : verdict"), Chain("c"))
    for name in ("br-bbbbbbbbbbbb", "docker0", "br-aaaaaaaaaaab", "br-aaaaaaaaaaba"):
        _apply(t, MapElement("m", f'"{name}"', "jump c"))
    assert [k for k, _ in t.table().maps[0].elements] == [
        '"docker0"', '"br-aaaaaaaaaaba"', '"br-aaaaaaaaaaab"', '"br-bbbbbbbbbbbb"']


def _lab(text: str):
    return load_text(textwrap.dedent(text))


TWO = """\
    name: h2t
    engine: "29.7-nftables"
    hosts:
      node1: {daemon: {userland-proxy: false}}
    networks:
      zz: {}
      aa: {driver_opts: {com.docker.network.bridge.gateway_mode_ipv4: routed}}
    containers:
      c1: {networks: [zz], ports: ["8080:80"]}
      c2: {networks: [aa], ports: ["127.0.0.1:8081:80"]}
"""


def _ip(topo) -> NftTable:
    return host_tables(topo, "node1")[0]


def test_networks_chains_follow_in_creation_order():
    topo = _lab(TWO)
    zz, aa = (topo.segment(n, "node1").device for n in ("zz", "aa"))
    chains = [c.name for c in _ip(topo).chains]
    assert chains[6:] == [f"{k}__{br}" for br in ("docker0", zz, aa) for k in (
        "filter-forward-in", "filter-forward-out", "nat-postrouting-in", "nat-postrouting-out")]


def test_a_routed_network_opens_the_port_but_maps_no_host_port():
    topo = _lab(TWO)
    aa = topo.segment("aa", "node1").device
    t = _ip(topo)
    dnat = [r.line for r in t.chain("nat-prerouting-and-output").rules]
    assert len(dnat) == 1 and "dport 8080" in dnat[0]          # c1's only; c2's 8081 is not NATed
    fwd = [r.text for r in t.chain(f"filter-forward-in__{aa}").rules]
    assert "ip daddr 172.19.0.2 tcp dport 80 counter packets 0 bytes 0 accept" in fwd
    assert 'ip protocol icmp counter packets 0 bytes 0 accept' in fwd
    raw = [r.comment for r in t.chain("raw-PREROUTING").rules]
    assert raw == ["DROP DIRECT ACCESS"]                      # c1's; none for routed c2, no loopback drop


def test_no_iptables_at_all_and_ip_forward_from_the_lab():
    topo = _lab(TWO)
    plan = build_plan(topo)
    fw = [i for i in plan.of(Firewall) if i.netns == topo.host("node1").netns]
    assert [i.text for i in fw] == [""]
    nft = plan.of(NftRuleset)
    assert any(i.text == host_nftables(topo, "node1") and i.tables() == ("ip docker-bridges", "ip6 docker-bridges")
               for i in nft)
    sysctls = host_sysctls(topo, "node1")
    assert sysctls[0] == ("net/ipv4/ip_forward", "1")
    assert ("net/bridge/bridge-nf-call-iptables", "1") in sysctls      # the proxy is off
    assert ("net/ipv4/conf/docker0/route_localnet", "1") in sysctls


def test_ip_forward_off_iptables_off_ip6tables_off():
    base = "name: h2u\nengine: \"29.7-nftables\"\nhosts:\n  node1: {daemon: {%s}}\ncontainers:\n  c: {}\n"
    off = load_text(base % "ip-forward: false, icc: false")
    assert ("net/ipv4/ip_forward", "1") not in host_sysctls(off, "node1")
    assert ("net/bridge/bridge-nf-call-iptables", "1") not in host_sysctls(off, "node1")
    assert host_nftables(load_text(base % "iptables: false"), "node1") == ""
    assert [t.label for t in host_tables(load_text(base % "ip6tables: false"), "node1")] == ["ip docker-bridges"]


def test_legacy_links_come_before_icc_in_docker0s_chain():
    """db's exposed ports in dockerd 29's order: the published one, then the others, each
    by the API's key ("53/udp" < "5432/tcp")."""
    topo = _lab("""\
        name: h2l
        engine: "29.7-nftables"
        hosts:
          node1: {daemon: {icc: false}}
        containers:
          db: {expose: [5432, 53/udp], ports: ["7000:7000"]}
          app: {links: [db]}
    """)
    rules = [r.line for r in _ip(topo).chain("filter-forward-in__docker0").rules]
    assert rules[1:8] == [
        "ip saddr 172.17.0.3 ip daddr 172.17.0.2 tcp dport 7000 counter packets 0 bytes 0 accept",
        "ip saddr 172.17.0.2 tcp sport 7000 ip daddr 172.17.0.3 counter packets 0 bytes 0 accept",
        "ip saddr 172.17.0.3 ip daddr 172.17.0.2 udp dport 53 counter packets 0 bytes 0 accept",
        "ip saddr 172.17.0.2 udp sport 53 ip daddr 172.17.0.3 counter packets 0 bytes 0 accept",
        "ip saddr 172.17.0.3 ip daddr 172.17.0.2 tcp dport 5432 counter packets 0 bytes 0 accept",
        "ip saddr 172.17.0.2 tcp sport 5432 ip daddr 172.17.0.3 counter packets 0 bytes 0 accept",
        'iifname "docker0" counter packets 0 bytes 0 drop comment "ICC"']
