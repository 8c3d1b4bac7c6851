"""Each container's UTS namespace, as Docker 28.5 sets it up (daemon/container.go,
daemon/container_operations.go initializeNetworking, daemon/oci_linux.go): every container
gets one of its own, whatever its network mode (only --uts=host, which labs do not have,
leaves it out). Its hostname is the one given, else the short id; a host-mode container's
default is the machine's own name (os.Hostname() in the daemon); a `container:` one copies
the hostname and domainname of the container whose network it joins, into a namespace of
its own. The NIS domain name is written only when one is given (kernel.domainname)."""
from __future__ import annotations

from ..model import naming
from ..model.topology import Container, Topology
from .uts import Uts


def uts_name(lab: str, container: str) -> str:
    """The pin of a container's UTS namespace: named like the netns it would have of its own,
    also for host- and container-mode containers, which share another's netns."""
    return naming.netns(lab, container)


def uts_of(topo: Topology, name: str) -> str | None:
    """The UTS pin a program run "in" `name` enters: a container's own; None for a host or
    `outside`, which keep the machine's."""
    return uts_name(topo.name, name) if topo.find_container(name) is not None else None


def network_owner(topo: Topology, c: Container) -> Container:
    """The container whose network namespace `c` runs in, through `container:` chains."""
    seen = {c.name}
    while c.mode == "container" and c.shares and c.shares not in seen:
        seen.add(c.shares)
        c = topo.container(c.shares)
    return c


def container_uts(topo: Topology, c: Container) -> Uts:
    owner = network_owner(topo, c)
    # the model fills an unset hostname with the short id; in host mode dockerd takes its own
    hostname = None if owner.mode == "host" and owner.hostname == owner.short_id else owner.hostname
    return Uts(name=uts_name(topo.name, c.name), netns=c.netns, container=c.name, hostname=hostname,
               domainname=owner.domainname)
