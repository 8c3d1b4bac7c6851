"""What the embedded DNS answers, in bytes: A with TTL 600 in shuffled order, AAAA of a known
name as an empty NOERROR, PTR, MX, forwarding of the rest, truncation at 512 or the EDNS
size, and junk that gets FORMERR or nothing, never an exception. Pure."""
from __future__ import annotations

import random
import struct

from dnslib import EDNS0, QTYPE, RCODE, DNSRecord
from hypothesis import given, settings
from hypothesis import strategies as st

from netlab.agent.dnsmsg import TTL, decide, failure, standin_answer, upstream_verdict
from netlab.agent.names import Table, View
from netlab.plan.items import DnsNames

MANY = tuple(f"10.5.{i // 250}.{i % 250 + 1}" for i in range(60))
TABLE = Table.of(DnsNames("n", "n", (("web", ("10.5.0.2",)), ("pool", ("10.5.0.2", "10.5.0.3", "10.5.0.4")),
                                     ("big", MANY)), (("10.5.0.2", "web"),)))
VIEW = View((("n", TABLE),), {})


def ask(name: str, qtype: str = "A", tcp: bool = False, edns: int | None = None, can_forward: bool = True,
        ndots_set: bool = False, qid: int = 4242):
    q = DNSRecord.question(name, qtype)
    q.header.id = qid
    if edns:
        q.add_ar(EDNS0(udp_len=edns))
    d = decide(VIEW, q.pack(), tcp, can_forward, ndots_set)
    return d, (DNSRecord.parse(d.reply) if d.reply else None)


def test_a_record():
    d, r = ask("web")
    assert d.outcome == "answered" and not d.forward
    assert r.header.id == 4242 and r.header.qr and r.header.ra and r.header.rd and not r.header.aa
    assert r.header.rcode == RCODE.NOERROR
    assert [(str(rr.rname), rr.rtype, rr.ttl, str(rr.rdata)) for rr in r.rr] == [("web.", QTYPE.A, TTL, "10.5.0.2")]
    assert str(r.q.qname) == "web."


def test_question_case_is_kept():
    _, r = ask("WeB")
    assert str(r.rr[0].rname) == "WeB." and str(r.rr[0].rdata) == "10.5.0.2"


def test_round_robin_order_changes():
    orders = {tuple(str(rr.rdata) for rr in ask("pool")[1].rr) for _ in range(200)}
    assert len(orders) > 1
    assert all(sorted(o) == ["10.5.0.2", "10.5.0.3", "10.5.0.4"] for o in orders)


def test_aaaa_of_a_known_name_is_empty_noerror():
    d, r = ask("web", "AAAA")
    assert r.header.rcode == RCODE.NOERROR and r.rr == [] and not d.forward


def test_mx_of_a_known_name_is_empty_noerror():
    _, r = ask("web", "MX")
    assert r.header.rcode == RCODE.NOERROR and r.rr == []


def test_ptr():
    _, r = ask("2.0.5.10.in-addr.arpa", "PTR")
    assert [(rr.rtype, str(rr.rdata), rr.ttl) for rr in r.rr] == [(QTYPE.PTR, "web.n.", TTL)]


def test_unknown_names_and_types_are_forwarded():
    for name, qtype in (("example.org", "A"), ("nothing", "AAAA"), ("web", "TXT"), ("web", "SRV"),
                        ("9.9.9.9.in-addr.arpa", "PTR"), ("nothing", "MX")):
        d, _ = ask(name, qtype)
        assert d.forward and d.reply is None and d.outcome == "forwarded", (name, qtype)


def test_no_upstream_means_servfail_at_once():
    d, r = ask("example.org", can_forward=False)
    assert not d.forward and r.header.rcode == RCODE.SERVFAIL and r.header.id == 4242


def test_user_ndots_keeps_single_labels_home():
    _, r = ask("nothing", ndots_set=True)
    assert r.header.rcode == RCODE.NOERROR and r.rr == []
    d, _ = ask("nothing.example", ndots_set=True)
    assert d.forward


