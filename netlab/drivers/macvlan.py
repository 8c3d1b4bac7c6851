"""The macvlan driver (built in the multi-host issue): refuses clearly until then."""
from __future__ import annotations

from ..errors import LabError


def plan_segment(plan, topo, seg) -> None:
    raise LabError(f"network {seg.network!r}: the macvlan driver is not built yet in this version of netlab")


def plan_endpoint(plan, topo, c, att, hairpin) -> None:
    plan_segment(plan, topo, topo.segment(att.network, c.host))
