"""A namespace's iptables state as data: tables of chains of rules, frozen and hashable.

A rule is its iptables-save text after `-A CHAIN ` (`-o docker0 -j DOCKER`), so that two
rule sets compare equal exactly when iptables-save would print them the same."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# The built-in chains of each table, in the order the kernel (and so iptables-save) lists them.
BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "raw": ("PREROUTING", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}
# iptables-nft saves tables in its own fixed order (enum nft_table_type), not creation order.
TABLE_ORDER = ("mangle", "security", "raw", "filter", "nat")


@dataclass(frozen=True)
class Chain:
    name: str
    policy: str | None = None       # ACCEPT or DROP for a built-in chain; None for a user chain
    rules: tuple[str, ...] = ()

    @property
    def builtin(self) -> bool:
        return self.policy is not None


@dataclass(frozen=True)
class Table:
    """Chains in iptables-save order: built-ins in kernel order, then user chains by name."""

    name: str
    chains: tuple[Chain, ...] = ()

    def chain(self, name: str) -> Chain | None:
        return next((c for c in self.chains if c.name == name), None)


@dataclass(frozen=True)
class Ruleset:
    """Tables in iptables-save order; a table that does not exist is absent, not empty."""

    tables: tuple[Table, ...] = ()

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


def save_order(table: str, chains: Iterable[Chain]) -> tuple[Chain, ...]:
    """Chains as iptables-save prints them: built-ins in kernel order, then user chains
    sorted by name (iptables-nft sorts its chain cache so as to match the legacy tool)."""
    kernel = BUILTIN_CHAINS.get(table, ())
    chains = list(chains)
    builtin = sorted((c for c in chains if c.builtin),
                     key=lambda c: kernel.index(c.name) if c.name in kernel else len(kernel))
    user = sorted((c for c in chains if not c.builtin), key=lambda c: c.name)
    return tuple(builtin + user)


def table_order(tables: Iterable[Table]) -> tuple[Table, ...]:
    rank = {name: i for i, name in enumerate(TABLE_ORDER)}
    return tuple(sorted(tables, key=lambda t: rank.get(t.name, len(rank))))
