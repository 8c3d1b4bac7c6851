"""DST as people type it, fuzzed: whatever the text, a trace is either set up or refused
with a clear error — never a traceback. Addresses of both families, brackets, ports,
zones, names and their mixtures."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ipv6_labs import dual_stack_lab

from netlab.errors import NetlabError
from netlab.model import load_text
from netlab.plan.planner import build_plan
from netlab.trace.target import resolve
from netlab.trace.wiring import from_plan

TOPO = load_text(dual_stack_lab("tfz", "  a: {networks: [dual]}\n  b: {networks: [dual]}\n"), "tfz.yaml")
WIRING = from_plan(TOPO, build_plan(TOPO))

PIECES = st.sampled_from(["2001:db8:2::3", "::", "::1", "fe80::1", "ff02::1", "172.30.0.3", "0.0.0.0",
                          "b", "a", "outside", "node1", "[", "]", ":", "::", "%eth0", "80", "0", "65536",
                          "/64", "-", "g", "2001:db8:2::3:80", "1.2.3", "[2001:db8:2::3]", "256.1.1.1"])
DST = st.one_of(st.lists(PIECES, min_size=1, max_size=4).map("".join),
                st.text(alphabet="0123456789abcdef:[]./%-x ", min_size=1, max_size=24))


@settings(max_examples=400, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(dst=DST, family=st.sampled_from([None, 4, 6]), proto=st.sampled_from([None, "icmp", "tcp", "udp"]),
       port=st.one_of(st.none(), st.integers(min_value=-1, max_value=70000)))
def test_any_destination_is_resolved_or_refused_clearly(dst, family, proto, port):
    try:
        probe = resolve(TOPO, WIRING, "a", dst, proto, port, family)
    except NetlabError as e:
        assert str(e) and "Traceback" not in str(e)
        return
    assert probe.family == probe.dst_ip.version
    assert family in (None, probe.family)
    assert probe.proto in ("icmp", "tcp", "udp")
