"""`netlab rules FILE --engine A --diff B`: what each engine writes that the other does not,
from the real rule programs (plan/firewall/compare.py, compare_text.py, compare_nft.py)."""
from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from netlab.cli import main
from netlab.model import load_file
from netlab.plan.firewall.compare import diff_chain, diff_rules, diff_ruleset, moves
from netlab.plan.firewall.compare_nft import nft_ruleset
from netlab.plan.firewall.compare_text import render_diff
from netlab.plan.firewall.model import Chain, Ruleset, Table

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "topologies", "demo.yaml")
GOLDENS = os.path.join(ROOT, "tests", "fixtures", "moby-goldens", "docker-29.7.2", "nftables")
NFT_GOLDEN = os.path.join(GOLDENS, "hairpin=false,internal=false,icc=true,masq=true,snat=false,gwm=nat,bindlh=false__ip.golden")


def _diff(a: str, b: str, path: str = DEMO):
    return diff_rules(load_file(path, a), load_file(path, b))


def _chain(d, family: str, table: str, chain: str):
    f = next(f for f in d.hosts[0].families if f.family == family)
    t = next(t for t in f.tables if t.name == table)
    return t, next((c for c in t.chains if c.name == chain), None)


# ---- real programs -----------------------------------------------------------------------
def test_20_10_and_26_1_write_the_same_rules():
    d = _diff("20.10", "26.1")
    assert d.same and d.hosts[0].families == ()
    text = render_diff(d)
    assert text.splitlines() == ["# 20.10 -> 26.1 (lab demo)",
                                 "identical: 20.10 and 26.1 write the same rules for this lab"]


def test_an_engine_against_itself_is_identical():
    for name in ("28.5", "29.7-nftables"):
        assert _diff(name, name).same


def test_28_5_adds_docker_forward_and_the_raw_table():
    d = _diff("20.10", "28.5")
    assert not d.same
    table, forward = _chain(d, "iptables", "filter", "DOCKER-FORWARD")
    assert forward is not None and forward.only == "b"
    assert "-j DOCKER-CT" in forward.added and not forward.removed
    _, top = _chain(d, "iptables", "filter", "FORWARD")
    assert "-j DOCKER-FORWARD" in top.added
    assert "-j DOCKER-ISOLATION-STAGE-1" in top.removed
    raw, _ = _chain(d, "iptables", "raw", "PREROUTING")
    assert raw.only == "b"
    # the direct-access DROP for web's address on docker0 (172.17.0.2 on the default bridge)
    prerouting = next(c for c in raw.chains if c.name == "PREROUTING")
    assert any(r.endswith("! -i docker0 -j DROP") and r.startswith("-d 172.17.0.") for r in prerouting.added)
    text = render_diff(d)
    assert "# 20.10 -> 28.5 (lab demo)" in text
    assert "DOCKER-FORWARD (only in 28.5)\n  + -j DOCKER-CT" in text
    assert "*raw (only in 28.5)\nPREROUTING (policy ACCEPT)\n  + -d 172.17.0." in text
    assert "  - -j DOCKER-ISOLATION-STAGE-1" in text


def test_the_other_way_round_swaps_the_signs():
    there, back = _diff("20.10", "28.5"), _diff("28.5", "20.10")
    _, fwd = _chain(there, "iptables", "filter", "FORWARD")
    _, bwd = _chain(back, "iptables", "filter", "FORWARD")
    assert (fwd.removed, fwd.added) == (bwd.added, bwd.removed)
    assert _chain(back, "iptables", "filter", "DOCKER-FORWARD")[1].only == "a"


def test_nftables_engine_against_iptables_one():
    d = _diff("29.7", "29.7-nftables")
    families = {f.family: f for f in d.hosts[0].families}
    assert families["iptables"].only == "a"
    assert families["nftables"].only == "b"
    names = {t.name for t in families["nftables"].tables}
    assert "ip docker-bridges" in names
    text = render_diff(d)
    assert "# nftables (only in 29.7-nftables)" in text
    assert "*ip docker-bridges" in text
    assert "\nraw-PREROUTING (type filter hook prerouting priority raw; policy accept)\n" in text


# ---- the comparison itself ---------------------------------------------------------------
def test_a_reordering_is_a_move_not_a_remove_and_add():
    a = Chain("FORWARD", "ACCEPT", ("-j DOCKER-USER", "-j DOCKER-ISOLATION-STAGE-1", "-o docker0 -j DOCKER"))
    b = Chain("FORWARD", "ACCEPT", ("-o docker0 -j DOCKER", "-j DOCKER-USER", "-j DOCKER-ISOLATION-STAGE-1"))
    d = diff_chain(a, b)
    assert not d.removed and not d.added
    assert [(m.rule, m.before, m.after) for m in d.moved] == [("-o docker0 -j DOCKER", 3, 1)]


def test_moves_beside_removals_and_additions():
    a = ("r1", "r2", "r3", "r4")
    b = ("r4", "r1", "new", "r3")
    d = diff_chain(Chain("X", None, a), Chain("X", None, b))
    assert d.removed == ("r2",) and d.added == ("new",)
    assert [(m.rule, m.before, m.after) for m in d.moved] == [("r4", 4, 1)]
    assert moves(a, a) == ()


def test_a_rule_written_twice_counts_twice():
    d = diff_chain(Chain("X", None, ("r", "s", "r")), Chain("X", None, ("r", "s")))
    assert d.removed == ("r",) and not d.added and not d.moved
    d = diff_chain(Chain("X", None, ("r", "s", "r")), Chain("X", None, ("s", "r", "r")))
    assert not d.removed and not d.added and len(d.moved) == 1


