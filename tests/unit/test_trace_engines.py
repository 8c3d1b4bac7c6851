"""The tracer's evaluators on the rules Docker's later engines write, read from Docker's own
goldens (tests/fixtures/moby-goldens): iptables for 28.5 and 29.7, native nftables (table ip
docker-bridges) for 29.7-nftables. One bridge br-dummy 192.168.0.0/24, one container
192.168.0.2, tcp 8080 -> 80 published; the host is 10.0.0.5 on eth0 and 192.168.0.1 on the
bridge. Each case says what the packet meets at one hook, the same on every engine (as far
as the engine writes that configuration), and why, in the words the report uses."""
from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from moby_goldens import GOLDENS

from netlab.plan.firewall.render import parse_save
from netlab.trace.explain import drop_reason, why
from netlab.trace.hooks import Rules, run_hook
from netlab.trace.iptables import Context
from netlab.trace.model import PacketView
from netlab.trace.nft_eval import parse_rule
from netlab.trace.nft_model import NftTextError, parse, priority

FOLDERS = {"28.5": ("docker-28.5.2/iptables", "iptables"), "29.7": ("docker-29.7.2/iptables", "iptables"),
           "29.7-nftables": ("docker-29.7.2/nftables", "ip")}
ENGINES = tuple(FOLDERS)
LOCAL = frozenset(IPv4Address(a) for a in ("10.0.0.5", "192.168.0.1", "127.0.0.1"))
OUTSIDE, HOST, CIP, BR = "10.0.0.9", "10.0.0.5", "192.168.0.2", "br-dummy"
NAT = "hairpin=false,internal=false,icc=true,masq=true,snat=false,gwm=nat,bindlh=false"


def rules(engine: str, config: str) -> Rules:
    folder, suffix = FOLDERS[engine]
    text = (GOLDENS / folder / f"{config}__{suffix}.golden").read_text()
    return Rules(nft=parse(text)) if suffix == "ip" else Rules(iptables=parse_save(text))


def at(engine: str, config: str, hook: str, pkt: PacketView, iif: str | None, oif: str | None,
       state: str = "NEW"):
    return run_hook(rules(engine, config), hook, pkt, Context(iif, oif, LOCAL, state))


def tcp(src: str, dst: str, dport: int) -> PacketView:
    return PacketView(src, dst, "tcp", sport=40000, dport=dport, tcp_flags="S")


def last(result):
    d = result.decisions[-1]
    return d, (d.rule.text if d.rule else None)


# ---- the rule text ------------------------------------------------------------------------
def test_every_nft_golden_parses_and_every_rule_is_understood():
    seen = 0
    for path in sorted((GOLDENS / "docker-29.7.2/nftables").glob("*__ip.golden")):
        table = parse(path.read_text()).table("docker-bridges", "ip")
        assert table is not None and table.chain("filter-FORWARD").hook == "forward", path.name
        assert table.chain("raw-PREROUTING").priority == -300 and table.chain("nat-POSTROUTING").priority == 100
        for chain in table.chains:
            for rule in chain.rules:
                assert parse_rule(rule.text).unknown is None, f"{path.name}: {rule.text}"
                assert "packets" not in rule.text and rule.position >= 1
                seen += 1
    assert seen > 2000


def test_listing_with_handles_and_wrapped_elements():
    text = """table ip docker-bridges { # handle 7
\tmap filter-forward-in-jumps { # handle 3
\t\ttype ifname : verdict
\t\telements = { "br-a" : jump filter-forward-in__br-a,
\t\t\t     "docker0" : jump filter-forward-in__docker0 }
\t}

\tchain filter-FORWARD { # handle 1
\t\ttype filter hook forward priority filter; policy accept;
\t\toifname vmap @filter-forward-in-jumps # handle 12
\t}

\tchain filter-forward-in__br-a { # handle 4
\t\tct state established,related counter packets 3 bytes 180 accept # handle 13
\t\tcounter packets 1 bytes 60 drop comment "UNPUBLISHED PORT DROP" # handle 14
\t}
}
table ip6 docker-bridges {
\tchain x {
\t}
}
"""
    rs = parse(text)
    assert [t.family for t in rs.tables] == ["ip", "ip6"]
    assert [t.family for t in rs.of_family(4).tables] == ["ip"]
    assert [t.family for t in rs.of_family(6).tables] == ["ip6"]
    assert parse("table arp a {\n}\n").tables == ()          # the tracer walks no arp table
    t = rs.tables[0]
    assert dict(t.set("filter-forward-in-jumps").elements) == {"br-a": "jump filter-forward-in__br-a",
                                                               "docker0": "jump filter-forward-in__docker0"}
    drop = t.chain("filter-forward-in__br-a").rules[1]
    assert (drop.position, drop.text) == (2, 'counter drop comment "UNPUBLISHED PORT DROP"')
    assert priority("dstnat - 10") == -110 and priority("-300") == -300
    with pytest.raises(NftTextError, match="line 1"):
        parse("chain x {\n}\n")


