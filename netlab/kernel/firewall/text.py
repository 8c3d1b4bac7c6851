"""iptables-restore input as text: what a restore must say to turn one rule set into another.
Pure (no kernel): both iptables backends restore text of this shape."""
from __future__ import annotations

import re
from collections.abc import Iterable

from ...plan.firewall.model import BUILTIN_CHAINS


def blocks(text: str) -> list[tuple[str, str]]:
    """(table, body) of each `*table ... COMMIT` block."""
    return re.findall(r"^\*(\w+)\n(.*?)^COMMIT", text, re.M | re.S)


def tables_of(text: str) -> list[str]:
    """The tables a restore text (or iptables-save output) names, in order."""
    return re.findall(r"^\*(\w+)$", text, re.M)


def user_chains(body: str) -> list[str]:
    return re.findall(r"^:(\S+) - ", body, re.M)


def _dropped(chains: Iterable[str]) -> str:
    """Restore lines that delete user chains (declared first: -X needs them to exist)."""
    chains = list(chains)
    return "".join(f":{c} - [0:0]\n" for c in chains) + "".join(f"-X {c}\n" for c in chains)


def empty_table(table: str) -> str:
    """A table as a fresh namespace has it: its built-in chains, empty, policy ACCEPT."""
    return f"*{table}\n" + "".join(f":{c} ACCEPT [0:0]\n" for c in BUILTIN_CHAINS.get(table, ())) + "COMMIT\n"


def replacing(current: str, text: str, drop_chains: bool, clear: set[str] | None = None) -> str:
    """Restore input that leaves exactly `text`'s rule set where `current` (iptables-save
    output) is now: a table `text` does not name keeps only its built-in chains, empty, policy
    ACCEPT (as in a fresh namespace), and a user chain it does not declare goes.
    `drop_chains`: the restore keeps undeclared user chains (iptables-nft-restore does), so
    those are declared and deleted (`-X`) in the same transaction; a backend that deletes them
    itself says False. `clear`: the tables outside `text` that may be emptied (None: all; an
    adopted VM namespace keeps its own)."""
    now = {table: user_chains(body) for table, body in blocks(current)}
    wanted = blocks(text)
    out = []
    for table, body in wanted:
        kept = set(user_chains(body))
        gone = [c for c in now.get(table, ()) if c not in kept] if drop_chains else []
        out.append(f"*{table}\n{body}{_dropped(gone)}COMMIT\n")
    named = {table for table, _ in wanted}
    for table, chains in now.items():
        if table in BUILTIN_CHAINS and table not in named and (clear is None or table in clear):
            policies = "".join(f":{c} ACCEPT [0:0]\n" for c in BUILTIN_CHAINS[table])
            out.append(f"*{table}\n{policies}{_dropped(chains if drop_chains else [])}COMMIT\n")
    return "".join(out)
