"""Native nftables tables as the tracer reads them: `nft list table` text (the plan's, or
`nft -a list table` from a live namespace, with rule handles) -> tables of chains of rules,
with the maps and sets their rules look up. Pure.

A rule keeps its text as nft prints it, with two changes so that the plan's text and the
kernel's listing give the same string: a counter's numbers are dropped (`counter`), and the
`# handle N` comment becomes the rule's `handle`."""
from __future__ import annotations

import re
from dataclasses import dataclass

# named chain priorities (nft(8), "CHAIN PRIORITIES", family ip)
PRIORITIES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
FAMILIES = ("ip", "inet")           # the IPv4 tracer's families; ip6, arp, bridge, netdev are not walked

_HANDLE = re.compile(r"\s*#\s*handle\s+(\d+)\s*$")
_COUNTER = re.compile(r"\bcounter packets \d+ bytes \d+")
_BASE = re.compile(r"type\s+(\w+)\s+hook\s+(\w+)(?:\s+device\s+\S+)?\s+priority\s+([^;]+);(?:\s*policy\s+(\w+);)?")


class NftSyntaxError(ValueError):
    """Text that is not `nft list table` output (the line number says where)."""


@dataclass(frozen=True, kw_only=True)
class NftRule:
    chain: str
    position: int                   # 1-based, in listing order
    text: str                       # as nft prints it, counter numbers and handle left out
    handle: int | None = None       # from `nft -a`: what nftrace events name


@dataclass(frozen=True, kw_only=True)
class NftChain:
    name: str
    rules: tuple[NftRule, ...] = ()
    type: str | None = None         # filter | nat | route, for a base chain
    hook: str | None = None         # prerouting | input | forward | output | postrouting
    priority: int | None = None
    policy: str | None = None       # accept | drop, for a base chain

    @property
    def base(self) -> bool:
        return self.hook is not None

    @property
    def builtin(self) -> bool:
        """A base chain: the end of its rules is its policy (iptables' word, for callers that
        treat both kinds of chain alike)."""
        return self.base


@dataclass(frozen=True, kw_only=True)
class NftSet:
    """A named set or map: its elements, each a key and (maps) the value, as printed."""

    name: str
    map: bool
    elements: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, kw_only=True)
class NftTable:
    family: str
    name: str
    chains: tuple[NftChain, ...] = ()
    sets: tuple[NftSet, ...] = ()

    def chain(self, name: str) -> NftChain | None:
        return next((c for c in self.chains if c.name == name), None)

    def set(self, name: str) -> NftSet | None:
        return next((s for s in self.sets if s.name == name), None)


@dataclass(frozen=True)
class NftRuleset:
    tables: tuple[NftTable, ...] = ()

    def table(self, name: str, family: str | None = None) -> NftTable | None:
        return next((t for t in self.tables if t.name == name and family in (None, t.family)), None)


def priority(text: str) -> int:
    """`filter`, `dstnat - 10`, `-300` -> a number."""
    m = re.fullmatch(r"\s*([a-z]+)?\s*(?:([+-])?\s*(\d+))?\s*", text)
    if m is None or (m.group(1) is None and m.group(3) is None) or \
            (m.group(1) is not None and m.group(1) not in PRIORITIES):
        raise NftSyntaxError(f"priority {text.strip()!r} is not a number or a priority name")
    base = PRIORITIES[m.group(1)] if m.group(1) else 0
    offset = int(m.group(3) or 0) * (-1 if m.group(2) == "-" else 1)
    return base + offset


def rule_text(line: str) -> tuple[str, int | None]:
    """A rule line -> (its text without counter numbers, its handle)."""
    m = _HANDLE.search(line)
    handle = int(m.group(1)) if m else None
    text = line[:m.start()] if m else line
    return _COUNTER.sub("counter", text).strip(), handle


def parse(text: str, families: tuple[str, ...] = FAMILIES) -> NftRuleset:
    """`nft list table` / `nft list ruleset` output -> the tables of `families`."""
    lines = _joined(text)
    tables: list[NftTable] = []
    i = 0
    while i < len(lines):
        no, line = lines[i]
        words = line.split()
        if not words:
            i += 1
            continue
        if words[0] != "table" or len(words) < 4 or words[3] != "{":
            raise NftSyntaxError(f"line {no}: {line!r} is not a table")
        table, i = _table(words[1], words[2], lines, i + 1)
        if table.family in families:
            tables.append(table)
    return NftRuleset(tuple(tables))