def test_nft_rule_parts():
    p = parse_rule('iifname != "br-dummy" tcp dport 8080 counter dnat to 192.168.0.2:80 comment "DNAT"')
    assert p.nat == ("DNAT", "192.168.0.2:80") and p.comment == "DNAT" and p.verdict == "accept"
    assert [(c.selector, c.negated, c.values) for c in p.conds] == [("iifname", True, ("br-dummy",)),
                                                                    ("tcp dport", False, ("8080",))]
    assert parse_rule("ct state established,related counter accept").conds[0].values == ("established", "related")
    assert parse_rule("ip saddr 172.17.0.11 udp sport 35000 counter snat to :53").nat == ("SNAT", ":53")
    assert parse_rule("meta mark 0x1 accept").unknown == "meta"


# ---- what each engine does with the packet -------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_published_port_from_outside_is_dnated_and_accepted(engine):
    pre = at(engine, NAT, "PREROUTING", tcp(OUTSIDE, HOST, 8080), "eth0", None)
    assert pre.verdict == "accept" and pre.nat == ("DNAT", f"{CIP}:80")
    fwd = at(engine, NAT, "FORWARD", tcp(OUTSIDE, CIP, 80), "eth0", BR)
    d, text = last(fwd)
    assert fwd.verdict == "accept" and d.verdict == "accept" and f"{CIP}" in text and "80" in text


@pytest.mark.parametrize("engine", ENGINES)
def test_direct_access_to_a_container_is_dropped_in_raw_prerouting(engine):
    result = at(engine, NAT, "PREROUTING", tcp(OUTSIDE, CIP, 80), "eth0", None)
    d, text = last(result)
    assert result.verdict == "drop" and d.chain in ("PREROUTING", "raw-PREROUTING")
    assert (d.table == "raw") == (engine != "29.7-nftables")
    assert why(d.table, d.chain, text, "drop").startswith(f"direct access to a container address ({CIP}) from "
                                                          f"outside its bridge {BR} — Docker 28+ drops it")
    # from the container's own bridge the same address is fine
    assert at(engine, NAT, "PREROUTING", tcp("192.168.0.3", CIP, 80), BR, None).verdict == "accept"


@pytest.mark.parametrize("engine", ENGINES)
def test_unpublished_port_dropped_past_routing(engine):
    config = NAT.replace("gwm=nat", "gwm=routed")
    assert at(engine, config, "PREROUTING", tcp(OUTSIDE, CIP, 81), "eth0", None).verdict == "accept"
    result = at(engine, config, "FORWARD", tcp(OUTSIDE, CIP, 81), "eth0", BR)
    d, text = last(result)
    assert result.verdict == "drop"
    assert why(d.table, d.chain, text, "drop").startswith(f"UNPUBLISHED PORT DROP: nothing published lets this "
                                                          f"packet in to {BR}")
    assert drop_reason(d.table, d.chain, d.kind, text) == "rule"
    # routed: ICMP to the container is accepted, and nothing is masqueraded on the way out
    ping = PacketView(OUTSIDE, CIP, "icmp", icmp_type=8, icmp_id=7)
    result = at(engine, config, "FORWARD", ping, "eth0", BR)
    d, text = last(result)
    assert result.verdict == "accept" and why(d.table, d.chain, text, "accept").startswith("gateway mode routed")
    out = at(engine, config, "POSTROUTING", tcp(CIP, OUTSIDE, 80), BR, "eth0")
    assert out.nat is None


