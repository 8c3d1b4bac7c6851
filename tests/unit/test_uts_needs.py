"""What containers' UTS namespaces need of the machine: `up` asks for nsenter (util-linux)
when the plan has any, and `doctor` names the kernel's UTS namespaces and nsenter as core."""
from __future__ import annotations

from netlab.app.doctor import report
from netlab.kernel.features import Probe
from netlab.kernel.requirements import needed

BACKEND = {"ipv4": ("iptables-nft",)}


def test_up_needs_nsenter_only_for_a_plan_with_uts_namespaces() -> None:
    assert "util-linux" in [r.name for r in needed(BACKEND, set(), False, uts=True)]
    assert "util-linux" not in [r.name for r in needed(BACKEND, set(), False)]
    util = next(r for r in needed(BACKEND, set(), False, uts=True) if r.name == "util-linux")
    assert (util.tool, util.package) == ("nsenter", "util-linux")


def test_doctor_says_what_a_missing_uts_namespace_or_nsenter_costs() -> None:
    text, core_ok = report([Probe("uts", False, "unshare for UTS namespace x: Invalid argument")])
    assert not core_ok
    assert "uts              MISSING  every container's hostname and domain name" in text
    assert "why: unshare for UTS namespace x: Invalid argument" in text
    text, core_ok = report([Probe("util-linux", False, "`nsenter` is not installed (apt-get install util-linux)")])
    assert not core_ok and "enter the container's UTS namespace" in text
