"""Names of containers with IPv6: /etc/hosts lines (the endpoint's IPv4 address, then its
IPv6 one, as getEtcHostsAddrs lists them), AAAA answers of the embedded DNS in round robin
as for A, and PTR under ip6.arpa. A lab without IPv6 keeps its tables as they were. Pure."""
from __future__ import annotations

from dnslib import QTYPE, RCODE, DNSRecord

from netlab.agent.dnsmsg import decide
from netlab.agent.names import Table, View, reverse_ip
from netlab.model import load_text
from netlab.plan.dns import name_tables
from netlab.plan.etc import container_hosts

LAB = """
name: v6names
engine: "28.5"
networks:
  dual:
    enable_ipv6: true
    ipam: {config: [{subnet: 172.30.0.0/24}, {subnet: "2001:db8:2::/64"}]}
  plain: {subnet: 172.31.0.0/24}
containers:
  a: {networks: {dual: {ipv6_address: "2001:db8:2::a", aliases: [pool]}, plain: {}}}
  b: {networks: {dual: {aliases: [pool]}}}
"""


def _tables():
    topo = load_text(LAB)
    return topo, {t.network: t for t in name_tables(topo)}


def test_hosts_lists_the_ipv6_address_after_the_ipv4_one():
    topo, _ = _tables()
    a = topo.container("a")
    tail = container_hosts(topo, a).splitlines()[-3:]
    v4 = {att.network: str(att.address.ip) for att in a.attachments}
    assert tail == [f"{v4['dual']}\t{a.hostname}", f"2001:db8:2::a\t{a.hostname}", f"{v4['plain']}\t{a.hostname}"]


def test_name_tables_carry_both_families():
    topo, tables = _tables()
    b6 = str(topo.container("b").attachment("dual").address6.ip)
    names = dict(tables["dual"].names)
    a4 = str(topo.container("a").attachment("dual").address.ip)
    b4 = str(topo.container("b").attachment("dual").address.ip)
    assert names["pool"] == (a4, "2001:db8:2::a", b4, b6)
    assert tables["dual"].reverse == ((a4, "a"), ("2001:db8:2::a", "a"), (b4, "b"), (b6, "b"))
    # the IPv4-only network's tables have no IPv6 address
    assert not any(":" in ip for _, ips in tables["plain"].names for ip in ips)
    table = Table.of(tables["dual"])
    assert table.names["pool"] == (a4, b4) and table.names6["pool"] == ("2001:db8:2::a", b6)


def _ask(view: View, name: str, qtype: str) -> DNSRecord:
    d = decide(view, DNSRecord.question(name, qtype).pack(), False, True)
    assert not d.forward
    return DNSRecord.parse(d.reply)


def test_aaaa_and_ptr_answers():
    topo, tables = _tables()
    view = View(tuple((n, Table.of(t)) for n, t in tables.items()), {})
    r = _ask(view, "pool", "AAAA")
    b6 = str(topo.container("b").attachment("dual").address6.ip)
    assert r.header.rcode == RCODE.NOERROR
    assert sorted(str(rr.rdata) for rr in r.rr) == sorted(["2001:db8:2::a", b6])
    assert {rr.rtype for rr in r.rr} == {QTYPE.AAAA}
    assert [str(rr.rdata) for rr in _ask(view, "a", "A").rr] == [str(topo.container("a").attachment("dual").address.ip)]
    ptr = _ask(view, "a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR")
    assert [str(rr.rdata) for rr in ptr.rr] == ["a.dual."]


def test_name_on_an_ipv4_only_network_is_an_ipv6_miss():
    _, tables = _tables()
    view = View((("plain", Table.of(tables["plain"])),), {})
    r = _ask(view, "a", "AAAA")           # known, no IPv6: empty NOERROR, not forwarded
    assert r.header.rcode == RCODE.NOERROR and not r.rr


def test_reverse_ip_of_ipv6_is_nibbles_reversed():
    assert reverse_ip("2001:db8::1") == ".".join("1" + "0" * 23 + "8bd01002")
    assert reverse_ip("10.9.0.2") == "2.0.9.10"
