"""The default backend: iptables-nft, one `iptables-nft-restore` (`ip6tables-nft-restore` for
IPv6) per namespace and write, run inside the namespace (only the network namespace matters
to iptables, so no `ip netns exec`)."""
from __future__ import annotations

import subprocess

from ...errors import KernelError
from .. import netns
from ..tools import find_tool
from .backend import FirewallBackend

PACKAGE = "iptables"
# the command of each family, and the nf_tables family its tables are in
COMMAND = {"ipv4": "iptables", "ipv6": "ip6tables"}
NFT_FAMILY = {"ipv4": "ip", "ipv6": "ip6"}


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
    requires = {"ipv4": ("iptables-nft",), "ipv6": ("ip6tables-nft",)}

    def restore(self, ns: str, text: str, family: str = "ipv4") -> None:
        run_in(ns, [binary(f"{COMMAND[family]}-nft-restore")], text)

    def save(self, ns: str, counters: bool = False, family: str = "ipv4") -> str:
        return run_in(ns, [binary(f"{COMMAND[family]}-nft-save")] + (["-c"] if counters else []))

    def remove_tables(self, ns: str, tables: list[str], family: str = "ipv4") -> None:
        # iptables-nft leaves an emptied table in nf_tables, where iptables-save still lists it
        nft = find_tool("nft")
        if nft is None or not tables:
            return
        script = "".join(f"add table {NFT_FAMILY[family]} {t}\ndelete table {NFT_FAMILY[family]} {t}\n"
                         for t in tables)
        run_in(ns, [nft, "-f", "-"], script)
