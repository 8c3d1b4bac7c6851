"""The resolver's cache of encoded replies: the same answers as without it, each with the
asker's ID; round robin still shuffles; new names drop what was cached. Pure: no sockets
are opened."""
from __future__ import annotations

from dnslib import RCODE, DNSRecord

from netlab.agent.dns import ResolverServer
from netlab.agent.names import Table
from netlab.plan.items import DnsNames, Resolver

ITEM = Resolver("ns", "a", 40000, 40001, (("n", "n@node1"),), (), (("203.0.113.53", "ns"),))


def tables(*extra):
    names = (("web", ("10.0.0.2",)), ("shared", ("10.0.0.2", "10.0.0.3", "10.0.0.4")), *extra)
    return {"n@node1": Table.of(DnsNames("n@node1", "n", names, (("10.0.0.2", "web"),)))}


def ask(server, name, qid, qtype="A"):
    q = DNSRecord.question(name, qtype)
    q.header.id = qid
    d = server._decide(q.pack(), tcp=False)
    return d, DNSRecord.parse(d.reply) if d.reply else None


def test_cached_replies_carry_each_askers_id():
    server = ResolverServer.make(ITEM, tables())
    first, r1 = ask(server, "web", 1)
    again, r2 = ask(server, "web", 2)
    assert (r1.header.id, r2.header.id) == (1, 2)
    assert first.reply[2:] == again.reply[2:]
    assert [str(rr.rdata) for rr in r2.rr] == ["10.0.0.2"]
    assert server.counters["answered"] == 2


def test_round_robin_survives_the_cache():
    server = ResolverServer.make(ITEM, tables())
    orders = set()
    for qid in range(300):
        _, r = ask(server, "shared", qid)
        assert r.header.id == qid and r.header.rcode == RCODE.NOERROR
        orders.add(tuple(str(rr.rdata) for rr in r.rr))
    assert len(orders) == 6            # all 3! orders come up
    assert all(sorted(o) == ["10.0.0.2", "10.0.0.3", "10.0.0.4"] for o in orders)


def test_forward_decisions_are_cached_too():
    server = ResolverServer.make(ITEM, tables())
    for qid in (5, 6):
        d, _ = ask(server, "example.org", qid)
        assert d.forward and d.reply is None
    assert server.counters["forwarded"] == 2


def test_new_names_drop_the_cache():
    server = ResolverServer.make(ITEM, tables())
    d, _ = ask(server, "newbie", 1)
    assert d.forward
    server.update(ITEM, tables(("newbie", ("10.0.0.9",))))
    _, r = ask(server, "newbie", 2)
    assert [str(rr.rdata) for rr in r.rr] == ["10.0.0.9"]
