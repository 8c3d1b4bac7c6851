"""Docker 29.7's nftables rules against Docker's own goldens (tests/fixtures/moby-goldens,
`docker-29.7.2/nftables`: `nft list table ip|ip6 docker-bridges` after moby's TestNftabler).

Two levels:
- the firewaller (plan/firewall/nft/nftabler.py) driven exactly as TestNftabler drives
  moby's: every golden, WSL2 ones included, byte for byte;
- the lab: each golden's one-network lab (moby_goldens.lab_yaml) through the engine's rule
  program, compared per map and chain after leaving out what is about docker0, which a
  netlab host always has. One documented difference: on a routed network the daemon's port
  mapper hands the firewaller no host port, so a lab has no DNAT, loopback or hairpin rule
  for it, where the unit test (which skips the port mapper) does."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

import pytest
from moby_goldens import Golden, goldens, lab_yaml

from netlab.model import load_text
from netlab.plan.firewall.nft.docker29 import host_tables
from netlab.plan.firewall.nft.model import NftChain, NftMap, NftTable
from netlab.plan.firewall.nft.nftabler import Binding, FamilyConfig, FirewallConfig, NetworkConfig, Nftabler
from netlab.plan.firewall.nft.render import parse_tables, render_table
from netlab.plan.firewall.programs import host_nftables, host_ruleset

ENGINE = "29.7-nftables"
ALL = goldens(ENGINE)
FAMILY = {"ipv4": "ip", "ipv6": "ip6"}
# the rules a binding's host port makes: a routed network's bindings have none
HOST_PORT_RULES = ('"DNAT"', '"DROP REMOTE LOOPBACK"', '"MASQ TO OWN PORT"', '"ACCEPT WSL2 LOOPBACK"')


def _id(g: Golden) -> str:
    return g.id


def _table(tables: tuple[NftTable, ...], family: str) -> NftTable:
    return next(t for t in tables if t.family == FAMILY[family])


# -- the firewaller, as moby's TestNftabler calls it ------------------------------------------

def _firewaller_table(g: Golden) -> NftTable:
    fw = Nftabler(FirewallConfig(hairpin=g.flag("hairpin"), wsl2_mirrored=g.flag("wsl2mirrored")))
    if g.step == "network":
        gwm = g.param("gwm", "nat")
        routed, unprotected = gwm == "routed", gwm == "nat-unprotected"
        config6 = FamilyConfig(prefix=IPv6Network("fd49:efd7:54aa::/64"), routed=routed, unprotected=unprotected,
                               host_ip=IPv6Address("fd34:d0d4:672f::123") if g.flag("snat") else None)
        net = fw.new_network(NetworkConfig(
            ifname="br-dummy", internal=g.flag("internal"), icc=g.flag("icc"), masquerade=g.flag("masq"),
            prefix=IPv4Network("192.168.0.0/24"), host_ip=IPv4Address("192.168.123.0") if g.flag("snat") else None,
            routed=routed, unprotected=unprotected, config6=config6))
        cip, cip6 = IPv4Address("192.168.0.2"), IPv6Address("fd49:efd7:54aa::1")
        net.add_endpoint(cip, cip6)
        host_ip = IPv4Address("127.0.0.1" if g.flag("bindlh") else "0.0.0.0")
        host_ip6 = IPv6Address("::1" if g.flag("bindlh") else "::")
        net.add_ports([Binding("tcp", cip, 80, host_ip, 8080), Binding("tcp", cip6, 80, host_ip6, 8080)])
    return _table(fw.tables(), g.family)


# every golden: moby's test gives each network both families, as here
FIREWALLER = ALL


@pytest.mark.parametrize("g", FIREWALLER, ids=_id)
def test_firewaller_writes_the_golden(g: Golden) -> None:
    assert render_table(_firewaller_table(g)) == g.text()


# -- the lab --------------------------------------------------------------------------------

def _about_other_bridge(text: str) -> bool:
    return "docker0" in text or "172.17.0.0/16" in text


def without_docker0(t: NftTable) -> NftTable:
    maps = tuple(NftMap(name=m.name, type=m.type, elements=tuple(e for e in m.elements if e[0] != '"docker0"'))
                 for m in t.maps)
    chains = tuple(NftChain(name=c.name, base=c.base, rules=tuple(r for r in c.rules if not _about_other_bridge(r.line)))
                   for c in t.chains if not c.name.endswith("__docker0"))
    return NftTable(family=t.family, name=t.name, maps=maps, chains=chains)


def expected(g: Golden) -> tuple[NftTable, str | None]:
    """The golden's table, and what was taken out of it, if anything, with the reason."""
    table = parse_tables(g.text())[0]
    if g.param("gwm", "nat") != "routed" or g.step != "network":
        return table, None
    chains = tuple(NftChain(name=c.name, base=c.base, rules=tuple(r for r in c.rules if not any(
        k in r.line for k in HOST_PORT_RULES))) for c in table.chains)
    routed = NftTable(family=table.family, name=table.name, maps=table.maps, chains=chains)
    return routed, "routed: the daemon's routed port mapper drops the host port, so no DNAT/loopback rules"


