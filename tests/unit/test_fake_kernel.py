"""observe → diff → apply on a fake kernel, for the plan of every topology: a second observe
finds nothing to change (idempotence), and drift (an object removed or changed behind
netlab's back) is named by the diff and repaired by apply. No root."""
from __future__ import annotations

import glob
import os
from collections.abc import Callable
from typing import Any

import pytest
from fake_kernel import FakeKernel

from netlab.kernel.apply import Executor, observe
from netlab.model import load_file
from netlab.plan.diff import Change, diff
from netlab.plan.items import (
    SERVED_ITEMS,
    Address,
    EtcFile,
    Firewall,
    Macvlan,
    Netns,
    Process,
    Proxy,
    Route,
    Sysctl,
    Veth,
    Vxlan,
)
from netlab.plan.plan import Plan
from netlab.plan.planner import build_plan

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOPOLOGIES = sorted(glob.glob(f"{TOP}/topologies/*.yaml"))


def agent_serving(plan: Plan) -> dict[str, Any]:
    """What the lab's agent reports once it has taken the plan (apply leaves these to it)."""
    return {"processes": {p.name: (p.netns, p.command, True) for p in plan.of(Process)},
            "proxies": {p.key for p in plan.of(Proxy)},
            "dns": {i.key: i.digest for i in plan.items if isinstance(i, SERVED_ITEMS)}}


def converge(k: FakeKernel, plan: Plan, previous: Plan | None) -> list[Change]:
    changes = diff(plan, previous, observe(k, plan, previous, agent_serving(plan)))
    Executor(k, plan.lab).run_all(changes)
    return changes


def remaining(k: FakeKernel, plan: Plan) -> list[str]:
    return [str(c) for c in diff(plan, plan, observe(k, plan, plan, agent_serving(plan)))]


def build(path: str) -> tuple[FakeKernel, Plan]:
    plan = build_plan(load_file(path))
    k = FakeKernel()
    assert converge(k, plan, None)
    return k, plan


@pytest.fixture(params=TOPOLOGIES, ids=os.path.basename)
def built(request: pytest.FixtureRequest) -> tuple[FakeKernel, Plan]:
    return build(request.param)


def test_up_then_nothing_to_change(built: tuple[FakeKernel, Plan]) -> None:
    k, plan = built
    assert remaining(k, plan) == []
    assert converge(k, plan, plan) == []


def _first(plan: Plan, cls: type) -> Any:
    return next(i for i in plan.items if isinstance(i, cls))


DRIFTS: dict[str, tuple[type, Callable[[FakeKernel, Any], None], str]] = {
    "veth removed": (Veth, lambda k, i: k.links.delete_link(i.netns, i.name), "create"),
    "veth down": (Veth, lambda k, i: k.links.set_link(i.netns, i.name, state="down"), "update"),
    "address removed": (Address, lambda k, i: k.links.delete_address(i.netns, i.dev, i.cidr), "create"),
    "route removed": (Route, lambda k, i: k.links.delete_route(i.netns, i.dst), "create"),
    "sysctl reset": (Sysctl, lambda k, i: k.write_sysctl(i.netns, i.path, "7"), "update"),
    "rules flushed": (Firewall, lambda k, i: k.firewall.restore(i.netns, "*filter\n:INPUT ACCEPT [0:0]\n"
                                                                ":FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                                                                "COMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n"
                                                                ":INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                                                                ":POSTROUTING ACCEPT [0:0]\nCOMMIT\n"), "update"),
    "vxlan removed": (Vxlan, lambda k, i: k.links.delete_link(i.netns, i.name), "create"),
    "macvlan mtu": (Macvlan, lambda k, i: k.links.set_link(i.netns, i.name, mtu=1280), "update"),
    "etc file removed": (EtcFile, lambda k, i: k.delete_etc(i.netns, i.name), "update"),
}


def _has(path: str, cls: type) -> bool:
    return bool(build_plan(load_file(path)).of(cls))


# each drift on every topology whose plan has that kind of object (none is collected empty)
CASES = [(drift, path) for drift, (cls, _, _) in DRIFTS.items() for path in TOPOLOGIES if _has(path, cls)]


@pytest.mark.parametrize("drift,path", CASES, ids=[f"{d}-{os.path.basename(p)}" for d, p in CASES])
def test_drift_is_named_and_repaired(drift: str, path: str) -> None:
    k, plan = build(path)
    cls, act, action = DRIFTS[drift]
    item = _first(plan, cls)
    act(k, item)
    named = [c for c in diff(plan, plan, observe(k, plan, plan, agent_serving(plan))) if c.item == item]
    assert [c.action for c in named] == [action]
    converge(k, plan, plan)
    assert remaining(k, plan) == []


def test_every_drift_kind_is_exercised() -> None:
    assert {d for d, _ in CASES} == set(DRIFTS)


def test_a_removed_namespace_goes_with_its_objects(built: tuple[FakeKernel, Plan]) -> None:
    """The plan without one container: its namespace and the host's end of its veth go."""
    k, plan = built
    containers = [n for n in plan.of(Netns) if n.role == "container"]
    assert containers, "every topology in topologies/ has a container"
    gone = containers[-1].name
    smaller = Plan(plan.lab, notes=list(plan.notes))
    for item in plan.items:
        related = getattr(item, "netns", None) == gone or getattr(item, "peer_netns", None) == gone
        if item.key != containers[-1].key and not related:
            smaller.add(item)
    changes = converge(k, smaller, plan)
    assert any(c.action == "delete" and c.item.key == containers[-1].key for c in changes)
    assert gone not in k.spaces
    assert remaining(k, smaller) == []
