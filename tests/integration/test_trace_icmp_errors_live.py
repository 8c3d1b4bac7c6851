"""ICMP errors about the probe in live traces (issue 16 item 3): the error the kernel sent
(type, code, sender, its way back) equals the one predicted; where the kernel sends none
(a namespace that does not forward, a netfilter DROP) none is predicted; one sent only
when a neighbour entry fails, seconds later, is predicted and not waited for."""
from __future__ import annotations

import pytest
from conftest import needs_root
from ipv6_labs import dual_stack_lab
from test_trace import agrees, lab_tracer, traced, traced_with
from test_trace_ipv6 import SEALED

from netlab.trace.compare import first_error
from netlab.trace.icmp_errors import error_text

pytestmark = [needs_root, pytest.mark.root]

CONTAINERS = "  a: {networks: [dual]}\n  b: {networks: [dual]}\n  s1: {networks: [sealed]}\n"


def error_of(t) -> str | None:
    hop = first_error(t)
    return error_text(hop.packet, hop.owner) if hop else None


def test_the_error_the_kernel_sends_is_the_one_predicted(make_lab):
    lab = "hie"
    make_lab(dual_stack_lab(lab, CONTAINERS, networks=SEALED))

    # a forwarding router with no route (outside routes IPv6 and knows no 2001:db8:ffff::/48):
    # ICMPv6 no route from its address toward node1, de-SNATed by node1 back to a
    t = traced(lab, "a", "2001:db8:ffff::1")
    agrees(t)
    o = t.outcome
    assert (o.status, o.reason, o.netns, o.reply, o.reply_status) == ("dropped", "no-route", f"{lab}-outside",
                                                                      "no-route", "delivered")
    assert error_of(t) == error_of(t.predicted) == "icmp6 1/0 no-route from 2001:db8:a:101::254 (outside)"
    assert t.leg("reply")[-1].netns == f"{lab}-a"
    assert (o.kernel_reason, t.predicted.outcome.kernel_reason) == ("IP_INNOROUTES", "IP_INNOROUTES")

    # no listener: the destination's own port unreachable, from the address it was sent to
    for dst, family, text in (("b:9", 4, "icmp 3/3 port-unreachable from 172.30.0.3 (b)"),
                              ("b:9", 6, "icmp6 1/4 port-unreachable from 2001:db8:2::3 (b)")):
        t = traced(lab, "a", dst, proto="udp", family=family)
        agrees(t)
        assert t.outcome.status == "delivered" and error_of(t) == error_of(t.predicted) == text

    # silent drops: a namespace that does not forward IPv4 (ip_error only counts it), and
    # Docker's isolation (a DROP): no error, observed or predicted
    for dst, family in (("198.51.100.77", 4), ("s1", 6)):
        t = traced(lab, "a", dst, family=family, by_name=False)     # a cannot resolve s1: the lab's view
        agrees(t)
        assert t.outcome.status == "dropped" and t.outcome.reply is None
        assert error_of(t) is None and error_of(t.predicted) is None

    # a neighbour that never answers behind node1: host unreachable only when the entry
    # fails, about 3 s later: predicted (from node1's SNAT address, the packet it quotes
    # having been masqueraded), not waited for, not a difference
    t = traced(lab, "a", "10.10.101.77")
    agrees(t)
    assert t.predicted.outcome.reply == "host-unreachable" and t.outcome.reply is None
    assert any("icmp 3/1 host-unreachable from 10.10.101.105 (node1)" in n for n in t.predicted.notes)


def test_ttl_running_out_sends_time_exceeded_as_predicted(make_lab):
    """A probe sent with a small TTL (hop limit): the router where it runs out sends time
    exceeded, from its address toward the source; freed as IP_INHDR."""
    lab = "hit"
    make_lab(dual_stack_lab(lab, CONTAINERS, networks=SEALED))
    _, run = lab_tracer(lab)
    cases = (("198.51.100.77", "icmp", None, 1, "node1", "icmp 11/0 time-exceeded from 172.30.0.1 (node1)"),
             ("2001:db8:ffff::1", "icmp", None, 1, "node1", "icmp6 3/0 time-exceeded from 2001:db8:2::1 (node1)"),
             ("2001:db8:ffff::1", "tcp", 80, 1, "node1", "icmp6 3/0 time-exceeded from 2001:db8:2::1 (node1)"),
             # past node1 (and its SNAT) to outside, which has no route for it: routing
             # fails before the hop limit is looked at (ip6_route_input, then ip6_forward)
             ("2001:db8:ffff::1", "udp", 53, 2, "outside", "icmp6 1/0 no-route from 2001:db8:a:101::254 (outside)"))
    for dst, proto, port, ttl, where, text in cases:
        t = traced_with(run, "a", dst, lab, proto=proto, port=port, ttl=ttl)
        agrees(t)
        o = t.outcome
        reason, kernel = ("ttl-exceeded", "IP_INHDR") if "time-exceeded" in text else ("no-route", "IP_INNOROUTES")
        name = "time-exceeded" if "time-exceeded" in text else "no-route"
        assert (o.status, o.reason, o.netns, o.reply, o.reply_status) == \
            ("dropped", reason, f"{lab}-{where}", name, "delivered"), (dst, proto)
        assert error_of(t) == error_of(t.predicted) == text
        assert (o.kernel_reason, t.predicted.outcome.kernel_reason) == (kernel, kernel), (dst, proto)
    # the same through the tracer's entry point (netlab trace --ttl): the app layer passes it on
    t = traced(lab, "a", "198.51.100.77", ttl=1)
    agrees(t)
    assert (t.probe.ttl, t.outcome.reason, t.outcome.netns) == (1, "ttl-exceeded", f"{lab}-node1")