def lab_table(g: Golden) -> NftTable:
    return without_docker0(_table(host_tables(load_text(lab_yaml(g)), "node1"), g.family))


def matches(g: Golden) -> bool:
    return lab_table(g) == expected(g)[0]


@pytest.mark.parametrize("g", [g for g in ALL if not g.skip_reason()], ids=_id)
def test_lab_matches_the_golden(g: Golden) -> None:
    """Out of scope goldens (wsl2mirrored; IPv6 ones publishing on ::1) have no case:
    test_coverage counts them and prints why."""
    ours, (theirs, reason) = lab_table(g), expected(g)
    if reason:
        print(f"{g.id}: {reason}")
    assert [m.name for m in ours.maps] == [m.name for m in theirs.maps]
    for mine, golden in zip(ours.maps, theirs.maps):
        assert mine == golden, f"map {golden.name}"
    assert [c.name for c in ours.chains] == [c.name for c in theirs.chains]
    for mine_c, golden_c in zip(ours.chains, theirs.chains):
        assert mine_c.base == golden_c.base, f"chain {golden_c.name}"
        assert [r.line for r in mine_c.rules] == [r.line for r in golden_c.rules], f"chain {golden_c.name}"


def test_coverage() -> None:
    counts: dict[str, str] = {}
    for family, label in (("ipv4", "IPv4"), ("ipv6", "IPv6")):
        every = [g for g in ALL if g.family == family]
        checked = [g for g in every if not g.skip_reason()]
        matched = [g for g in checked if matches(g)]
        assert len(matched) == len(checked), [g.id for g in checked if g not in matched]
        counts[label] = f"{len(matched)} of {len(checked)} {label}"
    ipv4 = [g for g in ALL if g.family == "ipv4"]
    ipv6 = [g for g in ALL if g.family == "ipv6"]
    routed = [g for g in ALL if not g.skip_reason() and expected(g)[1]]
    fw_matched = [g for g in FIREWALLER if render_table(_firewaller_table(g)) == g.text()]
    print(f"\n{ENGINE}: {counts['IPv4']}, {counts['IPv6']} goldens matched by the lab "
          f"({len(routed)} routed ones without their host-port rules); skipped: "
          f"{sum(1 for g in ALL if g.skip_reason())} WSL2 mirrored; "
          f"firewaller: {len(fw_matched)} of {len(FIREWALLER)} byte for byte")
    assert sum(1 for g in ipv4 if not g.skip_reason()) == 102
    assert sum(1 for g in ipv6 if not g.skip_reason()) == 2 + 100     # skeletons, networks
    # the 48 of those networks publishing on [::1] (moby's bindlh) are in the lab's scope
    assert sum(1 for g in ipv6 if g.step == "network" and g.flag("bindlh")) == 48
    assert len(fw_matched) == len(FIREWALLER) == 282


def test_no_iptables_and_both_tables() -> None:
    topo = load_text(lab_yaml(next(g for g in ALL if g.step == "cleaned")))
    assert host_ruleset(topo, "node1").tables == ()
    text = host_nftables(topo, "node1")
    assert [t.label for t in parse_tables(text)] == ["ip docker-bridges", "ip6 docker-bridges"]
