"""An engine's own nftables tables (Docker 29 with `firewall-backend: nftables`: `ip
docker-bridges`, `ip6 docker-bridges`) in a lab namespace, through the `nft` tool run inside it.

A write is one `nft -f` transaction that declares each table, deletes it and defines it anew:
the kernel swaps old for new at once, so no packet ever meets a namespace without them, and
a table that did not exist is created by the declaration. Only tables named by the rule set
(or given to `delete`) are touched: the tracer's table and iptables-nft's stay."""
from __future__ import annotations

import subprocess

from ..errors import KernelError
from ..plan.nft_text import numeric_priorities, table_names
from . import netns
from .tools import find_tool

PACKAGE = "nftables"


def binary() -> str:
    path = find_tool("nft")
    if path is None:
        raise KernelError(f"`nft` is not installed: netlab needs it to write an nftables engine's rules "
                          f"(apt-get install {PACKAGE})")
    return path


def replace_script(text: str, also: list[str] | tuple[str, ...] = ()) -> str:
    """The `nft -f` input that leaves exactly `text`'s tables, and none of `also` ("family
    name" each): every one is declared (so that its delete cannot fail), deleted, and those of
    `text` defined again, in one transaction."""
    names = list(dict.fromkeys([*table_names(text), *also]))
    head = "".join(f"add table {name}\ndelete table {name}\n" for name in names)
    body = numeric_priorities(text)
    return head + body + ("" if not body or body.endswith("\n") else "\n")


def run(ns: str, argv: list[str], stdin: str | None = None) -> str:
    """`nft ARGV` in `ns` (only the network namespace matters to nft); its output."""
    with netns.entered(ns):
        # the child inherits this thread's network namespace at fork
        proc = subprocess.run([binary(), *argv], input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        raise KernelError(f"{ns}: nft {' '.join(argv)} failed: {proc.stderr.strip()}")
    return proc.stdout


def write(ns: str, text: str, present: set[str]) -> None:
    """`text`'s tables in place of what `ns` has under their names. `present`: the tables
    the namespace holds now ("family name"); one that shares a name with the rule set's but
    not its family (the engine stopped writing IPv6) goes too."""
    names = {name.split()[1] for name in table_names(text)}
    stale = sorted(t for t in present if t.split()[1] in names and t not in table_names(text))
    run(ns, ["-f", "-"], replace_script(text, stale))


def delete(ns: str, tables: list[str] | tuple[str, ...]) -> None:
    """The `tables` gone, in one transaction (those already gone are no error)."""
    if tables:
        run(ns, ["-f", "-"], replace_script("", tables))


def read(ns: str, tables: list[str] | tuple[str, ...], present: set[str]) -> str:
    """The `tables` that exist, as `nft list table` prints them, one after another (nft 1.0.6
    lists only one table per run)."""
    return "".join(run(ns, ["list", "table", *name.split()]) for name in tables if name in present)
