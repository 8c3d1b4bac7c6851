"""Each container's UTS namespace as a plan item (plan/uts.py, plan/hostnames.py): what
hostname and domain name Docker 28.5 gives each network mode, held to what the real engine
printed for `hostname` in the Compose records; its diff and its apply on the fake kernel."""
from __future__ import annotations

import dataclasses
import glob
import json
import os

import pytest
from fake_kernel import MACHINE_UTS, FakeKernel

from netlab.compose import load_source
from netlab.kernel.apply import Executor, observe
from netlab.model import load_text
from netlab.model.source import parse_text
from netlab.model.topology import Topology
from netlab.plan.diff import Observed, diff
from netlab.plan.hostnames import container_uts
from netlab.plan.items import Netns, Uts, item_from_dict
from netlab.plan.plan import Plan
from netlab.plan.planner import build_plan

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDS = f"{TOP}/tests/fixtures/compose/recorded"

LAB = """\
name: ut
containers:
  a: {hostname: web01, networks: [bridge]}
  b: {networks: [bridge]}
  side: {network_mode: "container:a"}
  side2: {network_mode: "container:side"}
  h: {network_mode: host}
  hn: {network_mode: host, hostname: edge}
  n: {network_mode: none}
"""


def _topo(text: str = LAB) -> Topology:
    return load_text(text, "ut.yaml")


def _uts(topo: Topology) -> dict[str, Uts]:
    return {u.container: u for u in build_plan(topo).of(Uts)}


def test_every_container_gets_one_whatever_its_mode() -> None:
    topo = _topo()
    got = _uts(topo)
    assert sorted(got) == sorted(c.name for c in topo.containers)
    assert {u.name for u in got.values()} == {f"ut-{c.name}" for c in topo.containers}
    # the netns its processes run in: a host-mode container's is its host's
    assert got["h"].netns == topo.host(topo.container("h").host).netns
    assert got["side"].netns == "ut-a"


def test_hostname_given_else_the_short_id() -> None:
    topo = _topo()
    got = _uts(topo)
    assert got["a"].hostname == "web01"
    assert got["b"].hostname == topo.container("b").id[:12]
    assert got["n"].hostname == topo.container("n").id[:12]


def test_container_mode_copies_the_owner_names_through_chains() -> None:
    topo = _topo()
    owner = dataclasses.replace(topo.container("a"), domainname="corp.example")
    topo = dataclasses.replace(topo, containers=tuple(owner if c.name == "a" else c for c in topo.containers))
    got = _uts(topo)
    for name in ("side", "side2"):
        assert (got[name].hostname, got[name].domainname) == ("web01", "corp.example")
        assert got[name].name == f"ut-{name}"       # a namespace of its own, not a's


def test_host_mode_keeps_the_machines_name_unless_one_is_given() -> None:
    got = _uts(_topo())
    assert got["h"].hostname is None
    assert got["hn"].hostname == "edge"
    assert "the machine's" in got["h"].describe()


def test_domainname_is_carried_and_round_trips() -> None:
    topo = _topo()
    c = dataclasses.replace(topo.container("b"), domainname="corp.example")
    item = container_uts(topo, c)
    assert item.domainname == "corp.example"
    assert item.describe().endswith("domainname corp.example")
    assert item_from_dict(json.loads(json.dumps(item.to_dict()))) == item


