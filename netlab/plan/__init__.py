"""Topology -> Plan: the desired kernel objects and rule sets as frozen data (pure: no root,
no kernel). `items` and `plan` are the vocabulary every layer above reads; `planner` builds a
Plan, `diff` compares one with what the kernel holds, `render` prints it, `part` cuts one
host's share, `firewall/` holds each engine's rule programs.

Only the vocabulary is imported here: the network drivers build items, so importing the
planner from this file would make drivers and planner import each other."""
from .items import Item
from .plan import Plan, PlanConflict

__all__ = ["Item", "Plan", "PlanConflict"]
