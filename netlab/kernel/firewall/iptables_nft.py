"""The default backend: iptables-nft, one `iptables-nft-restore` per namespace and write, run
inside the namespace (only the network namespace matters to iptables, so no `ip netns exec`)."""
from __future__ import annotations

import subprocess

from ...errors import KernelError
from .. import netns
from ..tools import find_tool
from .backend import FirewallBackend

PACKAGE = "iptables"


def binary(name: str) -> str:
    path = find_tool(name)
    if path is None:
        raise KernelError(f"`{name}` is not installed: netlab needs it to write Docker's rules "
                          f"(apt-get install {PACKAGE})")
    return path


def run_in(ns: str, argv: list[str], stdin: str | None = None) -> str:
    """`argv` in `ns`; its output, or KernelError with its stderr."""
    with netns.entered(ns):
        # the child inherits this thread's network namespace at fork
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        raise KernelError(f"{ns}: {' '.join(argv[:1])} failed: {proc.stderr.strip()}")
    return proc.stdout


class IptablesNft(FirewallBackend):
    name = "nft"
    requires = (("iptables-restore", PACKAGE),)

    def restore(self, ns: str, text: str) -> None:
        run_in(ns, [binary("iptables-nft-restore")], text)

    def save(self, ns: str, counters: bool = False) -> str:
        return run_in(ns, [binary("iptables-nft-save")] + (["-c"] if counters else []))

    def remove_tables(self, ns: str, tables: list[str]) -> None:
        # iptables-nft leaves an emptied table in nf_tables, where iptables-save still lists it
        nft = find_tool("nft")
        if nft is None:
            return
        with netns.entered(ns):
            for table in tables:
                subprocess.run([nft, "delete", "table", "ip", table], capture_output=True)
