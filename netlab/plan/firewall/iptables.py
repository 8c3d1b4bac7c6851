"""An in-memory iptables that replays dockerd's commands (-N, -A, -I, -D, -C, -P).

Rule order in a Docker host is the residue of many inserts, appends and delete-and-reinserts;
replaying the same commands is how the order comes out right without being hand-written."""
from __future__ import annotations

from .model import BUILTIN_CHAINS, Chain, Ruleset, Table, save_order, table_order


class Iptables:
    def __init__(self) -> None:
        # table -> chain -> rules; a table springs into being, with its built-in chains at
        # policy ACCEPT, the first time a command names it, as with iptables-nft
        self._rules: dict[str, dict[str, list[str]]] = {}
        self._policy: dict[tuple[str, str], str] = {}

    def _table(self, table: str) -> dict[str, list[str]]:
        if table not in self._rules:
            self._rules[table] = {name: [] for name in BUILTIN_CHAINS[table]}
            for name in BUILTIN_CHAINS[table]:
                self._policy[(table, name)] = "ACCEPT"
        return self._rules[table]

    def _chain(self, table: str, chain: str) -> list[str]:
        chains = self._table(table)
        if chain not in chains:
            raise KeyError(f"iptables: chain {chain} does not exist in table {table}")
        return chains[chain]

    def new_chain(self, table: str, chain: str) -> None:
        """-N, skipped when the chain exists (libnetwork lists it first)."""
        self._table(table).setdefault(chain, [])

    def exists(self, table: str, chain: str, rule: str) -> bool:
        """-C; unlike -A or -I, iptables-nft does not create a table it checks"""
        return table in self._rules and rule in self._chain(table, chain)

    def append(self, table: str, chain: str, rule: str) -> None:
        """-A"""
        self._chain(table, chain).append(rule)

    def insert(self, table: str, chain: str, rule: str) -> None:
        """-I at position 1"""
        self._chain(table, chain).insert(0, rule)

    def delete(self, table: str, chain: str, rule: str) -> None:
        """-D of the first match; libnetwork ignores the error when there is none, and a
        table that does not exist stays so."""
        if table not in self._rules:
            return
        rules = self._chain(table, chain)
        if rule in rules:
            rules.remove(rule)

    def set_policy(self, table: str, chain: str, policy: str) -> None:
        """-P"""
        self._chain(table, chain)
        self._policy[(table, chain)] = policy

    def ruleset(self) -> Ruleset:
        return Ruleset(table_order(
            Table(t, save_order(t, (Chain(c, self._policy.get((t, c)), tuple(rules))
                                    for c, rules in chains.items())))
            for t, chains in self._rules.items()))
