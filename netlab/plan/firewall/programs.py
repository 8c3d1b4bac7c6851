"""Which rule program writes a host's firewall: the one its engine names (Engine.firewall).

A program turns a host of the topology into the rule set and sysctls that engine leaves
behind; a new engine whose rules differ registers its program here."""
from __future__ import annotations

from types import ModuleType
from typing import Protocol

from ...engine import Engine
from ...model.topology import Topology
from . import docker
from .model import Ruleset


class FirewallProgram(Protocol):
    def host_ruleset(self, topo: Topology, host: str) -> Ruleset: ...

    def host_sysctls(self, topo: Topology, host: str) -> tuple[tuple[str, str], ...]: ...


PROGRAMS: dict[str, FirewallProgram | ModuleType] = {
    "iptables-20.10": docker,
}


def program_for(engine: Engine) -> FirewallProgram:
    program = PROGRAMS.get(engine.firewall)
    if program is None:     # a profile naming a program nobody registered: a netlab bug
        raise LookupError(f"engine {engine.name}: no firewall program {engine.firewall!r}")
    return program


def host_ruleset(topo: Topology, host: str) -> Ruleset:
    return program_for(topo.host(host).engine).host_ruleset(topo, host)


def host_sysctls(topo: Topology, host: str) -> tuple[tuple[str, str], ...]:
    return program_for(topo.host(host).engine).host_sysctls(topo, host)