@pytest.mark.parametrize("engine", ENGINES)
def test_nat_unprotected_opens_every_port(engine):
    config = NAT.replace("gwm=nat", "gwm=nat-unprotected")
    assert at(engine, config, "PREROUTING", tcp(OUTSIDE, CIP, 81), "eth0", None).verdict == "accept"
    result = at(engine, config, "FORWARD", tcp(OUTSIDE, CIP, 81), "eth0", BR)
    d, text = last(result)
    assert result.verdict == "accept" and why(d.table, d.chain, text, "accept").startswith(
        "gateway mode nat-unprotected")


@pytest.mark.parametrize("engine", ENGINES)
def test_outgoing_is_masqueraded_or_snatted_to_host_ipv4(engine):
    out = at(engine, NAT, "POSTROUTING", tcp(CIP, OUTSIDE, 80), BR, "eth0")
    assert out.nat == ("MASQUERADE", "")
    out = at(engine, NAT.replace("snat=false", "snat=true"), "POSTROUTING", tcp(CIP, OUTSIDE, 80), BR, "eth0")
    assert out.nat == ("SNAT", "192.168.123.0")


@pytest.mark.parametrize("engine", ENGINES)
def test_internal_and_icc_false(engine):
    config = "hairpin=false,internal=true,icc=false"
    result = at(engine, config, "FORWARD", tcp(CIP, OUTSIDE, 80), BR, "eth0")
    d, text = last(result)
    assert result.verdict == "drop" and drop_reason(d.table, d.chain, d.kind, text) == "isolation"
    assert "internal network" in why(d.table, d.chain, text, "drop")
    result = at(engine, NAT.replace("icc=true", "icc=false"), "FORWARD", tcp(CIP, "192.168.0.3", 80), BR, BR)
    d, text = last(result)
    assert result.verdict == "drop" and "(icc=false)" in why(d.table, d.chain, text, "drop")


@pytest.mark.parametrize("engine", ENGINES)
def test_replies_pass_on_conntrack(engine):
    config = NAT.replace("gwm=nat", "gwm=routed")
    reply = PacketView(OUTSIDE, CIP, "tcp", sport=81, dport=40000, tcp_flags="SA")
    result = at(engine, config, "FORWARD", reply, "eth0", BR, state="ESTABLISHED")
    d, text = last(result)
    assert result.verdict == "accept" and ("RELATED,ESTABLISHED" in text or "established,related" in text)


@pytest.mark.parametrize("engine", ENGINES)
def test_loopback_binding_is_not_reachable_from_outside(engine):
    config = NAT.replace("bindlh=false", "bindlh=true")
    result = at(engine, config, "PREROUTING", tcp(OUTSIDE, "127.0.0.1", 8080), "eth0", None)
    d, text = last(result)
    assert result.verdict == "drop" and why(d.table, d.chain, text, "drop").startswith(
        "a port published on the loopback address")


def test_nat_chains_stop_once_one_has_mapped():
    # an iptables nat table and a native nat chain at the same hook: the first DNAT wins
    both = Rules(iptables=parse_save("*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 8080 "
                                     "-j DNAT --to-destination 192.168.0.9:80\nCOMMIT\n"),
                 nft=parse((GOLDENS / FOLDERS["29.7-nftables"][0] / f"{NAT}__ip.golden").read_text()))
    result = run_hook(both, "PREROUTING", tcp(OUTSIDE, HOST, 8080), Context("eth0", None, LOCAL))
    assert result.nat == ("DNAT", "192.168.0.9:80")
    assert [(d.table, d.chain) for d in result.decisions][:2] == [("docker-bridges", "raw-PREROUTING"),
                                                                  ("nat", "PREROUTING")]
    assert not any(d.chain == "nat-prerouting-and-output" for d in result.decisions)


# ---- the live side: nftrace events of native rules --------------------------------------------
def with_handles(text: str) -> str:
    """A golden as `nft -a list table` prints it: every rule line with a handle."""
    out, handle = [], 100
    for line in text.splitlines():
        words = line.split()
        is_rule = line.startswith("\t\t") and words and words[0] not in ("type", "elements")
        if is_rule:
            handle += 1
            line = f"{line} # handle {handle}"
        out.append(line)
    return "\n".join(out) + "\n"


