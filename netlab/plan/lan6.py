"""The LAN's IPv6 half (model/lan6.py), in a lab with IPv6: the outside's router address,
its stand-in internet hosts and IPv6 forwarding (it routes between the hosts' routed
subnets as it does for IPv4's `outside.routes`), each host's address and default route."""
from __future__ import annotations

from ..model.topology import Host, Topology
from .items import DEFAULT6, Address, Route, Sysctl
from .plan import Plan


def plan_outside6(plan: Plan, topo: Topology, bridge: str) -> None:
    ns, lan = topo.outside_netns, topo.underlay
    if lan.subnet6 is None:
        return
    plan.add(Sysctl(ns, f"net/ipv6/conf/{bridge}/disable_ipv6", "0"))
    plan.add(Sysctl(ns, "net/ipv6/conf/all/forwarding", "1"))
    plan.add(Address(ns, bridge, f"{lan.gateway6}/{lan.subnet6.prefixlen}"))
    for a in topo.outside_addresses6:
        plan.add(Address(ns, "lo", f"{a}/128"))


def plan_host6(plan: Plan, topo: Topology, host: Host) -> None:
    lan = topo.underlay
    if lan.subnet6 is None or host.address6 is None:
        return
    plan.add(Sysctl(host.netns, "net/ipv6/conf/eth0/disable_ipv6", "0"))
    plan.add(Address(host.netns, "eth0", f"{host.address6}/{lan.subnet6.prefixlen}"))
    plan.add(Route(host.netns, DEFAULT6, str(lan.gateway6), "eth0"))
