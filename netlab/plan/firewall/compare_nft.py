"""`nft list table` text as the tables of chains that compare.py compares (pure).

The text is read by the nft package's parser (`nft.parse_tables`). A table is named as nft
names it (`ip docker-bridges`); a chain keeps its rules in order (each as nft lists it,
comment included), its `type ... hook ... priority ...; policy ...;` line standing as its
policy; a map becomes a chain named `map NAME` whose rules are its elements (`KEY : VALUE`,
sorted, since elements have no order), its `type ...` line as its policy."""
from __future__ import annotations

from .model import Chain, Ruleset, Table
from .nft import BaseHook, NftTable, parse_tables


def nft_ruleset(text: str) -> Ruleset:
    if not text.strip():
        return Ruleset()
    return Ruleset(tuple(_table(t) for t in parse_tables(text)))


def _table(t: NftTable) -> Table:
    maps = [Chain(f"map {m.name}", f"type {m.type}", tuple(sorted(f"{k} : {v}" for k, v in m.elements)))
            for m in t.maps]
    chains = [Chain(c.name, _hook(c.base) if c.base else None, tuple(r.line for r in c.rules)) for c in t.chains]
    return Table(t.label, tuple(maps + chains))


def _hook(b: BaseHook) -> str:
    device = f' device "{b.device}"' if b.device else ""
    return f"type {b.type} hook {b.hook}{device} priority {b.priority}; policy {b.policy};"
