"""What differs between the iptablers of 28.5 and 29.7, and the two address families.

Everything else the two write the same way, so one replay serves both (driver.py)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ....model.topology import Container

DOCKER = "DOCKER"
FORWARD = "DOCKER-FORWARD"
BRIDGE = "DOCKER-BRIDGE"
CT = "DOCKER-CT"
ISOLATION_1 = "DOCKER-ISOLATION-STAGE-1"
ISOLATION_2 = "DOCKER-ISOLATION-STAGE-2"
INTERNAL = "DOCKER-INTERNAL"
USER = "DOCKER-USER"

Port = tuple[int, str]


@dataclass(frozen=True, kw_only=True)
class Flavor:
    name: str
    # where an --internal network's two DROPs go; DOCKER-FORWARD jumps there second
    internal_chain: str
    # inter-network isolation (setINC): DOCKER-ISOLATION-STAGE-1/2 per non-internal bridge
    isolation: bool
    # nat `DOCKER -i <br> -j RETURN` with the userland proxy on: the proxy, not DNAT, serves
    # a container reaching a published port from its own bridge
    skip_dnat: bool
    # where the bridge driver adds legacy links: Join (29) or ProgramExternalConnectivity (28)
    links_at_join: bool
    # 29 programs a routed network's port bindings on every endpoint, not only the gateway's
    routed_ports_everywhere: bool
    # the container's exposed ports in the order the daemon hands them to the driver
    exposed: Callable[[Container], tuple[Port, ...]]

    @property
    def filter_chains(self) -> tuple[str, ...]:
        """setupIPChains' filter chains, in creation order."""
        middle = (ISOLATION_1, ISOLATION_2) if self.isolation else (INTERNAL,)
        return (DOCKER, FORWARD, BRIDGE, CT, *middle)


@dataclass(frozen=True)
class Family:
    name: str                       # ipv4 | ipv6
    loopback: str                   # what nat OUTPUT leaves to the userland proxy

    @property
    def ipv6(self) -> bool:
        return self.name == "ipv6"


IPV4 = Family("ipv4", "127.0.0.0/8")
IPV6 = Family("ipv6", "::1/128")


def sorted_exposed(c: Container) -> tuple[Port, ...]:
    """28: nat.SortPortMap's order (buildSandboxOptions), which the model keeps."""
    return c.exposed


def map_walk_exposed(c: Container) -> tuple[Port, ...]:
    """29: buildSandboxOptions no longer sorts; it walks a Go map holding the published ports,
    then the exposed-only ones, each added in the API's key order ("53/udp" < "5432/tcp"). A
    small map's walk is that order rotated by a random start; netlab takes it unrotated, as
    for 20.10's ports (model/ports.py daemon_order)."""
    def key(p: Port) -> str:
        return f"{p[0]}/{p[1]}"
    published = {(b.container_port, b.proto) for b in c.ports}
    return (*sorted(published, key=key), *sorted(set(c.exposed) - published, key=key))


DOCKER_28 = Flavor(name="28.5", internal_chain=ISOLATION_1, isolation=True, skip_dnat=True,
                   links_at_join=False, routed_ports_everywhere=False, exposed=sorted_exposed)
# moby#49981 (29.0): the isolation chains go, internal networks get DOCKER-INTERNAL, and
# the skip-DNAT RETURN goes with them
DOCKER_29 = Flavor(name="29.7", internal_chain=INTERNAL, isolation=False, skip_dnat=False,
                   links_at_join=True, routed_ports_everywhere=True, exposed=map_walk_exposed)
