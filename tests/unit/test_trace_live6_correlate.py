"""The live tracer's IPv6 correlation (pure): NDP lookups beside the hops, an unanswered
solicitation as the outcome's `no-neighbour`, an ICMPv6 error's nftrace events tied to the
probe by the flow label, ip6 events read against the ip6tables rules, the family a
listener serves. Frames and events are the ones recorded in test_trace_live6_decoders."""
from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv6Address

from test_trace_live6_decoders import ERROR_RAW, NA, NS, UDP, UNREACH

from netlab.plan.firewall.render import parse_save
from netlab.plan.plan import Plan
from netlab.plan.served import Process, Proxy
from netlab.trace import capture, nftrace
from netlab.trace.correlate import _event_leg, _hit, _rules
from netlab.trace.evidence import Evidence, Frame, RuleRef
from netlab.trace.listeners import command_families, listens
from netlab.trace.lookups import observed_lookups
from netlab.trace.model import Hop
from netlab.trace.outcome import _unexplained, observed_outcome
from netlab.trace.signature import Signature
from netlab.trace.target import Probe
from netlab.trace.wiring import Space, Wiring

A, B = "2001:db8:2::2", "2001:db8:2::3"
SIG = Signature("udp", 26664, family=6, flow_label=573129)
PROBE = Probe(src="a", dst="b:9", proto="udp", netns="a", owner="a", dst_ip=IPv6Address(B), dport=9,
              src_ip=IPv6Address(A), dst_netns="b", family=6)
WIRING = Wiring("lab", {ns: Space(name=ns, role="container", owner=ns) for ns in ("a", "b", "n")})


def seen(ns: str, outgoing: bool, t: int, data: bytes) -> tuple[Frame, object]:
    f = Frame(ns, "eth0", outgoing, t, data)
    return f, capture.dissect(f)


def evidence(*frames) -> Evidence:
    return Evidence(probe=PROBE, signature=SIG, frames=list(frames))


def test_ndp_lookup_beside_the_hops():
    # a asks for b; the bridge floods the solicitation (a later outgoing copy in n: not n's lookup)
    ev = evidence(seen("a", True, 1, NS), seen("n", True, 2, NS), seen("b", True, 3, NA), seen("a", False, 4, NA),
                  seen("a", True, 5, UDP), seen("b", False, 6, UDP))
    hops = [Hop(netns="a", ifname="eth0", direction="out", packet=ev.frames[4][1]),
            Hop(netns="b", ifname="eth0", direction="in", packet=ev.frames[5][1])]
    (lookup,) = observed_lookups(ev, WIRING, hops)
    assert (lookup.netns, lookup.ifname, lookup.target, lookup.protocol) == ("a", "eth0", B, "ndp")
    assert (lookup.answered_by, lookup.mac, lookup.leg, lookup.owner) == ("b", "ba:02:a4:92:17:1e", "request", "a")
    assert lookup.source == "observed" and lookup.evidence == "capture"


def test_unanswered_solicitation_is_no_neighbour():
    ev = evidence(seen("a", True, 1, NS))
    out = _unexplained(ev, WIRING, [], None)
    assert (out.status, out.reason, out.netns, out.ifname) == ("no-path", "no-neighbour", "a", "eth0")
    assert B in out.detail
    (lookup,) = observed_lookups(ev, WIRING, [])
    assert lookup.answered_by is None and lookup.mac is None
    # answered: no longer the reason
    assert observed_outcome(evidence(seen("a", True, 1, NS), seen("b", True, 2, NA)), WIRING, [], [], None).reason \
        != "no-neighbour"


def test_an_icmpv6_error_event_is_the_probes_by_its_flow_label():
    err = nftrace.decode("n", 1, 10, ERROR_RAW)
    assert SIG.leg(err.packet) is None               # the event's transport bytes hold no quote
    ev = evidence(seen("a", True, 1, UDP), seen("b", True, 2, UNREACH))
    assert _event_leg(ev, err.packet, err.flow_label) == "reply"
    assert _event_leg(ev, err.packet, err.flow_label + 1) is None
    assert _event_leg(ev, err.packet, None) is None


FILTER4 = "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -d 172.30.0.3/32 -j ACCEPT\nCOMMIT\n"
FILTER6 = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -d 2001:db8:2::3/128 -j DROP\nCOMMIT\n"


