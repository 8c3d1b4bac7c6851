"""ICMP errors about the probe (issue 16 item 3), pure: the error a router's drop sends
(type, code, sender), walked back as the reply leg; the drop an observed error tells of;
and the comparison of the two (type, code, sender)."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from ipv6_labs import dual_stack_lab

from netlab.model import load_text
from netlab.plan.planner import build_plan
from netlab.trace.compare import compare
from netlab.trace.icmp_errors import conn_rewrite, error_name, router_error, told_reason
from netlab.trace.model import DELIVERED, DROPPED, REPLY, REQUEST, PacketView
from netlab.trace.outcome import observed_outcome
from netlab.trace.predict import _walk_leg, predict_trace, router_error_leg
from netlab.trace.walk import Walk
from netlab.trace.wiring import from_plan

LAB = "ie"
UNROUTED6 = "2001:db8:ffff::1"      # outside forwards IPv6 and has no route for it


@pytest.fixture(scope="module")
def topo():
    return load_text(dual_stack_lab(LAB, "  a: {networks: [dual]}\n  b: {networks: [dual]}\n"))


def first_reply(t):
    return t.leg(REPLY)[0]


def test_a_router_without_a_route_sends_no_route_back_along_the_reply_leg(topo):
    t = predict_trace(topo, "a", UNROUTED6)
    o = t.outcome
    assert (o.status, o.reason, o.netns, o.ifname) == (DROPPED, "no-route", f"{LAB}-outside", "underlay")
    assert (o.reply, o.reply_status, o.kernel_reason) == ("no-route", DELIVERED, "IP_INNOROUTES")
    error = first_reply(t)
    # sent by outside, from the address it routes the (masqueraded) source back with
    assert (error.netns, error.ifname, error.direction) == (f"{LAB}-outside", "underlay", "out")
    p = error.packet
    assert (p.proto, p.icmp_type, p.icmp_code, p.src, p.dst) == ("icmp6", 1, 0, "2001:db8:a:101::254",
                                                                "2001:db8:a:101::105")
    assert p.quoted is not None and (p.quoted.src, p.quoted.dst) == ("2001:db8:a:101::105", UNROUTED6)
    # node1 de-SNATs it as conntrack tells it (the connection's tuples); its sender stays
    back = t.leg(REPLY)[-1]
    assert (back.netns, back.direction, back.packet.src, back.packet.dst) == (f"{LAB}-a", "in",
                                                                           "2001:db8:a:101::254", "2001:db8:2::2")
    assert back.packet.quoted is not None and back.packet.quoted.src == "2001:db8:2::2"
    assert [(n.kind, n.before, n.after) for n in t.nat if n.leg == REPLY] == [
        ("de-SNAT", f"{UNROUTED6} > 2001:db8:a:101::105", f"{UNROUTED6} > 2001:db8:2::2")]


def test_a_namespace_that_does_not_forward_and_a_rule_send_nothing(topo):
    t = predict_trace(topo, "a", "198.51.100.77")
    assert (t.outcome.reason, t.outcome.reply, t.leg(REPLY)) == ("forwarding-disabled", None, ())


def test_a_neighbour_that_never_answers_is_named_not_walked(topo):
    t = predict_trace(topo, "a", "10.10.101.77")
    assert (t.outcome.reason, t.outcome.netns, t.outcome.reply, t.outcome.reply_status) == \
        ("no-neighbour", f"{LAB}-node1", "host-unreachable", None)
    assert t.leg(REPLY) == ()
    assert any("icmp 3/1 host-unreachable from 10.10.101.105 (node1)" in n and "3 s later" in n for n in t.notes)
    # the sender itself fails to send: no router, no error
    assert predict_trace(topo, "a", "172.30.0.99").outcome.reply is None


@pytest.mark.parametrize(("dst", "sender", "kind"), [("b", "172.30.0.1", (11, 0)),
                                                     ("2001:db8:ffff::1", "2001:db8:2::1", (3, 0))])
def test_ttl_running_out_at_a_router_sends_time_exceeded(topo, dst, sender, kind):
    """A request with TTL (hop limit) 1 dies in node1's forward: time exceeded, from node1's
    address toward the sender (the bridge's), back to a."""
    plan = build_plan(topo)
    wiring = from_plan(topo, plan)
    src = "172.30.0.2" if ":" not in dst else "2001:db8:2::2"
    target = "10.10.101.200" if ":" not in dst else dst
    proto = "icmp" if ":" not in dst else "icmp6"
    walk = Walk(wiring=wiring, plan=plan)
    end = _walk_leg(walk, f"{LAB}-a", PacketView(src, target, proto, ttl=1, icmp_type=8 if proto == "icmp" else 128,
                                                  icmp_code=0, icmp_id=7))
    assert (end.status, end.reason, end.ns) == (DROPPED, "ttl-exceeded", f"{LAB}-node1")
    name, status = router_error_leg(walk, end, f"{LAB}-a")
    assert (name, status) == ("time-exceeded", DELIVERED)
    error = next(h for h in walk.hops if h.leg == REPLY).packet
    assert ((error.icmp_type, error.icmp_code), error.src, error.dst) == (kind, sender, src)
    assert error.quoted is not None and error.quoted.ttl == 1


def test_no_error_about_an_error_and_none_without_a_way_back(topo):
    wiring = from_plan(topo, build_plan(topo))
    arrived = PacketView("172.30.0.2", "10.10.101.200", "icmp", ttl=1, icmp_type=8, icmp_id=7)
    assert router_error(wiring, f"{LAB}-node1", arrived, "ttl-exceeded") is not None
    error = PacketView("172.30.0.2", "10.10.101.200", "icmp", icmp_type=3, icmp_code=1, quoted=arrived)
    assert router_error(wiring, f"{LAB}-node1", error, "ttl-exceeded") is None
    assert router_error(wiring, f"{LAB}-node1", replace(arrived, src="192.0.2.1"), "no-route") is not None
    assert router_error(wiring, f"{LAB}-node1", arrived, "rule") is None     # Docker's DROP: silent


def test_the_kernels_errors_by_name_and_the_drop_each_tells_of():
    q = PacketView("10.0.0.1", "10.0.0.2", "udp", sport=1, dport=2)
    cases = [("icmp", 3, 0, "net-unreachable", "no-route"), ("icmp", 3, 1, "host-unreachable", "no-neighbour"),
             ("icmp", 3, 3, "port-unreachable", None), ("icmp", 3, 4, "fragmentation-needed", "too-big"),
             ("icmp", 11, 0, "time-exceeded", "ttl-exceeded"), ("icmp6", 1, 0, "no-route", "no-route"),
             ("icmp6", 1, 3, "address-unreachable", "no-neighbour"), ("icmp6", 1, 4, "port-unreachable", None),
             ("icmp6", 2, 0, "packet-too-big", "too-big"), ("icmp6", 3, 0, "time-exceeded", "ttl-exceeded")]
    for proto, kind, code, name, reason in cases:
        v = PacketView("10.0.0.9", "10.0.0.1", proto, icmp_type=kind, icmp_code=code, quoted=q)
        assert (error_name(v), told_reason(v)) == (name, reason), (proto, kind, code)


def test_an_errors_de_nat_is_told_by_the_connections_tuples():
    orig = ("udp", "172.17.0.2", 5000, "203.0.113.9", 53)
    snatted = ("udp", "203.0.113.9", 53, "10.0.0.5", 5000)
    assert conn_rewrite(orig, snatted, "de-SNAT") == ("203.0.113.9:53 > 10.0.0.5:5000", "203.0.113.9:53 > 172.17.0.2:5000")
    dnatted = ("udp", "172.17.0.3", 80, "198.51.100.4", 7000)
    assert conn_rewrite(("udp", "198.51.100.4", 7000, "10.0.0.5", 8080), dnatted, "de-DNAT") == \
        ("172.17.0.3:80 > 198.51.100.4:7000", "10.0.0.5:8080 > 198.51.100.4:7000")


def test_observing_what_was_predicted_gives_the_same_outcome_and_no_difference(topo):
    predicted = predict_trace(topo, "a", UNROUTED6)
    wiring = from_plan(topo, build_plan(topo))
    ev = SimpleNamespace(probe=SimpleNamespace(netns=f"{LAB}-a"), send_error=None, connect=None, frames=[])
    seen = observed_outcome(ev, wiring, list(predicted.hops), [], predicted)   # type: ignore[arg-type]
    p = predicted.outcome
    assert (seen.status, seen.reason, seen.netns, seen.ifname, seen.reply, seen.reply_status) == \
        (p.status, p.reason, p.netns, p.ifname, p.reply, p.reply_status)
    assert seen.detail == "outside sent icmp6 1/0 no-route from 2001:db8:a:101::254 back to 2001:db8:a:101::105"
    observed = replace(predicted, outcome=replace(seen, kernel_reason=p.kernel_reason), predicted=None)
    assert compare(predicted, observed) == []


def test_another_sender_or_code_is_a_difference_and_a_late_error_is_not(topo):
    predicted = predict_trace(topo, "a", UNROUTED6)
    hops = list(predicted.hops)
    i = hops.index(first_reply(predicted))
    for change in ({"src": "2001:db8:a:101::99"}, {"icmp_code": 1}):
        other = replace(hops[i], packet=replace(hops[i].packet, **change))
        observed = replace(predicted, hops=tuple(hops[:i] + [other] + hops[i + 1:]))
        found = [d for d in compare(predicted, observed) if d.what == "icmp-error"]
        assert len(found) == 1 and found[0].leg == REPLY, change
        assert found[0].predicted == "icmp6 1/0 no-route from 2001:db8:a:101::254 (outside)"
    # the error missing altogether: its hops, the reply and the error itself differ
    observed = replace(predicted, hops=predicted.leg(REQUEST), outcome=replace(predicted.outcome, reply=None))
    assert {d.what for d in compare(predicted, observed)} >= {"icmp-error", "outcome", "hop"}
    late = predict_trace(topo, "a", "10.10.101.77")
    assert compare(late, replace(late, outcome=replace(late.outcome, reply=None))) == []


def test_a_probe_sent_with_ttl_1_is_predicted_to_die_at_the_first_router(topo):
    from netlab.trace.predict import predict_probe
    from netlab.trace.target import resolve
    plan = build_plan(topo)
    wiring = from_plan(topo, plan)
    probe = resolve(topo, wiring, "a", "198.51.100.77", "udp", 53, None)
    t = predict_probe(topo, plan, wiring, probe, 20001, ttl=1)
    assert t.probe.ttl == 1
    o = t.outcome
    assert (o.status, o.reason, o.netns, o.reply, o.reply_status, o.kernel_reason) == \
        (DROPPED, "ttl-exceeded", f"{LAB}-node1", "time-exceeded", DELIVERED, "IP_INHDR")
    assert first_reply(t).packet.quoted.sport == 20001
    assert predict_probe(topo, plan, wiring, probe, 20001).outcome.reason == "forwarding-disabled"


def test_the_cli_takes_the_probes_ttl():
    import json
    import subprocess
    import sys
    from pathlib import Path
    demo = str(Path(__file__).resolve().parents[2] / "topologies" / "demo.yaml")
    run = [sys.executable, "-m", "netlab", "trace", demo, "a1", "198.51.100.9", "--predict", "--json"]
    out = json.loads(subprocess.run([*run, "--ttl", "1"], capture_output=True, text=True, check=True).stdout)
    assert (out["probe"]["ttl"], out["outcome"]["reason"], out["outcome"]["reply"]) == (1, "ttl-exceeded",
                                                                                       "time-exceeded")
    out = json.loads(subprocess.run(run, capture_output=True, text=True, check=True).stdout)
    assert (out["probe"]["ttl"], out["outcome"]["reason"]) == (64, "forwarding-disabled")
    bad = subprocess.run([*run, "--ttl", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--ttl" in bad.stderr
