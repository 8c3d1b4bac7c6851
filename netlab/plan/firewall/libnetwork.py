"""The helpers of libnetwork's iptables package (20.10 `iptables/iptables.go`) over our
in-memory tables: the existence checks in them decide which rules end up written twice
or not at all, so they are reproduced as they are."""
from __future__ import annotations

from .iptables import Iptables

FILTER, NAT, MANGLE = "filter", "nat", "mangle"
APPEND, INSERT, DELETE = "-A", "-I", "-D"


def program_rule(ipt: Iptables, table: str, chain: str, action: str, rule: str) -> None:
    """ProgramRule: add a rule only if absent, delete it only if present."""
    if ipt.exists(table, chain, rule) != (action == DELETE):
        return
    {APPEND: ipt.append, INSERT: ipt.insert, DELETE: ipt.delete}[action](table, chain, rule)


def add_return_rule(ipt: Iptables, chain: str) -> None:
    """AddReturnRule: `-A <chain> -j RETURN` in filter, once."""
    program_rule(ipt, FILTER, chain, APPEND, "-j RETURN")


def ensure_jump_rule(ipt: Iptables, from_chain: str, to_chain: str) -> None:
    """EnsureJumpRule: delete the jump if present and insert it again, so it is first."""
    rule = f"-j {to_chain}"
    ipt.delete(FILTER, from_chain, rule)
    ipt.insert(FILTER, from_chain, rule)
