"""What dockerd 29.7 (iptables backend) leaves in a host's iptables and ip6tables, and its
sysctls: 28.5's layout without the isolation chains (DOCKER-INTERNAL holds the internal
networks' DROPs) and without the nat skip-DNAT RETURN."""
from __future__ import annotations

from ....model.topology import Topology
from ..model import Ruleset
from .driver import replay
from .flavor import DOCKER_29, IPV4, IPV6
from .sysctls import host_sysctls

__all__ = ["host_ruleset", "host_ruleset6", "host_sysctls"]


def host_ruleset(topo: Topology, host: str) -> Ruleset:
    return replay(topo, host, DOCKER_29, IPV4)


def host_ruleset6(topo: Topology, host: str) -> Ruleset:
    return replay(topo, host, DOCKER_29, IPV6)
