"""The tracer's prediction of IPv6 probes, no root: DST as an IPv6 address or a name with
-6, ICMPv6 echo, UDP and TCP, the ip6tables and `ip6 docker-bridges` rules each engine
writes, NDP beside ARP, and the JSON and text of it all."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from ipv6_labs import dual_stack_lab

from netlab.errors import NetlabError
from netlab.model import load_text
from netlab.trace.iptables import Context, parse_rule
from netlab.trace.iptables import matches as rule_matches
from netlab.trace.model import DELIVERED, DROPPED, NO_PATH, REPLY, REQUEST, PacketView
from netlab.trace.nat import dnat, snat
from netlab.trace.nft_eval import matches as nft_matches
from netlab.trace.nft_eval import parse_rule as parse_nft_rule
from netlab.trace.nft_model import NftTable
from netlab.trace.predict import predict_trace
from netlab.trace.report import render

CONTAINERS = """  a: {networks: [dual]}
  b: {networks: [dual], ports: ["8080:80"], command: "python3 -m http.server --bind :: 80"}
  v4only: {networks: [plain]}
  q1: {networks: [quiet]}
  q2: {networks: [quiet]}
  s1: {networks: [sealed]}
"""
MORE = """  plain: {subnet: 172.31.0.0/24}
  quiet:
    enable_ipv6: true
    driver_opts: {com.docker.network.bridge.enable_icc: "false"}
    ipam: {config: [{subnet: 172.29.0.0/24}, {subnet: "2001:db8:3::/64"}]}
  sealed:
    enable_ipv6: true
    internal: true
    ipam: {config: [{subnet: 172.28.0.0/24}, {subnet: "2001:db8:4::/64"}]}
