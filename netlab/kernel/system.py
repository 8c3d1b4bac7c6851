"""The real kernel behind `ops.KernelOps`: namespaces (netns), netlink (links.Netlink and
the raw dumps), sysctls, /etc/netns files, a firewall backend, and nftables tables (nft)."""
from __future__ import annotations

import os
from types import TracebackType

from . import netns, nft_dump, nft_tables, uts
from .firewall.backend import FirewallBackend
from .links import Netlink
from .observe import NetnsState, read_netns
from .observe_l2 import read_l2
from .ops import L2State

# the files netlab writes under /etc/netns/<ns> (write_etc adds a temporary ".<name>.tmp")
ETC_FILES = ("hosts", "resolv.conf")


class Kernel:
    """One run's kernel access: its netlink sockets (one per namespace, kept for the run) and
    the lab's firewall backend. A context manager: the sockets close at the end."""

    def __init__(self, firewall: FirewallBackend, links: Netlink | None = None):
        self.links = links or Netlink()
        self.firewall = firewall

    def close(self) -> None:
        self.links.close()

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ---- namespaces --------------------------------------------------------------------
    def exists(self, ns: str) -> bool:
        return netns.exists(ns)

    def clear_stale(self, ns: str) -> None:
        netns.clear_stale(ns)

    def create_netns(self, ns: str, mark: str) -> None:
        netns.create(ns, mark)

    def adopt_netns(self, ns: str) -> None:
        netns.adopt(ns)

    def delete_netns(self, ns: str) -> None:
        self.links.forget(ns)
        netns.delete(ns)
        remove_etc(ns)

    # ---- UTS namespaces (kernel/uts.py) ----------------------------------------------------
    def read_uts(self, name: str) -> tuple[str, str] | None:
        return uts.read(name)

    def machine_uts(self) -> tuple[str, str]:
        return uts.machine()

    def create_uts(self, name: str, hostname: str | None, domainname: str | None) -> None:
        uts.create(name, hostname, domainname)

    def write_uts(self, name: str, hostname: str | None, domainname: str | None) -> None:
        uts.write(name, hostname, domainname)

    def delete_uts(self, name: str) -> None:
        uts.delete(name)

    # ---- reads ---------------------------------------------------------------------------
    def read_netns(self, ns: str) -> NetnsState:
        return read_netns(ns)

    def read_l2(self, ns: str) -> L2State:
        return read_l2(self.links, ns)

    def fingerprint(self, ns: str) -> str:
        return nft_dump.fingerprint(ns)

    # ---- an engine's own nftables tables ----------------------------------------------------
    def write_nft(self, ns: str, text: str) -> None:
        nft_tables.write(ns, text, nft_dump.tables(ns))

    def read_nft(self, ns: str, tables: list[str]) -> str:
        return nft_tables.read(ns, tables, nft_dump.tables(ns))

    def delete_nft(self, ns: str, tables: list[str]) -> None:
        nft_tables.delete(ns, tables)

    # ---- sysctls and files -----------------------------------------------------------------
    def read_sysctl(self, ns: str, path: str) -> str | None:
        return netns.read_sysctl(ns, path)

    def write_sysctl(self, ns: str, path: str, value: str) -> None:
        netns.write_sysctl(ns, path, value)

    def read_etc(self, ns: str, name: str) -> str | None:
        try:
            with open(f"{netns.etc_dir(ns)}/{name}") as f:
                return f.read()
        except OSError:
            return None

    def write_etc(self, ns: str, name: str, content: str) -> None:
        d = netns.etc_dir(ns)
        os.makedirs(d, exist_ok=True)
        tmp = f"{d}/.{name}.tmp"
        with open(tmp, "w") as f:
            f.write(content)
        os.replace(tmp, f"{d}/{name}")

    def delete_etc(self, ns: str, name: str) -> None:
        try:
            os.unlink(f"{netns.etc_dir(ns)}/{name}")
        except FileNotFoundError:
            pass


def remove_etc(ns: str) -> None:
    d = netns.etc_dir(ns)
    # a temporary file too: an `up` killed between writing one and renaming it leaves it
    for name in ETC_FILES + tuple(f".{n}.tmp" for n in ETC_FILES):
        try:
            os.unlink(f"{d}/{name}")
        except FileNotFoundError:
            pass
    try:
        os.rmdir(d)
    except OSError:
        pass