def _recorded(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


# 12-external needs a network and a container made outside the project, which netlab refuses
RECORDED = [p for p in sorted(glob.glob(f"{RECORDS}/*.run1.json")) if "12-external" not in p]


@pytest.mark.parametrize("path", RECORDED, ids=os.path.basename)
def test_the_hostnames_docker_printed(path: str) -> None:
    """`hostname` inside each container, as Docker 28.5 printed it (<cid:X>: X's short id;
    host mode: the machine's, blanked in the records)."""
    record = _recorded(path)
    compose = f"{TOP}/tests/fixtures/compose/{record['file']}"
    with open(compose) as f:
        text = f.read()
    loaded = load_source(parse_text(text, compose), env={}, project=record["project"],
                         profiles=tuple(record.get("profiles") or ()))
    topo = loaded.topology
    planned = _uts(topo)
    for name, seen in record["containers"].items():
        item = planned[name]
        want = seen["hostname"]
        if want == "<the machine's hostname>":
            assert item.hostname is None, name
        elif want.startswith("<cid:"):
            assert item.hostname == topo.container(want[len("<cid:"):-1]).id[:12], name
        else:
            assert item.hostname == want, name


# ---- the diff ---------------------------------------------------------------------------------
def _seen(plan: Plan, **uts: tuple[str, str]) -> Observed:
    return Observed(netns={i.name for i in plan.of(Netns)}, uts=dict(uts), machine_uts=MACHINE_UTS)


def _uts_changes(plan: Plan, previous: Plan | None, seen: Observed) -> list[tuple[str, str, str]]:
    return [(c.action, c.item.name, c.why) for c in diff(plan, previous, seen) if isinstance(c.item, Uts)]


def test_diff_creates_a_missing_pin_and_renames_a_wrong_one() -> None:
    plan = build_plan(_topo("name: ut\ncontainers:\n  a: {hostname: web01, networks: [bridge]}\n"))
    assert _uts_changes(plan, plan, _seen(plan)) == [("create", "ut-a", "missing")]
    assert _uts_changes(plan, plan, _seen(plan, **{"ut-a": ("web01", "(none)")})) == []
    assert _uts_changes(plan, plan, _seen(plan, **{"ut-a": ("x", "(none)")})) == \
        [("update", "ut-a", "holds x / (none)")]
    assert _uts_changes(plan, plan, _seen(plan, **{"ut-a": ("web01", "corp.example")}))[0][0] == "update"


def test_diff_compares_a_host_mode_pin_with_the_machine() -> None:
    plan = build_plan(_topo("name: ut\ncontainers:\n  h: {network_mode: host}\n"))
    assert _uts_changes(plan, plan, _seen(plan, **{"ut-h": MACHINE_UTS})) == []
    assert _uts_changes(plan, plan, _seen(plan, **{"ut-h": ("web01", "(none)")}))[0][0] == "update"


def test_a_removed_container_takes_its_pin_though_its_netns_goes_too() -> None:
    plan = build_plan(_topo())
    smaller = build_plan(_topo(LAB.replace("  n: {network_mode: none}\n", "")))
    seen = _seen(plan, **{u.name: (u.hostname or "vm", u.domainname or "(none)") for u in plan.of(Uts)})
    assert _uts_changes(smaller, plan, seen) == [("delete", "ut-n", "")]


# ---- apply on the fake kernel -----------------------------------------------------------------
def test_apply_makes_each_pin_with_its_names_and_down_takes_them() -> None:
    topo = _topo()
    topo = dataclasses.replace(topo, containers=tuple(
        dataclasses.replace(c, domainname="corp.example") if c.name == "b" else c for c in topo.containers))
    plan = build_plan(topo)
    k = FakeKernel()
    Executor(k, plan.lab).run_all(diff(plan, None, observe(k, plan, None, {})))
    assert k.uts["ut-a"] == ("web01", "(none)")
    assert k.uts["ut-b"] == (topo.container("b").id[:12], "corp.example")
    assert k.uts["ut-h"] == MACHINE_UTS
    assert k.uts["ut-side"] == ("web01", "(none)")
    k.write_uts("ut-a", "drifted", None)
    repair = diff(plan, plan, observe(k, plan, plan, {}))
    assert [(c.action, c.item.name) for c in repair if isinstance(c.item, Uts)] == [("update", "ut-a")]
    Executor(k, plan.lab).run_all(repair)
    assert k.uts["ut-a"] == ("web01", "(none)")
    empty = Plan(plan.lab)
    Executor(k, plan.lab).run_all(diff(empty, plan, observe(k, empty, plan, {})))
    assert k.uts == {} and k.spaces == {}