def _joined(text: str) -> list[tuple[int, str]]:
    """Lines with a `# handle` comment kept on its rule and a set's elements, which nft
    spreads over several lines, joined to one."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if pending is not None:
            pending = (pending[0], f"{pending[1]} {line}")
            if pending[1].count("{") <= pending[1].count("}"):
                out.append(pending)
                pending = None
            continue
        if line.startswith("elements = {") and line.count("{") > line.count("}"):
            pending = (no, line)
            continue
        out.append((no, line))
    if pending is not None:
        raise NftSyntaxError(f"line {pending[0]}: a set's elements never close")
    return out


def _table(family: str, name: str, lines: list[tuple[int, str]], i: int) -> tuple[NftTable, int]:
    chains: list[NftChain] = []
    sets: list[NftSet] = []
    while i < len(lines):
        no, line = lines[i]
        words = line.split()
        if not words or words[0] in ("flags", "comment"):
            i += 1
        elif words[0] == "}":
            return NftTable(family=family, name=name, chains=tuple(chains), sets=tuple(sets)), i + 1
        elif words[0] == "chain" and len(words) >= 3:
            chain, i = _chain(words[1], lines, i + 1)
            chains.append(chain)
        elif words[0] in ("map", "set") and len(words) >= 3:
            found, i = _set(words[1], words[0] == "map", lines, i + 1)
            sets.append(found)
        elif words[0] in ("counter", "quota", "limit", "ct", "flowtable", "secmark", "synproxy") and words[-1] == "{":
            i = _skip(lines, i + 1)
        else:
            raise NftSyntaxError(f"line {no}: {line!r} is not a chain, map or set of table {family} {name}")
    raise NftSyntaxError(f"table {family} {name} never closes")


def _chain(name: str, lines: list[tuple[int, str]], i: int) -> tuple[NftChain, int]:
    rules: list[NftRule] = []
    base: NftChain | None = None        # the type, hook, priority and policy of a base chain
    while i < len(lines):
        no, line = lines[i]
        i += 1
        if not line or line.startswith("comment ") or line.startswith("#"):
            continue
        if line == "}":
            if base is None:
                return NftChain(name=name, rules=tuple(rules)), i
            return NftChain(name=name, rules=tuple(rules), type=base.type, hook=base.hook, priority=base.priority,
                            policy=base.policy), i
        if line.startswith("type ") and not rules:
            m = _BASE.match(line)
            if m is None:
                raise NftSyntaxError(f"line {no}: {line!r} is not a base chain's type, hook and priority")
            base = NftChain(name=name, type=m.group(1), hook=m.group(2), priority=priority(m.group(3)),
                            policy=m.group(4) or "accept")
            continue
        text, handle = rule_text(line)
        rules.append(NftRule(chain=name, position=len(rules) + 1, text=text, handle=handle))
    raise NftSyntaxError(f"chain {name} never closes")


def _set(name: str, is_map: bool, lines: list[tuple[int, str]], i: int) -> tuple[NftSet, int]:
    elements: list[tuple[str, str | None]] = []
    while i < len(lines):
        _, line = lines[i]
        i += 1
        if line == "}":
            return NftSet(name=name, map=is_map, elements=tuple(elements)), i
        if line.startswith("elements = {"):
            body = line[len("elements = {"):].rsplit("}", 1)[0]
            for item in split_elements(body):
                key, sep, value = item.partition(" : ")
                elements.append((key.strip().strip('"'), value.strip() if sep else None))
    raise NftSyntaxError(f"set {name} never closes")


def split_elements(body: str) -> list[str]:
    """`"a" : jump x, "b" : jump y` -> its elements (a comma inside quotes is kept)."""
    out: list[str] = []
    current, quoted = "", False
    for ch in body:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(current)
            current = ""
        else:
            current += ch
    out.append(current)
    return [" ".join(item.split()) for item in out if item.strip()]


def _skip(lines: list[tuple[int, str]], i: int) -> int:
    depth = 1
    while i < len(lines) and depth:
        depth += lines[i][1].count("{") - lines[i][1].count("}")
        i += 1
    return i
