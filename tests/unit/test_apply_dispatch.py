"""apply's dispatch table is checked here rather than by an `up` that meets a missing entry:
every (action, item class) plan/diff.py can produce has a handler."""
from __future__ import annotations

import glob
import os

from fake_kernel import FakeKernel

from netlab.kernel.apply import DISPATCH, Executor, observe
from netlab.model import load_file
from netlab.plan.diff import Change, diff
from netlab.plan.items import (
    KINDS,
    LINK_ITEMS,
    SERVED_ITEMS,
    Address,
    Bridge,
    EtcFile,
    Fdb,
    Firewall,
    Neighbour,
    Netns,
    NftRuleset,
    Process,
    Proxy,
    Route,
    Sysctl,
    Uts,
    Veth,
)
from netlab.plan.planner import build_plan

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# What plan/diff.py produces, by item class: `create` for a missing object or any object in a
# fresh namespace, `update` / `recreate` from _problem, `delete` from _removals.
PRODUCED: dict[type, set[str]] = {
    Netns: {"create", "delete"},
    Bridge: {"create", "update", "recreate", "delete"},
    Veth: {"create", "update", "recreate", "delete"},
    **{cls: {"create", "update", "recreate", "delete"} for cls in LINK_ITEMS},
    Neighbour: {"create", "delete"},
    Fdb: {"create", "delete"},
    Address: {"create", "delete"},
    Route: {"create", "update", "delete"},
    Sysctl: {"create", "update", "delete"},
    Firewall: {"create", "update", "delete"},
    NftRuleset: {"create", "update", "delete"},
    EtcFile: {"create", "update", "delete"},
    Uts: {"create", "update", "delete"},
    Process: {"create", "recreate", "delete"},
    Proxy: {"create", "delete"},
    **{cls: {"create", "update", "delete"} for cls in SERVED_ITEMS},
}


def test_every_item_kind_is_listed() -> None:
    assert set(KINDS.values()) == set(PRODUCED)


def test_every_pair_the_diff_produces_has_a_handler() -> None:
    missing = [(a, cls.__name__) for cls, actions in PRODUCED.items() for a in actions if (a, cls) not in DISPATCH]
    assert not missing


def test_no_handler_for_a_pair_the_diff_never_produces() -> None:
    extra = [(a, cls.__name__) for a, cls in DISPATCH if a not in PRODUCED.get(cls, set())]
    assert not extra


def test_the_changes_of_real_plans_are_all_dispatched() -> None:
    """Creates of every topology, then the deletes of taking each down to nothing."""
    seen: set[tuple[str, type]] = set()
    for path in sorted(glob.glob(f"{TOP}/topologies/*.yaml")):
        plan = build_plan(load_file(path))
        k = FakeKernel()
        changes = diff(plan, None, observe(k, plan, None, {}))
        Executor(k, plan.lab).run_all(changes)
        seen |= {(c.action, type(c.item)) for c in changes}
        empty = type(plan)(plan.lab)
        deletes: list[Change] = diff(empty, plan, observe(k, empty, plan, {}))
        Executor(k, plan.lab).run_all(deletes)
        seen |= {(c.action, type(c.item)) for c in deletes}
        assert not k.spaces
    assert seen <= set(DISPATCH)
