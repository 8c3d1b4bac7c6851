"""What dockerd 28.5 (iptables) leaves in a host's iptables and ip6tables, and its sysctls:
DOCKER-FORWARD/-BRIDGE/-CT, the isolation chains under DOCKER-FORWARD, the raw table's
direct-access DROPs, and the ip6tables skeleton written even with no IPv6 network."""
from __future__ import annotations

from ....model.topology import Topology
from ..model import Ruleset
from .driver import replay
from .flavor import DOCKER_28, IPV4, IPV6
from .sysctls import host_sysctls

__all__ = ["host_ruleset", "host_ruleset6", "host_sysctls"]


def host_ruleset(topo: Topology, host: str) -> Ruleset:
    return replay(topo, host, DOCKER_28, IPV4)


def host_ruleset6(topo: Topology, host: str) -> Ruleset:
    return replay(topo, host, DOCKER_28, IPV6)
