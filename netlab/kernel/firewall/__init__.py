"""Firewall backends, chosen by name: `--firewall NAME`, else the one the machine's own
`iptables` command uses. Each writes both families (iptables, ip6tables). A new backend is one
module here that implements `FirewallBackend`, added to BACKENDS. (An engine's native nftables
tables are written by kernel/nft_tables.py, whatever the backend.)"""
from __future__ import annotations

import os

from ...errors import LabError
from ..tools import find_tool
from .backend import FAMILIES, FirewallBackend, Restorer
from .iptables_legacy import IptablesLegacy
from .iptables_nft import IptablesNft
from .text import tables_of

__all__ = ["BACKENDS", "FAMILIES", "FirewallBackend", "Restorer", "backend", "default_name", "names", "replacing",
           "save", "tables_of"]

BACKENDS: dict[str, type[FirewallBackend]] = {cls.name: cls for cls in (IptablesNft, IptablesLegacy)}


def names() -> tuple[str, ...]:
    return tuple(BACKENDS)


def backend(name: str) -> FirewallBackend:
    cls = BACKENDS.get(name)
    if cls is None:
        raise LabError(f"unknown firewall backend {name!r}; use {' or '.join(BACKENDS)}")
    return cls()


def default_name() -> str:
    """The backend `iptables` itself uses here (nft on Debian 12), so that people see the
    lab's rules with the plain `iptables-save`."""
    link = os.path.realpath(find_tool("iptables") or "/usr/sbin/iptables")
    return "legacy" if "legacy" in os.path.basename(link) else "nft"


def save(ns: str, name: str = "nft", family: str = "ipv4") -> str:
    """The rule set of `ns` as backend `name`'s iptables-save (ip6tables-save) prints it."""
    return backend(name).save(ns, family=family)


def replacing(current: str, text: str, name: str = "nft", clear: set[str] | None = None) -> str:
    """The restore input with which backend `name` turns `current` into `text`."""
    return backend(name).replacing(current, text, clear)

