"""A live lab switched between engines, on the fake kernel: each `up` replaces the rule sets of
every family (iptables, ip6tables, native nftables tables), a second one finds nothing to
change, hand edits are drift, and a namespace's new rule sets are written before the old
ones are taken out. The nftables and ip6tables programs are Docker's goldens
(golden_programs) until the real ones land. No root."""
from __future__ import annotations

import pytest
from fake_kernel import FakeKernel
from golden_programs import IP6_PROGRAM, NFT_PROGRAM, NFT_TEXT
from test_fake_kernel import converge, remaining

from netlab.kernel.apply import Executor, firewall_prints, observe
from netlab.model import load_text
from netlab.plan.diff import Change, diff
from netlab.plan.firewall.programs import PROGRAMS
from netlab.plan.items import Firewall, NftRuleset
from netlab.plan.nft_text import canonical_nft
from netlab.plan.plan import Plan
from netlab.plan.planner import build_plan

LAB = """
name: sw
engine: "{engine}"
networks:
  mynet: {{}}
containers:
  web: {{ports: ["8080:80"]}}
  a1: {{networks: [mynet]}}
"""
HOST = "sw-node1"


@pytest.fixture(autouse=True)
def golden_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PROGRAMS, "nftables-29.7", NFT_PROGRAM)
    monkeypatch.setitem(PROGRAMS, "iptables-28.5", IP6_PROGRAM)


def plan_of(engine: str) -> Plan:
    return build_plan(load_text(LAB.format(engine=engine)))


def test_switches_replace_every_family_and_leave_nothing_behind() -> None:
    k = FakeKernel()
    previous = None
    for engine in ("20.10", "28.5", "29.7-nftables", "28.5", "20.10"):
        plan = plan_of(engine)
        converge(k, plan, previous)
        assert remaining(k, plan) == [], engine
        host = k.spaces[HOST]
        if engine == "29.7-nftables":
            assert host.nft and canonical_nft("".join(host.nft.values())) == canonical_nft(NFT_TEXT)
            assert not host.tables and not host.tables6       # emptied and removed
        else:
            assert not host.nft
            assert bool(host.tables6) == (engine == "28.5")
            assert host.tables.keys() == {"filter", "nat"}
        previous = plan


def test_new_rule_sets_are_written_before_old_ones_go() -> None:
    k = FakeKernel()
    old, new = plan_of("28.5"), plan_of("29.7-nftables")
    converge(k, old, None)
    changes = diff(new, old, observe(k, new, old, {}))
    mine = [c for c in changes if getattr(c.item, "netns", None) == HOST and isinstance(c.item, (Firewall, NftRuleset))]
    assert {(c.action, type(c.item).__name__) for c in mine} == \
        {("create", "NftRuleset"), ("update", "Firewall"), ("delete", "Firewall")}
    done: list[tuple[str, str]] = []
    executor = Executor(k, new.lab)
    run = executor.run

    def record(change: Change) -> None:
        if getattr(change.item, "netns", None) == HOST and isinstance(change.item, (Firewall, NftRuleset)):
            done.append((change.action, type(change.item).__name__))
        run(change)

    executor.run = record       # type: ignore[method-assign]
    executor.run_all(changes)
    assert done[-1] == ("delete", "Firewall") and done.index(("create", "NftRuleset")) < len(done) - 1


@pytest.mark.parametrize("edit", ["nft rule", "nft table", "ip6tables rule"])
def test_a_hand_edit_is_drift_and_up_repairs_it(edit: str) -> None:
    k = FakeKernel()
    plan = plan_of("28.5" if edit.startswith("ip6") else "29.7-nftables")
    converge(k, plan, None)
    prints = firewall_prints(k, plan, {})
    host = k.spaces[HOST]
    if edit == "nft rule":
        host.nft["ip docker-bridges"] = host.nft["ip docker-bridges"].replace('comment "OUTGOING"', "")
    elif edit == "nft table":
        del host.nft["ip6 docker-bridges"]
    else:
        host.tables6["filter"] = host.tables6["filter"].replace("-A FORWARD -j DOCKER-FORWARD\n", "")
    seen = observe(k, plan, plan, {}, prints)
    assert HOST not in seen.firewall_prints         # the fingerprint tells: read again
    drift = [c for c in diff(plan, plan, seen) if isinstance(c.item, (Firewall, NftRuleset))]
    assert [(c.action, c.item.netns) for c in drift] == [("update", HOST)]
    converge(k, plan, plan)
    assert remaining(k, plan) == []


def test_an_unchanged_fingerprint_vouches_for_every_family() -> None:
    k = FakeKernel()
    plan = plan_of("29.7-nftables")
    converge(k, plan, None)
    prints = firewall_prints(k, plan, {})
    reads: list[str] = []
    read = k.read_nft
    k.read_nft = lambda ns, tables: reads.append(ns) or read(ns, tables)     # type: ignore[method-assign]
    seen = observe(k, plan, plan, {}, prints)
    assert reads == [] and seen.firewall_prints.keys() == prints.keys()
    assert not [c for c in diff(plan, plan, seen) if isinstance(c.item, (Firewall, NftRuleset))]
    assert seen.nftables[HOST] == canonical_nft(NFT_TEXT)
