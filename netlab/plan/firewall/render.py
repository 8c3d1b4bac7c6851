"""Rule sets to and from iptables-save text.

`render` prints what `iptables-save` (iptables 1.8.9, nft backend) prints for the same
state in a fresh namespace, minus its `#` comment lines: chain lines carry `[0:0]`, rules no
counters. The same text is valid `iptables-restore` input."""
from __future__ import annotations

import re
from collections.abc import Mapping

from .model import BUILTIN_CHAINS, Chain, Ruleset, Table, save_order, table_order

_COUNTERS = re.compile(r"^\[\d+:\d+\]\s+")


def render(ruleset: Ruleset) -> str:
    lines: list[str] = []
    for table in ruleset.tables:
        lines.append(f"*{table.name}")
        lines += [f":{c.name} {c.policy or '-'} [0:0]" for c in table.chains]
        lines += [f"-A {c.name} {rule}" for c in table.chains for rule in c.rules]
        lines.append("COMMIT")
    return "".join(line + "\n" for line in lines)


def render_restore(ruleset: Ruleset) -> str:
    """Input for `iptables-restore` (without --noflush): each table named is flushed and
    replaced whole, user chains included; tables not named are left alone. An empty rule set
    gives empty text, because restoring even an empty table would create it, and a host with
    `iptables: false` must show no table at all."""
    return render(ruleset)


def parse_save(text: str) -> Ruleset:
    """Read iptables-save output (with or without -c, with or without comments)."""
    tables: list[Table] = []
    name: str | None = None
    policies: dict[str, str | None] = {}
    rules: dict[str, list[str]] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _COUNTERS.sub("", raw.strip())
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            name, policies, rules = line[1:], {}, {}
        elif name is None:
            raise ValueError(f"line {lineno}: {raw!r} comes before any *table line")
        elif line.startswith(":"):
            chain, policy = line[1:].split()[:2]
            policies[chain] = None if policy == "-" else policy
            rules.setdefault(chain, [])
        elif line.startswith("-A "):
            chain, _, rule = line[3:].partition(" ")
            rules.setdefault(chain, []).append(rule)
        elif line == "COMMIT":
            tables.append(Table(name, save_order(name, (
                Chain(c, policies.get(c, "ACCEPT" if c in BUILTIN_CHAINS.get(name, ()) else None),
                      tuple(r)) for c, r in rules.items()))))
            name = None
        else:
            raise ValueError(f"line {lineno}: {raw!r} is not iptables-save output")
    if name is not None:
        raise ValueError(f"table {name} has no COMMIT")
    return Ruleset(table_order(tables))


def rename_interfaces(ruleset: Ruleset, names: Mapping[str, str]) -> Ruleset:
    """Interface names replaced wherever a rule names one (as a whole word)."""
    def fix(rule: str) -> str:
        return " ".join(names.get(word, word) for word in rule.split(" "))

    return Ruleset(tuple(
        Table(t.name, tuple(Chain(c.name, c.policy, tuple(fix(r) for r in c.rules)) for c in t.chains))
        for t in ruleset.tables))


def normalize(text: str, bridge_map: Mapping[str, str] | None = None) -> str:
    """iptables-save text made comparable: comments and counters dropped, chains in save
    order, and bridges renamed by `bridge_map` (e.g. Docker's br-<id> to the lab's name)."""
    return render(rename_interfaces(parse_save(text), bridge_map or {}))
