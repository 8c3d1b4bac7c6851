"""Which rule program writes a host's firewall: the one its engine names (Engine.firewall).

A program turns a host of the topology into what that engine leaves behind: the iptables
rule set (IPv4), the ip6tables rule set, the native nftables tables (for an engine whose
firewall backend is nftables) and the host sysctls. A new engine whose rules differ
registers its program here."""
from __future__ import annotations

from types import ModuleType
from typing import Protocol

from ...engine import Engine
from ...model.topology import Topology
from . import docker
from .iptabler import docker28 as iptables28
from .iptabler import docker29 as iptables29
from .model import Ruleset
from .nft import docker29


class FirewallProgram(Protocol):
    def host_ruleset(self, topo: Topology, host: str) -> Ruleset: ...

    def host_sysctls(self, topo: Topology, host: str) -> tuple[tuple[str, str], ...]: ...


# optional in a program: host_ruleset6(topo, host) -> Ruleset (none: no ip6tables rules) and
# host_nftables(topo, host) -> str, its tables as `nft list table` prints them (none: "")
PROGRAMS: dict[str, FirewallProgram | ModuleType] = {
    "iptables-20.10": docker,      # 26.1 names it too: its rules are 20.10's, byte for byte
    "iptables-28.5": iptables28,
    "iptables-29.7": iptables29,
    "nftables-29.7": docker29,
}


def program_for(engine: Engine) -> FirewallProgram:
    program = PROGRAMS.get(engine.firewall)
    if program is None:     # a profile naming a program nobody registered: a netlab bug
        raise LookupError(f"engine {engine.name}: no firewall program {engine.firewall!r}")
    return program


def host_ruleset(topo: Topology, host: str) -> Ruleset:
    """The iptables (IPv4) rule set; empty for an engine that programs nftables."""
    return program_for(topo.host(host).engine).host_ruleset(topo, host)


def host_ruleset6(topo: Topology, host: str) -> Ruleset:
    """The ip6tables rule set."""
    write = getattr(program_for(topo.host(host).engine), "host_ruleset6", None)
    return write(topo, host) if write else Ruleset()


def host_nftables(topo: Topology, host: str) -> str:
    """The engine's own nftables tables, as `nft list table` prints them ("" for none)."""
    write = getattr(program_for(topo.host(host).engine), "host_nftables", None)
    return write(topo, host) if write else ""


def host_sysctls(topo: Topology, host: str) -> tuple[tuple[str, str], ...]:
    return program_for(topo.host(host).engine).host_sysctls(topo, host)
