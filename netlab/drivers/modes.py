"""Network modes (`network_mode:`): how a container gets its network namespace. `bridge`
joins networks through their drivers; `none` is a namespace with lo only; `host` runs in the
host's namespace; `container:<name>` in another container's (nothing to make)."""
from __future__ import annotations

from typing import Protocol

from ..model.published import host_bindings
from ..model.topology import Container, Topology
from ..plan.items import DEFAULT6, Netns, Proxy, Route, Sysctl
from ..plan.plan import Plan
from .registry import DRIVERS


class Mode(Protocol):
    name: str
    joins_networks: bool    # endpoints on the default bridge or user networks
    own_namespace: bool     # a namespace made for the container, with its own /etc files

    def plan_namespace(self, plan: Plan, topo: Topology, c: Container) -> None: ...

    def plan_ports(self, plan: Plan, topo: Topology, c: Container) -> None: ...


ALL_IPV6_OFF = "net/ipv6/conf/all/disable_ipv6"


class NamespaceMode:
    """`none`: a fresh namespace with dockerd's sysctls and whatever endpoints it has."""

    name = "none"
    joins_networks = False
    own_namespace = True

    def plan_namespace(self, plan: Plan, topo: Topology, c: Container) -> None:
        plan.add(Netns(c.netns, "container"))
        engine = topo.host(c.host).engine
        for path, value in engine.container_sysctls:
            # 20.10 turns IPv6 off for `all` (and so `default` and lo) in every namespace it
            # makes, then back on per interface below: written before the interfaces' own
            plan.add(Sysctl(c.netns, path, value))
        hairpin = not topo.host(c.host).daemon.userland_proxy
        for att in c.attachments:
            DRIVERS[att.driver].plan_endpoint(plan, topo, c, att, hairpin)
        # IPv6 only where the endpoint's driver gave the interface its IPv6 address: a route
        # via an IPv6 gateway the interface has no prefix for cannot be made
        planned6 = {att.ifname for att in c.attachments if att.address6 is not None
                    and plan.get(("address", c.netns, att.ifname, str(att.address6))) is not None}
        all_off = (ALL_IPV6_OFF, "1") in engine.container_sysctls
        if all_off and planned6:
            # checkLoV6 (20.10): lo's IPv6 comes back with the first IPv6 interface (the kernel
            # gives lo its ::1 again); `all` and `default` stay off (measured on 20.10.24)
            plan.add(Sysctl(c.netns, "net/ipv6/conf/lo/disable_ipv6", "0"))
        for ifname in sorted(planned6):
            plan.add(Sysctl(c.netns, f"net/ipv6/conf/{ifname}/disable_ipv6", "0"))
        if not all_off:
            # an engine that leaves the namespace's IPv6 on (26.0+) turns it off on each
            # interface without an IPv6 address: no link-local address, no fe80::/64 route
            for att in c.attachments:
                if att.ifname not in planned6:
                    plan.add(Sysctl(c.netns, f"net/ipv6/conf/{att.ifname}/disable_ipv6", "1"))
        gw = c.attachment(c.gateway_network) if c.gateway_network else None
        if gw is not None:
            plan.add(Route(c.netns, "default", str(gw.gateway), gw.ifname))
            if gw.gateway6 is not None and gw.ifname in planned6:
                plan.add(Route(c.netns, DEFAULT6, str(gw.gateway6), gw.ifname))

    def plan_ports(self, plan: Plan, topo: Topology, c: Container) -> None:
        return None


class BridgeMode(NamespaceMode):
    """The default: endpoints on networks, and published ports through the gateway endpoint."""

    name = "bridge"
    joins_networks = True

    def plan_ports(self, plan: Plan, topo: Topology, c: Container) -> None:
        """One docker-proxy per host binding (model/published.py: a binding on every
        address has its twin on :: in a lab with IPv6, to the container's IPv6 address, or
        to its IPv4 one through the proxy)."""
        host = topo.host(c.host)
        mode = "proxy" if host.daemon.userland_proxy else "hold"
        for hb in host_bindings(topo, c):
            b = hb.binding
            if b.proto == "sctp" or b.host_port == 0:
                # docker-proxy's sctp needs a kernel module this lab does not assume; a routed
                # network's binding has no host side at all
                continue
            plan.add(Proxy(netns=host.netns, proto=b.proto, host_ip=str(b.host_ip), host_port=b.host_port,
                           container_ip=str(hb.container_ip),
                           container_port=b.container_port, mode=mode,
                           reply_from_destination=host.engine.proxy_replies_from_destination))


class HostMode:
    name = "host"
    joins_networks = False
    own_namespace = False

    def plan_namespace(self, plan: Plan, topo: Topology, c: Container) -> None:
        if c.exposed:
            plan.notes.append(f"{c.name}: ports are not published in host network mode (Docker discards -p "
                              "there too); its processes use the host's own ports")

    def plan_ports(self, plan: Plan, topo: Topology, c: Container) -> None:
        return None


class ContainerMode:
    """`container:<name>`: the other container's namespace already holds everything."""

    name = "container"
    joins_networks = False
    own_namespace = False

    def plan_namespace(self, plan: Plan, topo: Topology, c: Container) -> None:
        return None

    def plan_ports(self, plan: Plan, topo: Topology, c: Container) -> None:
        return None


MODES: dict[str, Mode] = {m.name: m for m in (BridgeMode(), NamespaceMode(), HostMode(), ContainerMode())}
