"""`nft list table` text as the tables of chains that compare.py compares (pure).

A table is named as nft names it (`ip docker-bridges`); a chain keeps its statements in
order, its `type ... hook ... policy ...;` line standing as its policy; a map or a set becomes
a chain named `map NAME` / `set NAME` whose rules are its elements (its `type`/`flags` lines
as its policy), since elements have no order."""
from __future__ import annotations

import re

from .model import Chain, Ruleset, Table

_OPEN = re.compile(r"^(table|chain|map|set)\s+(.+?)\s*\{$")
_ELEMENTS = re.compile(r"^elements\s*=\s*\{(.*)$")


def nft_ruleset(text: str) -> Ruleset:
    tables: list[Table] = []
    table: str | None = None
    chains: list[Chain] = []
    kind = name = ""
    head: list[str] = []
    body: list[str] = []
    elements: str | None = None         # an elements = { ... } list not yet closed
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if elements is not None:
            elements += " " + line
            if line.endswith("}"):
                body += _split_elements(elements)
                elements = None
            continue
        if not line or line.startswith("#"):
            continue
        m = _OPEN.match(line)
        if m and m[1] == "table":
            table, chains = m[2], []
        elif m and table is not None:
            kind, name, head, body = m[1], m[2], [], []
        elif line == "}" and kind:
            label = name if kind == "chain" else f"{kind} {name}"
            chains.append(Chain(label, " ".join(head) or None,
                                tuple(body) if kind == "chain" else tuple(sorted(body))))
            kind = ""
        elif line == "}" and table is not None:
            tables.append(Table(table, tuple(chains)))
            table = None
        elif kind and (em := _ELEMENTS.match(line)):
            if em[1].rstrip().endswith("}"):
                body += _split_elements(em[1])
            else:
                elements = em[1]
        elif kind and (line.startswith(("type ", "flags ", "policy ")) and (kind != "chain" or not body)):
            head.append(line)
        elif kind:
            body.append(line)
        else:
            raise ValueError(f"line {lineno}: {raw!r} is not `nft list table` output")
    return Ruleset(tuple(tables))


def _split_elements(text: str) -> list[str]:
    """The elements of `a : b, "c" : d }`, split at commas outside quotes and braces."""
    inner = text.strip().removesuffix("}")
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(inner):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "{}":
            depth += 1 if ch == "{" else -1
        elif not quoted and depth == 0 and ch == ",":
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return [p.strip() for p in parts if p.strip()]
