"""The tracer's pure parts, no root: the prediction of every case from the plan alone, the
iptables evaluator, the comparison, the JSON shape, and the decoders of kernel messages."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from dataclasses import replace

import pytest
from trace_labs import DOCKER_28, ENGINES, engine_yaml

from netlab.model import load_text
from netlab.plan.firewall.render import parse_save
from netlab.trace.compare import compare
from netlab.trace.counters import delta, parse_save_counters
from netlab.trace.iptables import Context, parse_rule, run_hook
from netlab.trace.model import SCHEMA, PacketView
from netlab.trace.nftrace import header_view, rule_matches, tcp_flags
from netlab.trace.predict import predict_trace
from netlab.trace.report import render
from netlab.trace.signature import Signature

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = f"{TOP}/topologies/demo.yaml"

ONE_HOST = """
name: tp1
outside: {addresses: [203.0.113.10]}
hosts:
  node1: {address: 10.10.101.105, daemon: {userland-proxy: false}}
networks:
  mynet: {subnet: 192.168.0.0/16}
  quiet: {driver_opts: {com.docker.network.bridge.enable_icc: "false"}}
  sealed: {internal: true}
containers:
  web: {ports: ["8080:80"], command: "python3 -m http.server 80"}
  a1: {networks: [mynet]}
  a2: {networks: [mynet]}
  q1: {networks: [quiet]}
  q2: {networks: [quiet]}
  s1: {networks: [sealed]}