def test_ip6_events_are_read_against_the_ip6tables_rules():
    space = Space(name="n", role="host", owner="node1", ruleset=parse_save(FILTER4), ruleset6=parse_save(FILTER6))
    wiring = Wiring("lab", {"n": space})
    ref = RuleRef("filter", "FORWARD", 1, 0)
    ev = replace(evidence(), rule_refs={"n": {("filter", "FORWARD", 5): ref}},
                 rule_refs6={"n": {("filter", "FORWARD", 9): ref}})
    pkt = capture.dissect(Frame("n", "eth0", False, 0, UDP))
    e = nftrace.TraceEvent(netns="n", order=1, id=1, family=10, table="filter", chain="FORWARD", kind="rule",
                           verdict="drop", handle=9)
    hit = _hit(ev, wiring, e, pkt, "request")
    assert (hit.rule, hit.position, hit.verdict) == ("-A FORWARD -d 2001:db8:2::3/128 -j DROP", 1, "drop")
    # the same handle in family ip names nothing: handles are per table
    assert _hit(ev, wiring, replace(e, family=2), pkt, "request").rule is None
    four = _hit(ev, wiring, replace(e, family=2, handle=5), pkt, "request")
    assert four.rule == "-A FORWARD -d 172.30.0.3/32 -j ACCEPT"
    # a whole event stream: the header event first, then the rule
    ev = replace(ev, events=[replace(e, packet=pkt)])
    assert [r.rule for r in _rules(ev, wiring, [])] == ["-A FORWARD -d 2001:db8:2::3/128 -j DROP"]


def test_listeners_serve_their_families():
    assert command_families("python3 -m http.server 80") == {4}
    assert command_families("python3 -m http.server --bind :: 80") == {4, 6}
    assert command_families("socat TCP6-LISTEN:80,fork -") == {6}
    plan = Plan("lab", items=[Process(netns="b", name="b", command="python3 -m http.server 80"),
                              Proxy(netns="n", proto="tcp", host_ip="::", host_port=8080, container_ip=B,
                                    container_port=80)])
    assert listens(plan, "b", "tcp", "172.30.0.3", 80) is True
    assert listens(plan, "b", "tcp", B, 80) is False
    assert listens(plan, "n", "tcp", "2001:db8:2::1", 8080) is True
    assert listens(plan, "n", "tcp", "172.30.0.1", 8080) is False


def test_only_lookups_on_the_probes_path_end_the_wait():
    """A solicitation nobody answers ends the collection early, but only one sent where the
    probe goes: another namespace may still be retrying for an earlier trace's probe."""
    import time

    from netlab.trace.session import ARP_PATIENCE, Session
    session = Session(WIRING, PROBE, SIG)
    long_ago = time.time_ns() - int(2 * ARP_PATIENCE * 1e9)
    session.capture.frames = [Frame("b", "eth0", True, long_ago, NS)]
    assert not session._arp_gave_up()              # b is not on the path (no prediction: a alone)
    session.capture.frames = [Frame("a", "eth0", True, long_ago, NS)]
    assert session._arp_gave_up()
    session.capture.frames.append(Frame("b", "eth0", True, long_ago, NA))
    assert not session._arp_gave_up()              # answered
    session.capture.frames = [Frame("a", "eth0", True, time.time_ns(), NS)]
    assert not session._arp_gave_up()              # not yet: patience


def test_a_dropped_solicitation_says_why_nobody_answered():
    from netlab.trace.correlate import correlate
    forward = "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -i br-q -o br-q -j DROP\nCOMMIT\n"
    wiring = Wiring("lab", {"a": Space(name="a", role="container", owner="a"),
                            "n": Space(name="n", role="host", owner="node1", ruleset6=parse_save(forward))})
    ns_view = capture.dissect(Frame("n", "veth", False, 2, NS))
    event = nftrace.TraceEvent(netns="n", order=1, id=7, family=10, table="filter", chain="FORWARD", kind="rule",
                               verdict="drop", handle=4, packet=ns_view)
    ev = replace(evidence(seen("a", True, 1, NS)), events=[event],
                 rule_refs6={"n": {("filter", "FORWARD", 4): RuleRef("filter", "FORWARD", 1, 0)}})
    t = correlate(ev, wiring)
    assert (t.outcome.status, t.outcome.reason, t.outcome.netns) == ("no-path", "no-neighbour", "a")
    assert t.outcome.rule == "-A FORWARD -i br-q -o br-q -j DROP" and t.outcome.evidence == "nftrace"
    assert "solicitation was dropped in node1" in t.outcome.detail
    assert not t.rules                    # the solicitation's rules are not the probe's
