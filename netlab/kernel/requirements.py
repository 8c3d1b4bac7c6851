"""The programs netlab runs, the Debian package of each, and what needs them: one list that
`up` checks before it makes anything (`needed`) and `netlab doctor` probes (features.py)."""
from __future__ import annotations

from dataclasses import dataclass

from .tools import find_tool


@dataclass(frozen=True, kw_only=True)
class Requirement:
    name: str                   # doctor's row
    tool: str                   # what `up` looks for on PATH
    package: str                # where it comes from (apt-get install PACKAGE)
    check: tuple[str, ...]      # what doctor runs in a throwaway namespace to see it work
    needed_by: str


REQUIREMENTS: dict[str, Requirement] = {r.name: r for r in (
    Requirement(name="iproute2", tool="ip", package="iproute2", check=("ip", "link", "show"),
                needed_by="`ip netns exec` for containers' commands and probes"),
    Requirement(name="iptables-nft", tool="iptables-nft-restore", package="iptables", check=("iptables-nft-save",),
                needed_by="Docker's rules in each host (the default backend; the tracer sees them)"),
    Requirement(name="ip6tables-nft", tool="ip6tables-nft-restore", package="iptables",
                check=("ip6tables-nft-save",),
                needed_by="the ip6tables rules of engines from 28.0 (the default backend)"),
    Requirement(name="iptables-legacy", tool="iptables-legacy-save", package="iptables",
                check=("iptables-legacy-save",), needed_by="the --firewall legacy backend"),
    Requirement(name="ip6tables-legacy", tool="ip6tables-legacy-restore", package="iptables",
                check=("ip6tables-legacy-save",),
                needed_by="the --firewall legacy backend, for engines from 28.0 (ip6tables)"),
    Requirement(name="nftables", tool="nft", package="nftables", check=("nft", "list", "tables"),
                needed_by="engines with firewall-backend nftables (29.7-nftables), and the tracer's "
                          "nftrace tables (netlab trace)"),
    Requirement(name="conntrack", tool="conntrack", package="conntrack", check=("conntrack", "-L"),
                needed_by="NAT evidence in netlab trace"),
    Requirement(name="util-linux", tool="nsenter", package="util-linux", check=("nsenter", "--version"),
                needed_by="containers' commands and `netlab exec` enter the container's UTS namespace "
                          "(its hostname) with nsenter"),
)}


def needed(backend_needs: dict[str, tuple[str, ...]], families: set[str], nftables: bool,
           uts: bool = False) -> list[Requirement]:
    """What a lab needs: iproute2, the backend's tools for IPv4 and for each other family the
    plan writes (`backend_needs`: its `requires`), nft for native nftables tables, and
    nsenter for containers' UTS namespaces (`uts`)."""
    names = ["iproute2", *backend_needs["ipv4"], *(["util-linux"] if uts else [])]
    for family in sorted(families - {"ipv4"}):
        names += backend_needs[family]
    if nftables:
        names.append("nftables")
    return [REQUIREMENTS[n] for n in dict.fromkeys(names)]


def missing(requirements: list[Requirement]) -> list[Requirement]:
    return [r for r in requirements if not find_tool(r.tool)]
