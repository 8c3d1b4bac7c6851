"""nftables tables as text (`nft list table` output): what a reader compares, and what every
nft reads. Pure: the planned tables (`NftRuleset.text`) and the kernel's listing meet here.

Two listings of one rule set differ in what nft prints besides the rules: counters, handles,
the order of a map's elements (a hash set's order) and how long element lists wrap. nft
1.0.6 also refuses the priority name `dstnat` on an output hook that newer nft prints, so
priorities are written and compared as numbers."""
from __future__ import annotations

import re

from .firewall.nft.render import split_top

# the standard priority names of the ip, ip6 and inet families (nft(8), CHAINS)
PRIORITIES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
_PRIORITY = re.compile(r"\bpriority (" + "|".join(PRIORITIES) + r")\b(?:\s*([+-])\s*(\d+))?")
_COUNTER = re.compile(r"\bcounter packets \d+ bytes \d+")
_HANDLE = re.compile(r"\s*# handle \d+$")


def without_counts(text: str) -> str:
    """`counter packets 3 bytes 180` -> `counter`: the rule, not what it has seen."""
    return _COUNTER.sub("counter", text)


def numeric_priorities(text: str) -> str:
    """`priority dstnat` -> `priority -100`, `priority filter + 10` -> `priority 10`."""
    def number(m: re.Match[str]) -> str:
        offset = int(m.group(3) or 0) * (-1 if m.group(2) == "-" else 1)
        return f"priority {PRIORITIES[m.group(1)] + offset}"
    return _PRIORITY.sub(number, text)


def table_names(text: str) -> list[str]:
    """"ip docker-bridges", ... in the order the text defines them."""
    return re.findall(r"^table (\S+ \S+)", text, re.M)


def _lines(text: str) -> list[str]:
    """Stripped lines without handles, counters' numbers or blank lines; a wrapped element
    list joined into one line with its elements sorted."""
    out: list[str] = []
    pending: list[str] = []
    for raw in text.splitlines():
        line = without_counts(_HANDLE.sub("", raw)).strip()
        if not line or line.startswith("#"):
            continue
        if pending or line.startswith("elements = {"):
            pending.append(line)
            if line.endswith("}"):
                out.append(_sorted_elements(" ".join(pending)))
                pending = []
            continue
        out.append(line)
    return out + pending


def _sorted_elements(line: str) -> str:
    inner = line[line.index("{") + 1:line.rindex("}")]
    items = sorted(item.strip() for item in split_top(inner) if item.strip())
    return "elements = { " + ", ".join(items) + " }"


def canonical_nft(text: str) -> str:
    """The tables of `text` in a form two listings of the same rule set share: tables in
    name order, each table's chains, maps and sets in name order (a chain's rules keep theirs),
    priorities as numbers."""
    tables: dict[str, dict[str, list[str]]] = {}
    table: dict[str, list[str]] | None = None
    block: list[str] | None = None
    for line in _lines(numeric_priorities(text)):
        if line.startswith("table ") and line.endswith("{"):
            table = tables.setdefault(line, {})
            block = None
        elif table is not None and block is None and line.endswith("{"):
            block = table.setdefault(line, [])
        elif line == "}":
            if block is not None:
                block = None
            else:
                table = None
        elif block is not None:
            block.append(line)
        elif table is not None:
            table.setdefault(line, [])      # a table-level statement (flags, comment)
    out = []
    for name in sorted(tables):
        out.append(name)
        for header in sorted(tables[name]):
            out += [f"  {header}", *(f"    {line}" for line in tables[name][header])]
    return "\n".join(out)