"""


@pytest.fixture(scope="module")
def one_host():
    return load_text(ONE_HOST.encode(), "one.yaml")


def nodes(t, leg="request"):
    return [f"{h.node} {h.direction}" for h in t.hops if h.leg == leg]


def test_same_bridge_is_switched_and_accepted_in_forward():
    t = predict_trace(DEMO, "a1", "a2")
    assert [h.via for h in t.leg("request")] == ["send", "veth", "switch", "veth"]
    assert nodes(t)[0] == "demo-a1/eth0 out" and nodes(t)[-1] == "demo-a2/eth0 in"
    br = t.hops[2].bridge
    assert any(r.rule == f"-A FORWARD -i {br} -o {br} -j ACCEPT" and r.verdict == "accept" for r in t.rules)
    assert t.outcome.status == "delivered" and t.outcome.reply == "echo-reply" and t.outcome.reply_status == "delivered"
    assert {f.source for f in (*t.hops, *t.rules, t.outcome)} == {"predicted"}


def test_other_network_is_isolated_in_stage_2():
    t = predict_trace(DEMO, "a1", "web", by_name=False)
    o = t.outcome
    assert (o.status, o.reason, o.chain) == ("dropped", "isolation", "DOCKER-ISOLATION-STAGE-2")
    assert o.rule == "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP" and o.netns == "demo-node1"
    assert not t.leg("reply")


def test_masquerade_out_and_de_nat_back():
    t = predict_trace(DEMO, "a1", "203.0.113.10")
    kinds = [(n.leg, n.kind) for n in t.nat]
    assert kinds == [("request", "MASQUERADE"), ("reply", "de-SNAT")]
    assert t.nat[0].after == "10.10.101.105 > 203.0.113.10"
    eth0 = next(h for h in t.hops if h.node == "demo-node1/eth0" and h.leg == "request")
    assert eth0.packet.src == "10.10.101.105" and eth0.packet.ttl == 63 and eth0.via == "route"
    assert t.leg("reply")[-1].packet.dst == "192.168.0.2"


def test_published_port_dnat_and_accept():
    t = predict_trace(DEMO, "outside", "node1:8080")
    assert t.proto == "tcp" and t.port == 8080
    assert any(r.chain == "DOCKER" and r.table == "nat" and "DNAT --to-destination 172.17.0.2:80" in r.rule for r in t.rules)
    assert any(r.chain == "DOCKER" and r.table == "filter" and r.verdict == "accept" for r in t.rules)
    assert t.outcome.netns == "demo-web" and t.outcome.reply == "SA"
    assert [n.kind for n in t.nat] == ["DNAT", "de-DNAT"]


def test_userland_proxy_answers_from_the_bridge():
    # with the proxy on, DNAT skips traffic from docker0: docker-proxy in the host answers
    t = predict_trace(DEMO, "solo", "node1:8080")
    assert t.outcome.netns == "demo-node1" and t.outcome.reply == "SA"
    assert any(r.rule == "-A DOCKER -i docker0 -j RETURN" for r in t.rules)


def test_hairpin_without_proxy_is_bridged_back_out(one_host):
    t = predict_trace(one_host, "web", "node1:8080")
    port = one_host.container("web").attachment("bridge").host_ifname
    assert nodes(t) == ["tp1-web/eth0 out", f"tp1-node1/{port} in", f"tp1-node1/{port} out", "tp1-web/eth0 in"]
    assert t.hops[2].via == "hairpin" and t.hops[2].packet.src == "172.17.0.1" and t.hops[2].packet.ttl == 64
    assert [n.kind for n in t.nat if n.leg == "request"] == ["DNAT", "MASQUERADE"]
    assert [n.kind for n in t.nat if n.leg == "reply"] == ["de-SNAT", "de-DNAT"]


def test_icc_false_and_internal(one_host):
    t = predict_trace(one_host, "q1", "q2")
    assert t.outcome.chain == "FORWARD" and t.outcome.rule.endswith("-j DROP") and "icc=false" in t.outcome.detail
    t = predict_trace(one_host, "a1", "s1", by_name=False)
    assert t.outcome.chain == "DOCKER-ISOLATION-STAGE-1" and t.outcome.reason == "isolation"


def test_macvlan_host_cannot_reach_its_own_container():
    t = predict_trace(f"{TOP}/topologies/macvlan.yaml", "node1", "m1", by_name=False)
    assert (t.outcome.status, t.outcome.reason) == ("no-path", "macvlan-host-isolation") and not t.hops
    t = predict_trace(f"{TOP}/topologies/macvlan.yaml", "m1", "m2")
    assert [h.via for h in t.leg("request")] == ["send", "macvlan", "macvlan"]


def test_overlay_is_encapsulated_with_its_vni():
    t = predict_trace(f"{TOP}/topologies/overlay.yaml", "b2", "b1")
    under = [h for h in t.leg("request") if h.packet.outer is not None]
    assert under and all(h.packet.vni == 4096 and h.packet.outer.dport == 4789 for h in under)
    assert under[0].via == "vxlan-encap" and under[0].packet.outer.src == "10.10.101.106"
    assert any(h.via == "vxlan-decap" and h.ifname == "vxlan0" for h in t.leg("request"))
    assert t.outcome.netns == "overlay-b1"


def test_no_route_is_no_path():
    text = "name: tp2\ncontainers: {c: {network_mode: none}, d: {}}\n"
    t = predict_trace(load_text(text.encode(), "x.yaml"), "c", "203.0.113.10")
    assert (t.outcome.status, t.outcome.reason, t.outcome.netns) == ("no-path", "no-route", "tp2-c") and not t.hops


def test_unknown_names_are_clear_errors():
    from netlab.errors import NetlabError
    with pytest.raises(NetlabError, match="nobody"):
        predict_trace(DEMO, "a1", "nobody", by_name=False)
    # by name, a name nobody has is the outcome: a1's resolver answers NXDOMAIN
    assert predict_trace(DEMO, "a1", "nobody").outcome.reason == "nxdomain"
    with pytest.raises(NetlabError, match="port"):
        predict_trace(DEMO, "a1", "web", proto="tcp")


@pytest.mark.parametrize("dst, port, says", [
    ("web", 70000, "from 1 to 65535"), ("web", 0, "from 1 to 65535"), ("web", -5, "from 1 to 65535"),
    ("127.0.0.1", None, "never leaves the namespace"), ("0.0.0.0", None, "never leaves the namespace"),
    ("255.255.255.255", None, "broadcast or multicast"), ("224.0.0.1", None, "broadcast or multicast"),
    ("::1", None, "never leaves the namespace"), ("ff02::1", None, "broadcast or multicast"),
    ("fe80::1", None, "link-local"), ("[2001:db8::1", None, r"\[ADDRESS\]:PORT"),
    ("[2001:db8::1]80", None, r"\[ADDRESS\]:PORT"), ("2001:db8::zz", None, "not a valid IPv6"),
    ("[2001:db8::1]:0", None, "from 1 to 65535"),
    (":80", None, "no destination"), ("web:0", None, "from 1 to 65535"),
])
def test_destinations_a_trace_cannot_follow_are_clear_errors(dst, port, says):
    from netlab.errors import NetlabError
    with pytest.raises(NetlabError, match=says):
        predict_trace(DEMO, "a1", dst, port=port, proto="tcp" if port is not None else None)


# ---- the evaluator ---------------------------------------------------------------------
def test_rule_parsing_and_matching():
    r = parse_rule("DOCKER", 3, "! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80")
    assert r.target == "DNAT" and dict(r.target_args) == {"--to-destination": "172.17.0.2:80"} and not r.unknown
    pkt = PacketView("10.10.101.254", "10.10.101.105", "tcp", sport=40000, dport=8080)
    from ipaddress import IPv4Address

    from netlab.trace.iptables import matches
    local = frozenset({IPv4Address("10.10.101.105")})
    assert matches(r, pkt, Context("eth0", None, local))
    assert not matches(r, pkt, Context("docker0", None, local))
    assert not matches(r, replace(pkt, dport=8081), Context("eth0", None, local))
    assert parse_rule("X", 1, "-m recent --set -j DROP").unknown == ("-m recent",)


def test_hook_walks_jumps_returns_and_policy():
    rs = parse_save("*filter\n:FORWARD DROP [0:0]\n:U - [0:0]\n-A FORWARD -j U\n-A FORWARD -o br0 -j ACCEPT\n"
                    "-A U -s 10.0.0.0/8 -j RETURN\n-A U -p udp -j DROP\nCOMMIT\n")
    pkt = PacketView("10.1.1.1", "192.168.1.1", "tcp", sport=1, dport=2)
    res = run_hook(rs, "FORWARD", pkt, Context("eth0", "br0", frozenset()))
    assert [(d.chain, d.kind, d.verdict) for d in res.decisions] == [
        ("FORWARD", "rule", "jump"), ("U", "rule", "return"), ("FORWARD", "rule", "accept")]
    res = run_hook(rs, "FORWARD", replace(pkt, src="172.16.0.1"), Context("eth0", "eth1", frozenset()))
    assert [(d.chain, d.kind, d.verdict) for d in res.decisions][-2:] == [("U", "return", "return"),
                                                                          ("FORWARD", "policy", "drop")]
    assert res.verdict == "drop"


# ---- comparison, report, JSON ------------------------------------------------------------
def test_compare_flags_every_difference():
    t = predict_trace(DEMO, "a1", "203.0.113.10", key=1234)
    assert compare(t, t) == []
    hops = list(t.hops)
    hops[3] = replace(hops[3], packet=replace(hops[3].packet, src="10.10.101.99"))
    other = replace(t, hops=tuple(hops[:-1]), nat=t.nat[:1], source="observed")
    what = sorted({d.what for d in compare(t, other)})
    assert what == ["hop", "nat"]


def test_json_has_the_documented_shape():
    t = predict_trace(DEMO, "outside", "node1:8080")
    d = json.loads(json.dumps(t.to_dict()))
    assert d["schema"] == SCHEMA and d["source"] == "predicted"
    assert set(d) >= {"lab", "src", "dst", "proto", "port", "probe", "hops", "rules", "nat", "outcome",
                      "notes", "predicted", "differences"}
    assert set(d["hops"][0]) >= {"netns", "ifname", "direction", "packet", "leg", "via", "owner", "source", "evidence"}
    assert set(d["rules"][0]) >= {"netns", "table", "chain", "kind", "verdict", "rule", "position", "leg"}
    assert set(d["outcome"]) >= {"status", "reason", "netns", "rule", "reply", "reply_status", "detail"}
    doc = open(f"{TOP}/docs/trace-json.md").read()
    for key in (*d, *d["hops"][0], *d["rules"][0], *d["nat"][0], *d["outcome"], *d["probe"]):
        assert f"`{key}`" in doc, f"{key} is not documented in docs/trace-json.md"


def test_report_is_text():
    text = render(predict_trace(DEMO, "a1", "web", by_name=False))
    assert "dropped (isolation)" in text and "DOCKER-ISOLATION-STAGE-2" in text


def test_cli_predict_needs_no_root():
    proc = subprocess.run([sys.executable, "-m", "netlab", "trace", DEMO, "a1", "web", "--no-resolve", "--predict", "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outcome"]["reason"] == "isolation"


# ---- decoders and the probe's identity -----------------------------------------------
def test_trace_event_headers():
    ip = bytes.fromhex("4500003c1c4640004006") + b"\0\0" + bytes([10, 0, 0, 1, 10, 0, 0, 2])
    view = header_view(ip, struct.pack("!HHIIBB", 40000, 80, 0, 0, 5 << 4, 0x12) + b"\0" * 6)
    assert (view.src, view.dst, view.proto, view.sport, view.dport, view.ttl) == ("10.0.0.1", "10.0.0.2", "tcp", 40000, 80, 64)
    assert view.tcp_flags == "SA" and tcp_flags(0x04) == "R"
    assert rule_matches(Signature("icmp", 23456, 7)) and len(rule_matches(Signature("tcp", 23456))) == 6


def test_signature_legs():
    sig = Signature("tcp", 23456)
    syn = PacketView("1.1.1.1", "2.2.2.2", "tcp", sport=23456, dport=80, tcp_flags="S")
    assert sig.leg(syn) == "request"
    assert sig.leg(PacketView("2.2.2.2", "1.1.1.1", "tcp", sport=80, dport=23456, tcp_flags="SA")) == "reply"
    assert sig.leg(replace(syn, tcp_flags="A")) is None
    err = PacketView("2.2.2.2", "1.1.1.1", "icmp", icmp_type=3, icmp_code=3,
                     quoted=PacketView("1.1.1.1", "2.2.2.2", "udp", sport=23456, dport=53))
    assert Signature("udp", 23456).leg(err) == "reply"


def test_counter_deltas():
    before = parse_save_counters("*filter\n:FORWARD DROP [3:100]\n[5:300] -A FORWARD -j DOCKER-USER\nCOMMIT\n")
    after = parse_save_counters("*filter\n:FORWARD DROP [4:140]\n[6:360] -A FORWARD -j DOCKER-USER\nCOMMIT\n")
    assert delta(before, after) == {("filter", "FORWARD", None): 1, ("filter", "FORWARD", 1): 1}


def test_live_trace_without_root_says_so(monkeypatch):
    from netlab.app.tracing import live_trace
    from netlab.errors import NetlabError
    from netlab.trace import session
    monkeypatch.setattr(session.os, "geteuid", lambda: 1000)
    with pytest.raises(NetlabError, match="needs root.*--predict"):
        live_trace("demo", "a1", "a2")


# ---- every engine profile ----------------------------------------------------------------
def engine_lab(engine: str):
    return load_text(engine_yaml(engine, "te").encode(), "engines.yaml")


def predict_routed(topo, src: str, dst: str, proto: str | None = None, port: int | None = None):
    """A prediction in the engine lab, whose `outside.routes` send every container subnet to
    node1, as a LAN router would (what a routed gateway mode is for)."""
    from netlab.plan.planner import build_plan
    from netlab.trace.predict import predict_probe
    from netlab.trace.target import resolve
    from netlab.trace.wiring import from_plan
    plan = build_plan(topo)
    wiring = from_plan(topo, plan)
    return predict_probe(topo, plan, wiring, resolve(topo, wiring, src, dst, proto, port), None)


def drop_in(t) -> tuple:
    o = t.outcome
    return o.status, o.reason, o.table, o.chain


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_published_port_from_outside(engine):
    t = predict_trace(engine_lab(engine), "outside", "node1:8080")
    assert t.outcome.status == "delivered" and t.outcome.netns == "te-web" and t.outcome.reply == "SA"
    assert [n.kind for n in t.nat] == ["DNAT", "de-DNAT"]
    assert [(e.host, e.engine) for e in t.engines] == [("node1", engine)]
    assert f"engine: {engine} (node1)" in render(t).splitlines()[1]
    dnat = next(r for r in t.rules if r.target == "DNAT")
    if engine == "29.7-nftables":
        assert (dnat.table, dnat.chain) == ("docker-bridges", "nat-prerouting-and-output")
        assert "dnat to 172.17.0.2:80" in dnat.rule and not any(r.table in ("nat", "filter") for r in t.rules)
    else:
        assert (dnat.table, dnat.chain) == ("nat", "DOCKER")
    accepted = {r.chain for r in t.rules if r.verdict == "accept" and r.kind == "rule" and r.leg == "request"}
    assert {"20.10": {"DOCKER"}, "26.1": {"DOCKER"}, "28.5": {"DOCKER"}, "29.7": {"DOCKER"},
            "29.7-nftables": {"filter-forward-in__docker0"}}[engine] <= accepted


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("port", [80, 81])
def test_engine_direct_access_from_outside(engine, port):
    """Routed straight to a container's address: before 28, a published container port is
    reached (FORWARD's DOCKER chain accepts it) and any other port meets FORWARD's DROP
    policy; from 28 the raw table drops both before routing."""
    t = predict_routed(engine_lab(engine), "outside", f"172.17.0.2:{port}")
    if engine in DOCKER_28:
        assert drop_in(t)[:2] == ("dropped", "rule") and t.outcome.netns == "te-node1"
        assert t.outcome.chain in ("PREROUTING", "raw-PREROUTING")
        assert "direct access to a container address (172.17.0.2) from outside its bridge docker0" in t.outcome.detail
        assert "Docker 28+ drops it" in render(t)
    elif port == 80:
        assert t.outcome.status == "delivered" and t.outcome.netns == "te-web" and not t.nat
    else:
        assert drop_in(t) == ("dropped", "policy", "filter", "FORWARD")


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_hairpin(engine):
    t = predict_trace(engine_lab(engine), "web", "node1:8080")
    assert t.outcome.status == "delivered" and t.outcome.netns == "te-web" and t.outcome.reply == "SA"
    assert [n.kind for n in t.nat if n.leg == "request"] == ["DNAT", "MASQUERADE"]
    assert t.hops[2].via == "hairpin" and t.hops[2].packet.src == "172.17.0.1"


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_other_network(engine):
    t = predict_trace(engine_lab(engine), "a1", "web", by_name=False)
    if engine in DOCKER_28:
        # a1's packet comes up from its own bridge: to docker0's container it is direct access
        assert drop_in(t)[:2] == ("dropped", "rule") and "direct access" in t.outcome.detail
    else:
        assert drop_in(t) == ("dropped", "isolation", "filter", "DOCKER-ISOLATION-STAGE-2")


@pytest.mark.parametrize("engine", DOCKER_28)
def test_engine_gateway_modes(engine):
    topo = engine_lab(engine)
    r1 = str(topo.container("r1").attachment("routed").address.ip)
    u1 = str(topo.container("u1").attachment("open").address.ip)
    # routed: the container's own address is reached from outside, with no NAT either way
    t = predict_routed(topo, "outside", f"{r1}:80")
    assert t.outcome.status == "delivered" and t.outcome.netns == "te-r1" and t.outcome.reply == "SA" and not t.nat
    assert t.leg("reply")[-1].packet.src == r1
    t = predict_routed(topo, "outside", r1)
    assert t.outcome.status == "delivered" and any("ICMP" in (r.rule or "") or "icmp" in (r.rule or "")
                                                   for r in t.rules if r.verdict == "accept")
    # ... but a port nothing published is dropped
    t = predict_routed(topo, "outside", f"{r1}:81")
    assert t.outcome.status == "dropped" and "UNPUBLISHED PORT DROP" in t.outcome.detail
    # nat-unprotected: any port of the container is open to direct access
    t = predict_routed(topo, "outside", f"{u1}:80")
    assert t.outcome.status == "delivered" and t.outcome.netns == "te-u1"
    assert any("nat-unprotected" in line for line in render(t).splitlines() if line.strip().startswith("="))
    # going out, routed is not masqueraded and nat-unprotected is
    assert not predict_trace(topo, "r1", "203.0.113.10").nat
    assert [n.kind for n in predict_trace(topo, "u1", "203.0.113.10").nat][:1] == ["MASQUERADE"]


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_snat_to_host_ipv4(engine):
    text = engine_yaml(engine, "te").replace(
        "  mynet: {subnet: 192.168.0.0/24}",
        "  mynet: {subnet: 192.168.0.0/24, driver_opts: {com.docker.network.host_ipv4: 10.10.101.105}}")
    t = predict_trace(load_text(text.encode(), "snat.yaml"), "a1", "203.0.113.10")
    assert [(n.kind, n.after) for n in t.nat if n.leg == "request"] == [("SNAT", "10.10.101.105 > 203.0.113.10")]
    assert t.outcome.reply_status == "delivered" and t.leg("reply")[-1].packet.dst == "192.168.0.2"
