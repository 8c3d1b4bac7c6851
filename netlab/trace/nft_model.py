"""Native nftables tables as the tracer evaluates them: the tables of `nft list table` text
(read by the plan's parser, plan/firewall/nft) with what a walk needs at hand — base chains'
priorities as numbers, rules numbered in their chain, map elements without quotes. Pure.

A rule keeps its text as nft prints it, with its comment, and with one change so that the
plan's text and the kernel's listing give the same string: a counter's numbers are dropped
(`counter`). A live listing's rules carry no handle here: a trace event's handle is mapped
to its rule's position through the kernel's own rule dump (nftrace.dump_rules)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..plan.firewall.nft import NftTable as ListedTable
from ..plan.firewall.nft import parse_tables
from ..plan.firewall.nft.render import NftTextError
from ..plan.nft_text import PRIORITIES, without_counts

FAMILIES = ("ip", "ip6", "inet")    # the tracer's families; arp, bridge, netdev are not walked
# which tables a packet of one address family meets
PACKET_FAMILIES = {4: ("ip", "inet"), 6: ("ip6", "inet")}


@dataclass(frozen=True, kw_only=True)
class NftRule:
    chain: str
    position: int                   # 1-based, in listing order
    text: str                       # as nft prints it (comment included), counter numbers left out


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

    def of_family(self, family: int) -> NftRuleset | None:
        """The tables an IPv4 (4) or IPv6 (6) packet meets; None when there are none."""
        tables = tuple(t for t in self.tables if t.family in PACKET_FAMILIES[family])
        return NftRuleset(tables) if tables else None


def priority(text: str) -> int:
    """`filter`, `dstnat - 10`, `-300` -> a number."""
    m = re.fullmatch(r"\s*([a-z]+)?\s*(?:([+-])?\s*(\d+))?\s*", text)
    if m is None or (m.group(1) is None and m.group(3) is None) or \
            (m.group(1) is not None and m.group(1) not in PRIORITIES):
        raise NftTextError(f"priority {text.strip()!r} is not a number or a priority name")
    base = PRIORITIES[m.group(1)] if m.group(1) else 0
    offset = int(m.group(3) or 0) * (-1 if m.group(2) == "-" else 1)
    return base + offset


def rule_text(line: str) -> str:
    """A listed rule without its counter's numbers."""
    return without_counts(line).strip()


def parse(text: str, families: tuple[str, ...] = FAMILIES) -> NftRuleset:
    """`nft list table` / `nft list ruleset` output -> the tables of `families`."""
    return from_tables(parse_tables(text), families)


def from_tables(tables: Iterable[ListedTable], families: tuple[str, ...] = FAMILIES) -> NftRuleset:
    return NftRuleset(tuple(_table(t) for t in tables if t.family in families))


def _table(t: ListedTable) -> NftTable:
    chains = []
    for c in t.chains:
        rules = tuple(NftRule(chain=c.name, position=n, text=rule_text(r.line)) for n, r in enumerate(c.rules, 1))
        b = c.base
        chains.append(NftChain(name=c.name, rules=rules, type=b.type if b else None, hook=b.hook if b else None,
                               priority=priority(b.priority) if b else None, policy=b.policy if b else None))
    sets = tuple(NftSet(name=m.name, map=True, elements=tuple((k.strip('"'), v) for k, v in m.elements))
                 for m in t.maps)
    return NftTable(family=t.family, name=t.name, chains=tuple(chains), sets=sets)
