"""Tables to and from the text `nft list table` prints.

The layout is nft's: a tab per level, maps before chains, a blank line between two blocks,
a base chain's `type ... hook ... priority ...; policy ...;` line first, a map's elements on
one line each after the first, aligned under it. A chain or map is printed in the table's
order (see table.py for where that order comes from). The same text is valid `nft -f` input."""
from __future__ import annotations

import re

from .model import BaseHook, NftChain, NftMap, NftRule, NftTable

_ELEMENT_BREAK = ",\n\t\t\t     "      # nft's delimiter between string elements of a named map
_OPEN = re.compile(r"^(table|chain|map)\s+(\S+(?:\s+\S+)?)\s*\{$")
_BASE = re.compile(r"^type\s+(\w+)\s+hook\s+(\w+)(?:\s+device\s+\"?([^\"\s]+)\"?)?\s+priority\s+([^;]+);"
                   r"\s*policy\s+(\w+);$")
_OBJECT = re.compile(r"^(set|flowtable|counter|quota|limit|ct\s+\w+|secmark|synproxy)\s+(\S+)\s*\{$")
_COMMENT = re.compile(r'^(.*?)\s+comment\s+"([^"]*)"$')
_HANDLE = re.compile(r"\s*# handle \d+$")


class NftTextError(ValueError):
    """Text that is not `nft list table` output; the line number says where."""


def render_tables(tables: tuple[NftTable, ...] | list[NftTable]) -> str:
    return "".join(render_table(t) for t in tables)


def render_table(table: NftTable) -> str:
    blocks = [_map_block(m) for m in table.maps] + [_chain_block(c) for c in table.chains]
    return f"table {table.label} {{\n" + "\n".join(blocks) + "}\n"


def _map_block(m: NftMap) -> str:
    lines = [f"\tmap {m.name} {{\n", f"\t\ttype {m.type}\n"]
    if m.elements:
        items = _ELEMENT_BREAK.join(f"{key} : {value}" for key, value in m.elements)
        lines.append(f"\t\telements = {{ {items} }}\n")
    return "".join(lines) + "\t}\n"


def _chain_block(c: NftChain) -> str:
    lines = [f"\tchain {c.name} {{\n"]
    if c.base is not None:
        b = c.base
        device = f' device "{b.device}"' if b.device else ""
        lines.append(f"\t\ttype {b.type} hook {b.hook}{device} priority {b.priority}; policy {b.policy};\n")
    lines += [f"\t\t{r.line}\n" for r in c.rules]
    return "".join(lines) + "\t}\n"


def parse_tables(text: str) -> tuple[NftTable, ...]:
    """`nft list table` (or `nft list ruleset`) text -> tables: their maps with elements, their
    chains with rules (text and comment, `counter packets N bytes M` kept as printed), a base
    chain's hook, priority and policy. The `# handle N` of `nft -a`, `#` lines and blank lines
    are left out. Sets, flowtables and other named objects are skipped, not read."""
    tables: list[NftTable] = []
    lines = _logical_lines(text)
    i = 0
    while i < len(lines):
        lineno, line = lines[i]
        m = _OPEN.match(line)
        if not m or m[1] != "table":
            raise NftTextError(f"line {lineno}: expected `table FAMILY NAME {{`, got {line!r}")
        family, _, name = m[2].partition(" ")
        table, i = _parse_table(lines, i + 1, family, name)
        tables.append(table)
    return tuple(tables)


def _parse_table(lines: list[tuple[int, str]], i: int, family: str, name: str) -> tuple[NftTable, int]:
    maps: list[NftMap] = []
    chains: list[NftChain] = []
    while i < len(lines):
        lineno, line = lines[i]
        if line == "}":
            return NftTable(family=family, name=name, maps=tuple(maps), chains=tuple(chains)), i + 1
        if line.startswith(("flags ", "comment ")):     # the table's own attributes
            i += 1
            continue
        m = _OPEN.match(line) or _OBJECT.match(line)
        if not m or m[1] == "table":
            raise NftTextError(f"line {lineno}: expected a chain or a map in table {family} {name}, got {line!r}")
        end = next((j for j in range(i + 1, len(lines)) if lines[j][1] == "}"), None)
        if end is None:
            raise NftTextError(f"line {lineno}: {m[1]} {m[2]} is not closed")
        body = lines[i + 1:end]
        if m[1] == "chain":
            chains.append(_parse_chain(m[2], body))
        elif m[1] == "map":
            maps.append(_parse_map(m[2], body, lineno))
        i = end + 1             # a set, flowtable, counter... : not read
    raise NftTextError(f"table {family} {name} is not closed")


def _parse_chain(name: str, body: list[tuple[int, str]]) -> NftChain:
    base = None
    if body and (b := _BASE.match(body[0][1])):
        base = BaseHook(type=b[1], hook=b[2], device=b[3] or "", priority=b[4].strip(), policy=b[5])
        body = body[1:]
    return NftChain(name=name, base=base, rules=tuple(parse_rule(line) for _, line in body))


def parse_rule(line: str) -> NftRule:
    """A listed rule split into its statements and its trailing comment."""
    m = _COMMENT.match(line)
    return NftRule(m[1], m[2]) if m else NftRule(line)


def _parse_map(name: str, body: list[tuple[int, str]], lineno: int) -> NftMap:
    type_ = ""
    elements: list[tuple[str, str]] = []
    for n, line in body:
        if line.startswith("type "):
            type_ = line[len("type "):]
        elif line.startswith("elements = {") and line.endswith("}"):
            for item in split_top(line[len("elements = {"):-1]):
                key, sep, value = item.partition(" : ")
                if not sep:
                    raise NftTextError(f"line {n}: map element {item.strip()!r} has no ` : VALUE`")
                elements.append((key.strip(), value.strip()))
        elif not line.startswith(("flags ", "size ", "timeout ", "policy ", "counter", "comment ")):
            raise NftTextError(f"line {n}: {line!r} is not part of a map")
    if not type_:
        raise NftTextError(f"line {lineno}: map {name} has no type")
    return NftMap(name=name, type=type_, elements=tuple(elements))


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Stripped, numbered lines without blanks and comments; an element list nft wrapped
    over several lines joined into one."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _HANDLE.sub("", raw).strip()
        if pending is not None:
            pending = (pending[0], f"{pending[1]} {line}")
            if line.endswith("}"):
                out.append(pending)
                pending = None
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("elements = {") and not line.endswith("}"):
            pending = (lineno, line)
            continue
        out.append((lineno, line))
    if pending is not None:
        raise NftTextError(f"line {pending[0]}: element list is not closed")
    return out


def split_top(text: str) -> list[str]:
    """`text` split at the commas outside quotes and braces, empty parts left out."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "{[(":
            depth += 1
        elif not quoted and ch in "}])":
            depth -= 1
        elif ch == "," and not quoted and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]
