"""A plan as text people read: grouped by namespace, in creation order."""
from __future__ import annotations

from .items import Netns
from .plan import Plan


def render_plan(plan: Plan) -> str:
    lines = [f"lab {plan.lab}: {len(plan.items)} objects"]
    order = [i.name for i in plan.of(Netns)]
    by_ns: dict[str, list[str]] = {ns: [] for ns in order}
    for item in plan.items:
        if isinstance(item, Netns):
            continue
        text = item.describe()
        ns, _, rest = text.partition(": ")
        by_ns.setdefault(ns, []).append(rest)
    roles = {i.name: i.role for i in plan.of(Netns)}
    for ns, entries in by_ns.items():
        if ns in roles or ns.startswith(f"{plan.lab}-"):
            lines.append(f"netns {ns} ({roles.get(ns, 'shared')})")
        else:
            lines.append(f"{ns}:")      # data the agent holds, in no namespace
        lines += [f"  {e}" for e in entries]
    lines += [f"note: {n}" for n in plan.notes]
    return "\n".join(lines) + "\n"