def test_udp_truncation_at_512():
    d, r = ask("big")
    assert len(d.reply) <= 512 and r.header.tc
    assert 0 < len(r.rr) < len(MANY)


def test_udp_truncation_at_the_edns_size():
    d, r = ask("big", edns=700)
    assert 512 < len(d.reply) <= 700 and r.header.tc
    d, r = ask("big", edns=4096)
    assert not r.header.tc and len(r.rr) == len(MANY)
    d, r = ask("big", edns=100)          # never below 512
    assert 400 < len(d.reply) <= 512


def test_tcp_is_not_truncated():
    d, r = ask("big", tcp=True)
    assert not r.header.tc and len(r.rr) == len(MANY)


def test_junk():
    assert decide(VIEW, b"", False, True).reply is None
    assert decide(VIEW, b"\x00" * 11, False, True).reply is None            # shorter than a header
    response = DNSRecord.question("web").reply().pack()
    assert decide(VIEW, response, False, True).reply is None                # never answer a response
    no_question = struct.pack("!6H", 7, 0x0100, 0, 0, 0, 0)
    r = DNSRecord.parse(decide(VIEW, no_question, False, True).reply)
    assert r.header.id == 7 and r.header.rcode == RCODE.FORMERR
    update = struct.pack("!6H", 8, 5 << 11, 1, 0, 0, 0) + b"\x03web\x00\x00\x01\x00\x01"
    r = DNSRecord.parse(decide(VIEW, update, False, True).reply)
    assert r.header.rcode == RCODE.NOTIMP and r.header.opcode == 5
    cut = DNSRecord.question("web").pack()[:-3]
    r = DNSRecord.parse(decide(VIEW, cut, False, True).reply)
    assert r.header.rcode == RCODE.FORMERR


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_never_raise(data):
    d = decide(VIEW, data, random.random() < 0.5, True)
    assert d.reply is None or len(d.reply) >= 12


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_queries_never_raise(data):
    packet = bytearray(DNSRecord.question(data.draw(st.sampled_from(["web", "pool", "big", "x.y"])),
                                          data.draw(st.sampled_from(["A", "AAAA", "PTR", "MX", "TXT"]))).pack())
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(packet) - 1))
        packet[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(packet)))
    decide(VIEW, bytes(packet[:cut]), False, True)
    decide(VIEW, bytes(packet), True, False)
    standin_answer(bytes(packet))


def test_upstream_verdicts():
    q = DNSRecord.question("example.org")
    q.header.id = 99
    ok = q.reply()
    assert upstream_verdict(ok.pack(), 99) == "use"
    assert upstream_verdict(ok.pack(), 98) == "ignore"
    nx = q.reply()
    nx.header.rcode = RCODE.NXDOMAIN
    nx.header.aa = 1
    assert upstream_verdict(nx.pack(), 99) == "use"       # authoritative: stop here
    nx.header.aa = 0
    assert upstream_verdict(nx.pack(), 99) == "next"
    for code in (RCODE.SERVFAIL, RCODE.REFUSED):
        bad = q.reply()
        bad.header.rcode = code
        assert upstream_verdict(bad.pack(), 99) == "next"
    assert upstream_verdict(b"\x00\x63" + b"\xff" * 20, 99) == "next"


def test_failure_is_servfail_for_the_query():
    q = DNSRecord.question("example.org")
    r = DNSRecord.parse(failure(q.pack()))
    assert r.header.id == q.header.id and r.header.rcode == RCODE.SERVFAIL and str(r.q.qname) == "example.org."


def test_standin_says_nxdomain_authoritatively():
    q = DNSRecord.question("example.org", "A")
    r = DNSRecord.parse(standin_answer(q.pack()))
    assert r.header.id == q.header.id and r.header.rcode == RCODE.NXDOMAIN and r.header.aa
    assert standin_answer(q.reply().pack()) is None
