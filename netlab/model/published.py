"""A container's published ports as the bridge driver's port mapper binds them on the host
(addPortMappings): each binding per address family, with the container address it goes to.

A binding on every address (no host address given, the default 0.0.0.0) gets its twin on
`::` with the same host port (configurePortBindingIPv6) when the host can listen on IPv6
(netutils.IsV6Listenable: it can bind [::1]:0). Every lab host can: a new namespace has IPv6
on and ::1 on lo, an IPv4 lab's hosts too (20.10.24, 26.1.5 and 28.5.2 measured so, in an
IPv4-only network on a host with no IPv6 address but ::1: `-p 8080:80` runs a docker-proxy
`-host-ip ::` to the container's IPv4 address, and [::1]:8080 reaches the container). The
IPv6 side goes to the container's IPv6 address; a container
without one is reached from IPv6 through docker-proxy at its IPv4 address ("proxy 6 to 4"),
and with the userland proxy off there is no IPv6 side for it at all. An explicit 0.0.0.0 stays
IPv4's; an explicit IPv6 host address is IPv6's alone, proxied to the IPv4 address the same
way. Not modelled: noProxy6To4 (another endpoint being the container's IPv6 gateway)."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from .topology import Attachment, Container, PortBinding, Topology

ANY = IPv4Address("0.0.0.0")
ANY6 = IPv6Address("::")


@dataclass(frozen=True)
class HostBinding:
    binding: PortBinding
    container_ip: IPv4Address | IPv6Address


def twinned(b: PortBinding) -> bool:
    """A binding on every address of the network's default (0.0.0.0), not spelled out."""
    return b.host_ip == ANY and not b.explicit_ip


def ipv6_target(gw: Attachment, userland_proxy: bool) -> IPv4Address | IPv6Address | None:
    """Where an IPv6 host binding goes: the endpoint's IPv6 address, else (proxy on) its IPv4."""
    if gw.address6 is not None:
        return gw.address6.ip
    return gw.address.ip if userland_proxy else None


def host_bindings(topo: Topology, c: Container) -> list[HostBinding]:
    gw = c.attachment(c.gateway_network) if c.gateway_network else None
    if gw is None:
        return []
    proxy = topo.host(c.host).daemon.userland_proxy
    target6 = ipv6_target(gw, proxy)
    out: list[HostBinding] = []
    for b in c.ports:
        if b.host_ip.version == 6:
            if target6 is not None:
                out.append(HostBinding(b, target6))
            continue
        out.append(HostBinding(b, gw.address.ip))
        if twinned(b) and target6 is not None:
            out.append(HostBinding(PortBinding(ANY6, b.host_port, b.container_port, b.proto), target6))
    return out
