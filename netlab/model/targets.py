"""Names people type (`a1`, `node1:8080`, `outside`, an address) -> namespaces and addresses."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import NoReturn

from ..errors import LabError
from .topology import Container, Topology


@dataclass(frozen=True)
class Endpoint:
    name: str
    netns: str
    kind: str                   # container | host | outside | address


def endpoint(topo: Topology, name: str) -> Endpoint:
    """Where a command or probe runs for NAME: a container, a host, or `outside`."""
    if name == "outside":
        return Endpoint(name, topo.outside_netns, "outside")
    c = topo.find_container(name)
    if c is not None:
        if c.mode == "host":
            return Endpoint(name, topo.host(c.host).netns, "container")
        return Endpoint(name, c.netns, "container")
    if any(h.name == name for h in topo.hosts):
        return Endpoint(name, topo.host(name).netns, "host")
    _no_such_name(topo, name)


def _no_such_name(topo: Topology, name: str) -> NoReturn:
    known = [c.name for c in topo.containers] + [h.name for h in topo.hosts] + ["outside"]
    raise LabError(f"lab {topo.name!r} has no container, host or outside named {name!r} "
                   f"(it has: {', '.join(known)})")


def address(topo: Topology, source: str, target: str, family: int = 4) -> IPv4Address | IPv6Address:
    """The address SOURCE would use for TARGET: a shared network first, as a person would;
    `family` 6 asks for the IPv6 one."""
    try:
        return ip_address(target)
    except ValueError:
        pass
    if family == 6:
        return _address6(topo, source, target)
    if target == "outside":
        return topo.outside_addresses[0] if topo.outside_addresses else topo.underlay.gateway
    if any(h.name == target for h in topo.hosts):
        return topo.host(target).address
    c = _container(topo, target)
    if c.mode == "host":
        return topo.host(c.host).address
    src = _source(topo, source)
    if src is not None:
        mine = {a.network for a in src.attachments}
        for att in c.attachments:
            if att.network in mine and src.host == c.host or att.driver == "overlay" and att.network in mine:
                return att.address.ip
    gw = c.attachment(c.gateway_network) if c.gateway_network else None
    return (gw or c.attachments[0]).address.ip


def _container(topo: Topology, name: str) -> Container:
    """The container NAME stands for, through `container:` sharing; one with no addresses
    (network_mode none) is an error. A host-mode container is returned as it is."""
    c = _source(topo, name)
    if c is None:    # and not `outside` or a host, handled before: what endpoint() raises
        _no_such_name(topo, name)
    if c.mode != "host" and not c.attachments:
        raise LabError(f"{name!r} has no network address (network_mode {c.mode})")
    return c


def _source(topo: Topology, name: str) -> Container | None:
    """The container whose networks a probe from NAME leaves by, if NAME is a container."""
    c = topo.find_container(name)
    while c is not None and c.mode == "container" and c.shares:
        c = topo.container(c.shares)
    return c


def _lan6(topo: Topology, target: str, found: IPv6Address | None) -> IPv6Address:
    """The outside's and the hosts' IPv6 addresses exist only in a lab with IPv6."""
    if found is None:
        raise LabError(f"{target!r} has no IPv6 address: lab {topo.name!r} has no IPv6 (no network with "
                       "enable_ipv6, no daemon with ipv6)")
    return found


def _address6(topo: Topology, source: str, target: str) -> IPv6Address:
    if target == "outside":
        found = topo.outside_addresses6[0] if topo.outside_addresses6 else topo.underlay.gateway6
        return _lan6(topo, target, found)
    if any(h.name == target for h in topo.hosts):
        return _lan6(topo, target, topo.host(target).address6)
    c = _container(topo, target)
    if c.mode == "host":
        return _lan6(topo, target, topo.host(c.host).address6)
    v6 = [a for a in c.attachments if a.address6 is not None]
    if not v6:
        raise LabError(f"{target!r} has no IPv6 address: none of its networks has enable_ipv6")
    src = _source(topo, source)
    mine = {a.network for a in src.attachments} if src is not None else set()
    # as for IPv4: a network the source shares, else the one of the default route, else the first
    ranked = sorted(v6, key=lambda a: (a.network not in mine, a.network != c.gateway_network))
    address6 = ranked[0].address6
    assert address6 is not None, "filtered above"
    return address6.ip