"""


def lab(engine: str = "28.5"):
    return load_text(dual_stack_lab("tv6", CONTAINERS, engine=engine, networks=MORE), "tv6.yaml")


@pytest.fixture(scope="module")
def topo():
    return lab()


def test_a_name_with_family_6_is_traced_to_its_ipv6_address(topo):
    t = predict_trace(topo, "a", "b", family=6)
    assert (t.probe.src, t.probe.dst, t.probe.proto) == ("2001:db8:2::2", "2001:db8:2::3", "icmp6")
    assert t.probe.icmp_type == 128 and t.probe.ip_id is None
    assert [h.node for h in t.leg(REQUEST)] == ["tv6-a/eth0", f"tv6-node1/{_port(t, 0)}",
                                                 f"tv6-node1/{_port(t, 1)}", "tv6-b/eth0"]
    assert all(h.packet.family == 6 for h in t.hops)
    assert t.outcome.status == DELIVERED and t.outcome.reply == "echo-reply"
    assert t.outcome.reply_status == DELIVERED
    assert t.leg(REPLY)[0].packet.icmp_type == 129
    # the FORWARD decisions come from the ip6tables rule set (its DOCKER-FORWARD accept)
    accepted = [r for r in t.rules if r.verdict == "accept" and r.kind == "rule"]
    assert any(r.rule == f"-A DOCKER-FORWARD -i {_bridge(t)} -j ACCEPT" for r in accepted)


def test_ndp_is_the_ipv6_counterpart_of_arp(topo):
    six = predict_trace(topo, "a", "b", family=6)
    four = predict_trace(topo, "a", "b")
    [ndp] = six.neighbours
    assert (ndp.protocol, ndp.netns, ndp.ifname, ndp.target, ndp.answered_by) == \
        ("ndp", "tv6-a", "eth0", "2001:db8:2::3", "b")
    # the solicitation carries a's address: b answers without asking back
    assert [n.protocol for n in four.neighbours] == ["arp"] and four.neighbours[0].target == "172.30.0.3"
    text = render(six)
    assert "ndp: neighbour solicitation for 2001:db8:2::3: b answers" in text
    lost = predict_trace(topo, "a", "2001:db8:2::99")
    assert lost.outcome.status == NO_PATH and lost.outcome.reason == "no-neighbour"
    assert [(n.target, n.answered_by) for n in lost.neighbours] == [("2001:db8:2::99", None)]


def test_an_ipv6_address_as_dst_needs_no_family(topo):
    t = predict_trace(topo, "a", "2001:db8:2::3")
    assert t.probe.dst == "2001:db8:2::3" and t.outcome.status == DELIVERED
    tcp = predict_trace(topo, "a", "[2001:db8:2::3]:80")
    assert (tcp.dst, tcp.proto, tcp.probe.dport, tcp.outcome.reply) == ("[2001:db8:2::3]:80", "tcp", 80, "SA")
    # without -6 a name still means its IPv4 address
    assert predict_trace(topo, "a", "b").probe.dst == "172.30.0.3"


def test_udp_to_a_closed_port_gets_icmpv6_port_unreachable(topo):
    t = predict_trace(topo, "a", "b:5353", proto="udp", family=6)
    assert t.outcome.reply == "port-unreachable"
    error = t.leg(REPLY)[0].packet
    assert (error.proto, error.icmp_type, error.icmp_code) == ("icmp6", 1, 4)
    assert error.quoted is not None and error.quoted.dport == 5353
    assert "icmp6 port-unreachable" in error.summary()


def test_icc_off_drops_the_bridged_neighbour_solicitation(topo):
    """ICMPv6 meets ip6tables through br_netfilter (ARP meets no iptables): the network's
    `-i br -o br -j DROP` drops q1's solicitation for q2, so the probe never leaves q1
    (moby#45649); over IPv4 the same rule drops the probe itself."""
    t = predict_trace(topo, "q1", "q2", family=6)
    bridge = topo.segment("quiet", "node1").device
    assert (t.outcome.status, t.outcome.reason, t.outcome.netns) == (NO_PATH, "no-neighbour", "tv6-q1")
    assert t.outcome.rule == f"-A DOCKER-FORWARD -i {bridge} -o {bridge} -j DROP" and not t.hops
    assert "its neighbour solicitation was dropped in node1" in t.outcome.detail
    assert [(n.protocol, n.answered_by) for n in t.neighbours] == [("ndp", None)]
    four = predict_trace(topo, "q1", "q2")
    assert four.outcome.status == DROPPED and four.outcome.rule == t.outcome.rule and four.hops
    # on an engine that writes no ip6tables rules the solicitation passes
    assert predict_trace(lab("26.1"), "q1", "q2", family=6).outcome.status == DELIVERED


def test_an_internal_network_keeps_ipv6_in(topo):
    t = predict_trace(topo, "s1", "2001:db8:2::3")
    assert t.outcome.status in (DROPPED, NO_PATH)
    assert "2001:db8:2::3" in t.outcome.detail or t.outcome.rule is not None


def test_family_errors_are_clear(topo):
    with pytest.raises(NetlabError, match="no IPv6 address"):
        predict_trace(topo, "a", "v4only", family=6, by_name=False)
    with pytest.raises(NetlabError, match="IPv4 address but -6"):
        predict_trace(topo, "a", "172.30.0.3", family=6)
    with pytest.raises(NetlabError, match="family is 4 or 6"):
        predict_trace(topo, "a", "b", family=5)


@pytest.mark.parametrize("engine", ["29.7", "29.7-nftables"])
def test_later_engines_walk_their_own_ipv6_rules(engine):
    t = predict_trace(lab(engine), "a", "b", family=6)
    assert t.outcome.status == DELIVERED
    if engine.endswith("nftables"):
        assert {r.table for r in t.rules} == {"docker-bridges"}
        assert all(r.native for r in t.rules if r.kind == "rule")
    else:
        assert "filter" in {r.table for r in t.rules}


def test_json_carries_ipv6_addresses(topo):
    d = json.loads(json.dumps(predict_trace(topo, "a", "b:80", family=6).to_dict()))
    assert d["probe"]["dst"] == "2001:db8:2::3" and d["probe"]["ip_id"] is None
    assert d["neighbours"][0]["protocol"] == "ndp"
    assert {h["packet"]["src"] for h in d["hops"]} == {"2001:db8:2::2", "2001:db8:2::3"}


# ---- the pieces ------------------------------------------------------------------------
def test_an_ipv6_flow_brackets_addresses_with_ports():
    pkt = PacketView("2001:db8:2::2", "2001:db8:2::3", "tcp", sport=40000, dport=80)
    assert pkt.flow() == "[2001:db8:2::2]:40000 > [2001:db8:2::3]:80"
    assert PacketView("2001:db8:2::2", "2001:db8:2::3", "icmp6").flow() == "2001:db8:2::2 > 2001:db8:2::3"
    assert dnat(pkt, "[2001:db8:2::9]:8080").flow() == "[2001:db8:2::2]:40000 > [2001:db8:2::9]:8080"
    assert snat(pkt, "2001:db8:a:101::105").src == "2001:db8:a:101::105"
    assert dnat(pkt, "172.17.0.2:80").dst == "172.17.0.2"


def test_the_evaluators_know_ipv6_matches():
    pkt = PacketView("2001:db8:2::2", "2001:db8:2::3", "icmp6", icmp_type=128)
    ctx = Context("br-x", "eth0", frozenset())
    assert rule_matches(parse_rule("DOCKER", 1, "-o eth0 -p ipv6-icmp -j ACCEPT"), pkt, ctx)
    assert not rule_matches(parse_rule("DOCKER", 1, "-p icmp -j ACCEPT"), pkt, ctx)
    assert rule_matches(parse_rule("POSTROUTING", 1, "-s 2001:db8:2::/64 ! -o br-x -j MASQUERADE"), pkt, ctx)
    assert not rule_matches(parse_rule("DOCKER", 1, "! -s fe80::/10 -j DROP"), replace_src(pkt, "fe80::1"), ctx)
    table = NftTable(family="inet", name="t")
    hit = nft_matches(parse_nft_rule("ip6 saddr 2001:db8:2::/64 meta l4proto ipv6-icmp icmpv6 type echo-request "
                                     "accept"), table, pkt, ctx)
    assert hit[0]
    # in an inet table `ip saddr` never matches an IPv6 packet, even negated; `tcp dport` no icmp6
    assert not nft_matches(parse_nft_rule("ip saddr != 10.0.0.0/8 accept"), table, pkt, ctx)[0]
    assert not nft_matches(parse_nft_rule("tcp dport != 80 accept"), table, pkt, ctx)[0]
    assert nft_matches(parse_nft_rule('iifname != "eth0" accept'), table, pkt, ctx)[0]
    parsed = parse_nft_rule('iifname != "br-x" ip6 saddr != fe80::/10 tcp dport 8080 dnat ip6 to [2001:db8:2::3]:80')
    assert parsed.nat == ("DNAT", "[2001:db8:2::3]:80") and parsed.unknown is None


def replace_src(pkt: PacketView, src: str) -> PacketView:
    return replace(pkt, src=src)


def _bridge(t) -> str:
    return next(h.bridge for h in t.hops if h.bridge)


def _port(t, n: int) -> str:
    return [h.ifname for h in t.leg(REQUEST) if h.netns == "tv6-node1"][n]


@pytest.mark.parametrize("table, chain, rule, says", [
    ("raw", "PREROUTING", "-A PREROUTING -d 2001:db8:2::3/128 ! -i br-x -j DROP",
     "direct access to a container address (2001:db8:2::3) from outside its bridge br-x"),
    ("filter", "DOCKER", "-A DOCKER -d 2001:db8:2::3/128 ! -i br-x -o br-x -p tcp -m tcp --dport 80 -j ACCEPT",
     "the published port tcp/80 of 2001:db8:2::3"),
    ("filter", "DOCKER", "-A DOCKER -o br-x -p ipv6-icmp -j ACCEPT", "gateway mode routed: ICMP"),
    ("docker-bridges", "raw-PREROUTING",
     'ip6 daddr 2001:db8:2::2 iifname != "br-y" counter drop comment "DROP DIRECT ACCESS"',
     "(2001:db8:2::2) from outside its bridge br-y"),
])
def test_docker_ipv6_rules_are_explained_as_their_ipv4_twins(table, chain, rule, says):
    from netlab.trace.explain import why
    verdict = "drop" if rule.endswith("DROP") or "drop" in rule else "accept"
    assert says in (why(table, chain, rule, verdict) or "")


def test_a_published_port_over_ipv6_is_dnatted_by_ip6tables(topo):
    t = predict_trace(topo, "outside", "node1:8080", family=6)
    assert t.probe.dst == "2001:db8:a:101::105" and t.probe.dport == 8080
    [dnat_] = [n for n in t.nat if n.kind == "DNAT"]
    assert dnat_.after.endswith("> [2001:db8:2::3]:80")
    assert dnat_.rule is not None and "--to-destination [2001:db8:2::3]:80" in dnat_.rule
    assert t.outcome.status == DELIVERED and t.outcome.owner == "b"
    assert [n.kind for n in t.nat if n.leg == REPLY] == ["de-DNAT"]


def test_ipv6_leaving_the_host_is_masqueraded_to_its_lan_address(topo):
    t = predict_trace(topo, "a", "outside", family=6)
    assert t.probe.dst == "2001:db8:ff::10"
    [masq] = [n for n in t.nat if n.kind == "MASQUERADE"]
    assert masq.after.startswith("2001:db8:a:101::105 >")
    assert "-s 2001:db8:2::/64" in (masq.rule or "")
    assert t.outcome.reply_status == DELIVERED


def test_hosts_and_outside_have_no_ipv6_in_a_lab_without_it():
    v4 = load_text("name: tv4\ncontainers:\n  a: {}\n", "tv4.yaml")
    for dst in ("outside", "node1"):
        with pytest.raises(NetlabError, match="has no IPv6"):
            predict_trace(v4, "a", dst, family=6)
    # an IPv6 address in an IPv4 lab: no route, said plainly
    t = predict_trace(v4, "a", "2001:db8:ff::10")
    assert t.outcome.status == NO_PATH and t.outcome.reason == "no-route"
