"""Names people type (`a1`, `node1:8080`, `outside`, an address) -> namespaces and addresses."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import NoReturn

from ..errors import LabError
from .topology import Topology


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


def address(topo: Topology, source: str, target: str) -> IPv4Address:
    """The address SOURCE would use for TARGET: a shared network first, as a person would."""
    try:
        return IPv4Address(target)
    except ValueError:
        pass
    if target == "outside":
        return topo.outside_addresses[0] if topo.outside_addresses else topo.underlay.gateway
    if any(h.name == target for h in topo.hosts):
        return topo.host(target).address
    c = topo.find_container(target)
    if c is None:    # and not `outside` or a host, handled above: what endpoint() raises
        _no_such_name(topo, target)
    while c.mode == "container" and c.shares:
        c = topo.container(c.shares)
    if c.mode == "host":
        return topo.host(c.host).address
    if not c.attachments:
        raise LabError(f"{target!r} has no network address (network_mode {c.mode})")
    src = topo.find_container(source)
    if src is not None:
        while src.mode == "container" and src.shares:
            src = topo.container(src.shares)
        mine = {a.network for a in src.attachments}
        for att in c.attachments:
            if att.network in mine and src.host == c.host or att.driver == "overlay" and att.network in mine:
                return att.address.ip
    gw = c.attachment(c.gateway_network) if c.gateway_network else None
    return (gw or c.attachments[0]).address.ip
