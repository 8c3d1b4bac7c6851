"""The iptables programs of 28.5 and 29.7 against Docker's own goldens
(tests/fixtures/moby-goldens): for each golden, the one-network lab that reproduces it
(moby_goldens.lab_yaml) is rendered with the engine's program, and every chain of every
table the golden saves must hold, in order, the golden's rules, ours restricted to those
about br-dummy (docker0 and the controller's DOCKER-USER are not in moby's unit test).
Every chain the golden declares must exist in ours, and ours may write nothing about the
bridge anywhere else. Policies are not compared: moby's test never turns forwarding on."""
from __future__ import annotations

import pytest
from moby_goldens import Golden, about_bridge, daemon_view, goldens, lab_yaml

from netlab.model import load_text
from netlab.plan.firewall import Ruleset, parse_save, render
from netlab.plan.firewall.programs import host_ruleset, host_ruleset6

ENGINES = ("28.5", "29.7")
CASES = [g for e in ENGINES for g in goldens(e)]
# the goldens out of scope (wsl2mirrored) get no test case of their own, so that nothing
# shows as skipped: test_coverage counts them and prints why
IN_SCOPE = [g for g in CASES if not g.skip_reason()]


def ours(g: Golden) -> Ruleset:
    topo = load_text(lab_yaml(g), f"<{g.id}>")
    return (host_ruleset6 if g.family == "ipv6" else host_ruleset)(topo, "node1")


def mismatches(g: Golden) -> list[str]:
    """What differs between the golden (as a daemon writes it) and our program's rules."""
    golden, _ = daemon_view(g, parse_save(g.text()))
    mine = ours(g)
    out: list[str] = []
    for t in golden.tables:
        table = mine.table(t.name)
        for c in t.chains:
            chain = table.chain(c.name) if table else None
            if chain is None and not c.builtin:
                out.append(f"{t.name}: chain {c.name} is missing")
            want = [r for r in c.rules if about_bridge(r)]
            got = [r for r in (chain.rules if chain else ()) if about_bridge(r)]
            if want != got:
                out.append(f"{t.name} {c.name}:\n  golden {want}\n  ours   {got}")
        extra = [f"{t.name} {c.name}: {r}" for c in (table.chains if table else ()) if t.chain(c.name) is None
                 for r in c.rules if about_bridge(r)]
        out += [f"not in the golden: {e}" for e in extra]
    for table in mine.tables:
        if golden.table(table.name) is None:
            out += [f"not in the golden: {table.name} {c.name}: {r}" for c in table.chains
                    for r in c.rules if about_bridge(r)]
    return out


@pytest.mark.parametrize("g", IN_SCOPE, ids=lambda g: g.id)
def test_golden(g: Golden):
    problems = mismatches(g)
    assert not problems, "\n".join(problems)


def coverage(engine: str) -> dict[str, int]:
    counts = {"ipv4": 0, "ipv4 matched": 0, "ipv6": 0, "ipv6 matched": 0, "ipv6 network": 0,
              "ipv6 on ::1": 0, "wsl2mirrored": 0, "routed rules left out": 0}
    for g in goldens(engine):
        reason = g.skip_reason()
        if reason:
            counts["wsl2mirrored"] += 1
            continue
        counts[g.family] += 1
        counts[f"{g.family} matched"] += not mismatches(g)
        counts["ipv6 network"] += g.family == "ipv6" and g.step == "network"
        counts["ipv6 on ::1"] += g.family == "ipv6" and g.step == "network" and g.flag("bindlh")
        counts["routed rules left out"] += daemon_view(g, parse_save(g.text()))[1]
    return counts


@pytest.mark.parametrize("engine", ENGINES)
def test_coverage(engine: str):
    """Every golden not skipped for a stated reason is matched; the counts show with -s."""
    n = coverage(engine)
    print(f"\n{engine}: {n['ipv4 matched']} of {n['ipv4']} IPv4, {n['ipv6 matched']} of {n['ipv6']} IPv6 "
          f"goldens matched ({n['ipv6 network']} of them with an IPv6 network "
          f"({n['ipv6 on ::1']} publishing on [::1]); {n['wsl2mirrored']} wsl2mirrored skipped; "
          f"{n['routed rules left out']} rules of routed goldens left out as a daemon never writes them "
          f"(moby_goldens.daemon_view)")
    assert n["ipv4"] == 103 and n["ipv6"] == 103 and n["ipv6 network"] == 100 and n["ipv6 on ::1"] == 48
    assert n["ipv4 matched"] == n["ipv4"] and n["ipv6 matched"] == n["ipv6"]
    assert n["wsl2mirrored"] + n["ipv4"] + n["ipv6"] == len(goldens(engine))


@pytest.mark.parametrize("engine", ENGINES)
def test_an_ipv6_half_leaves_ipv4_alone(engine: str):
    """Each IPv6 golden's dual-stack lab writes, in iptables, exactly what the IPv4-only lab
    of the same configuration writes, and the IPv4-only lab writes no IPv6 network rule."""
    for g in goldens(engine):
        if g.family != "ipv6" or g.step != "network" or g.skip_reason():
            continue
        twin = next(o for o in goldens(engine) if o.family == "ipv4" and o.params == g.params)
        dual, single = load_text(lab_yaml(g)), load_text(lab_yaml(twin))
        assert host_ruleset(dual, "node1") == host_ruleset(single, "node1"), g.id
        assert "br-dummy" not in render(host_ruleset6(single, "node1")), twin.id


def test_routed_view_leaves_out_only_the_host_side():
    """The adjustment touches routed goldens' DNAT, hairpin MASQUERADE and loopback DROP, and
    nothing of any other golden."""
    for g in CASES:
        golden = parse_save(g.text())
        view, dropped = daemon_view(g, golden)
        routed = g.step == "network" and g.param("gwm") == "routed"
        assert (dropped > 0) == (routed and not g.flag("internal")), g.id
        if not routed:
            assert view == golden