def test_nftrace_events_name_the_native_rule_and_its_position():
    from netlab.trace.correlate import _hit
    from netlab.trace.evidence import Evidence, RuleRef, TraceEvent
    from netlab.trace.signature import Signature
    from netlab.trace.target import Probe
    from netlab.trace.wiring import Space, Wiring
    listing = parse(with_handles((GOLDENS / FOLDERS["29.7-nftables"][0] / f"{NAT}__ip.golden").read_text()))
    table = listing.table("docker-bridges")
    # the kernel's rule dump: every rule's handle and its place in its chain
    handles = {(c.name, r.position): 100 + 10 * i + r.position for i, c in enumerate(table.chains) for r in c.rules}
    refs = {("docker-bridges", chain, h): RuleRef("docker-bridges", chain, position, 0)
            for (chain, position), h in handles.items()}
    probe = Probe(src="outside", dst="node1:8080", proto="tcp", netns="n", owner="outside",
                  dst_ip=IPv4Address(HOST), dport=8080, src_ip=IPv4Address(OUTSIDE), dst_netns=None)
    ev = Evidence(probe=probe, signature=Signature("tcp", 23456), nft={"n": listing}, rule_refs={"n": refs})
    wiring = Wiring("lab", {"n": Space(name="n", role="host", owner="node1")})
    pkt = tcp(OUTSIDE, HOST, 8080)

    def event(chain: str, kind: str, verdict: str, handle: int | None):
        e = TraceEvent(netns="n", order=1, id=1, family=2, table="docker-bridges", chain=chain, kind=kind,
                       verdict=verdict, handle=handle)
        return _hit(ev, wiring, e, pkt, "request")

    hit = event("raw-PREROUTING", "rule", "drop", handles[("raw-PREROUTING", 1)])
    assert (hit.rule, hit.position, hit.handle, hit.native) == (
        'ip daddr 192.168.0.2 iifname != "br-dummy" counter drop comment "DROP DIRECT ACCESS"', 1,
        handles[("raw-PREROUTING", 1)], True)
    assert "DROP DIRECT ACCESS" in hit.describe() and hit.describe().startswith("docker-bridges raw-PREROUTING: ")
    dnat = event("nat-prerouting-and-output", "rule", "accept", handles[("nat-prerouting-and-output", 1)])
    assert dnat.target == "DNAT" and dnat.position == 1
    drop = event("filter-forward-in__br-dummy", "rule", "drop", handles[("filter-forward-in__br-dummy", 4)])
    assert drop.position == 4 and drop.rule.endswith('comment "UNPUBLISHED PORT DROP"')
    # a chain that ran out: a user chain returns, a base chain's policy event follows
    end = event("nat-postrouting-in__br-dummy", "rule", "continue", None)
    assert (end.kind, end.verdict, end.rule) == ("return", "return", None)
    assert event("nat-POSTROUTING", "rule", "continue", None) is None


def test_counters_stand_in_only_where_nftrace_is_blind():
    """A counter that moved during the trace names a rule only under iptables-legacy: with
    nftrace, it counts someone else's packets (a container's DNS query at that moment)."""
    from netlab.trace.correlate import _counter_rules
    from netlab.trace.evidence import Evidence
    from netlab.trace.signature import Signature
    from netlab.trace.target import Probe
    from netlab.trace.wiring import Space, Wiring
    ruleset = parse_save("*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT\nCOMMIT\n")
    wiring = Wiring("lab", {"c": Space(name="c", role="container", owner="u1", ruleset=ruleset)})
    probe = Probe(src="outside", dst="node1:8080", proto="tcp", netns="o", owner="outside",
                  dst_ip=IPv4Address(HOST), dport=8080, src_ip=IPv4Address(OUTSIDE), dst_netns=None)
    for flavour, hits in (("nft", []), ("legacy", ["-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT"])):
        ev = Evidence(probe=probe, signature=Signature("tcp", 23456), flavour=flavour,
                      counters={"c": {("nat", "OUTPUT", 1): 1}})
        assert [r.rule for r in _counter_rules(ev, wiring, [], [])] == hits
