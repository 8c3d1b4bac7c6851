"""Native nftables tables as `nft -a list table` prints them inside a namespace: the rules'
text with their handles, which the tracer needs to name the rule an nftrace event points at
(an event carries table, chain and handle only)."""
from __future__ import annotations

from ..errors import KernelError
from . import nft_tables


def list_table(ns: str, family: str, table: str) -> str:
    """`nft -a list table FAMILY TABLE` in `ns` ("" when the table does not exist there)."""
    try:
        return nft_tables.run(ns, ["-a", "list", "table", family, table])
    except KernelError as e:
        if "No such file or directory" in str(e):
            return ""
        raise
