"""Native nftables tables as `nft -a list table` prints them inside a namespace: the rules'
text with their handles, which the tracer needs to name the rule an nftrace event points at
(an event carries table, chain and handle only)."""
from __future__ import annotations

import subprocess

from ..errors import KernelError
from . import netns
from .tools import find_tool


def list_table(ns: str, family: str, table: str) -> str:
    """`nft -a list table FAMILY TABLE` in `ns` ("" when the table does not exist there)."""
    nft = find_tool("nft")
    if nft is None:
        raise KernelError("`nft` is not installed: the tracer reads native nftables rules with it "
                          "(apt-get install nftables)")
    with netns.entered(ns):
        # the child inherits this thread's network namespace at fork
        proc = subprocess.run([nft, "-a", "list", "table", family, table], capture_output=True, text=True)
    if proc.returncode != 0:
        if "No such file or directory" in proc.stderr:
            return ""
        raise KernelError(f"{ns}: nft -a list table {family} {table} failed: {proc.stderr.strip()}")
    return proc.stdout