def test_chains_and_tables_one_side_only_and_policies():
    a = Ruleset((Table("filter", (Chain("FORWARD", "ACCEPT", ("x",)), Chain("OLD", None, ("y",)))),))
    b = Ruleset((Table("filter", (Chain("FORWARD", "DROP", ("x",)),)), Table("raw", (Chain("PREROUTING", "ACCEPT", ("z",)),))))
    tables = {t.name: t for t in diff_ruleset(a, b)}
    chains = {c.name: c for c in tables["filter"].chains}
    assert chains["FORWARD"].policy == ("ACCEPT", "DROP") and not chains["FORWARD"].removed
    assert chains["OLD"].only == "a" and chains["OLD"].removed == ("y",) and chains["OLD"].policy is None
    assert tables["raw"].only == "b" and tables["raw"].chains[0].added == ("z",)
    assert tables["raw"].chains[0].policy == (None, "ACCEPT")
    assert diff_ruleset(a, a) == ()


# ---- nft text ----------------------------------------------------------------------------
def test_nft_text_as_chains_and_maps():
    with open(NFT_GOLDEN) as f:
        text = f.read()
    (table,) = nft_ruleset(text).tables
    assert table.name == "ip docker-bridges"
    forward = table.chain("filter-FORWARD")
    assert forward.policy == "type filter hook forward priority filter; policy accept;"
    assert forward.rules == ("oifname vmap @filter-forward-in-jumps", "iifname vmap @filter-forward-out-jumps")
    jumps = table.chain("map filter-forward-in-jumps")
    assert jumps.rules == ('"br-dummy" : jump filter-forward-in__br-dummy',)
    assert table.chain("nat-postrouting-in__br-dummy").rules == ()
    assert table.chain("raw-PREROUTING").rules[0].endswith('drop comment "DROP DIRECT ACCESS"')


def test_nft_map_elements_have_no_order():
    one = 'table ip t {\n\tmap m {\n\t\ttype ifname : verdict\n\t\telements = { "a" : jump x,\n\t\t\t     "b" : jump y }\n\t}\n}\n'
    two = 'table ip t {\n\tmap m {\n\t\ttype ifname : verdict\n\t\telements = { "b" : jump y, "c" : jump z, "a" : jump x }\n\t}\n}\n'
    (t,) = diff_ruleset(nft_ruleset(one), nft_ruleset(two))
    (m,) = t.chains
    assert m.name == "map m" and m.added == ('"c" : jump z',) and not m.removed and not m.moved


def test_nft_text_that_is_not_nft_is_refused():
    with pytest.raises(ValueError, match="line 1"):
        nft_ruleset("-A FORWARD -j DROP\n")


# ---- the command -------------------------------------------------------------------------
def test_cli_rules_diff_text_and_json():
    run = CliRunner().invoke(main, ["rules", DEMO, "--diff", "26.1"])
    assert run.exit_code == 0, run.output
    assert "identical" in run.output
    run = CliRunner().invoke(main, ["rules", DEMO, "--engine", "26.1", "--diff", "28.5", "--json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert (data["a"], data["b"], data["identical"]) == ("26.1", "28.5", False)
    tables = [t["table"] for f in data["hosts"][0]["families"] for t in f["tables"]]
    assert "raw" in tables


def test_cli_json_needs_diff_and_engines_are_checked():
    run = CliRunner().invoke(main, ["rules", DEMO, "--json"])
    assert run.exit_code != 0 and "--diff" in run.output and "Traceback" not in run.output
    run = CliRunner().invoke(main, ["rules", DEMO, "--diff", "27.0"])
    assert run.exit_code != 0 and "27.0" in run.output


def test_nft_elements_with_commas_inside_quotes():
    quoted = 'table ip t {\n\tmap m {\n\t\ttype ifname : verdict\n\t\telements = { "a,b" : accept }\n\t}\n}\n'
    assert nft_ruleset(quoted).tables[0].chain("map m").rules == ('"a,b" : accept',)
    assert nft_ruleset("") == Ruleset()


def test_a_diff_prints_as_the_command_does():
    d = _diff("20.10", "26.1")
    assert str(d) == render_diff(d)


MIXED = """
name: h6mixed
hosts:
  node1: {engine: "20.10"}
  node2: {engine: "26.1"}
containers:
  a: {host: node1, ports: ["8080:80"]}
  b: {host: node2}
"""


def test_without_engine_a_is_each_hosts_own():
    from netlab.model import load_text
    d = diff_rules(load_text(MIXED), load_text(MIXED, engine="20.10"))
    assert d.a == "node1 20.10, node2 26.1" and d.b == "20.10"
    assert [(h.host, h.a, h.b) for h in d.hosts] == [("node1", "20.10", "20.10"), ("node2", "26.1", "20.10")]
    assert d.same       # 26.1 writes 20.10's rules
    only = diff_rules(load_text(MIXED), load_text(MIXED, engine="26.1"), host="node2")
    assert [h.host for h in only.hosts] == ["node2"]
    with pytest.raises(KeyError):
        diff_rules(load_text(MIXED), load_text(MIXED), host="node9")


def test_a_policy_change_reads_as_one():
    from netlab.plan.firewall.compare import HostDiff, RulesDiff
    a = Ruleset((Table("filter", (Chain("FORWARD", "ACCEPT", ()),)),))
    b = Ruleset((Table("filter", (Chain("FORWARD", "DROP", ()),)),))
    from netlab.plan.firewall.compare import FamilyDiff
    host = HostDiff(host="node1", a="A", b="B", families=(FamilyDiff(family="iptables", tables=diff_ruleset(a, b)),))
    text = render_diff(RulesDiff(lab="x", a="A", b="B", hosts=(host,)))
    assert text.endswith("# iptables\n*filter\nFORWARD\n  policy ACCEPT -> DROP\n")
