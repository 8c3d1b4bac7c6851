"""Topology -> Plan: every namespace, link, address, route, sysctl, rule set, file and
process the lab needs, in creation order."""
from __future__ import annotations

from ..drivers import DRIVERS, MODES
from ..model import naming
from ..model.topology import Container, Host, Topology
from . import etc
from .dns import plan_dns
from .hostnames import container_uts
from .items import Address, Bridge, EtcFile, Firewall, Netns, NftRuleset, Process, Route, Sysctl, Veth
from .lan6 import plan_host6, plan_outside6
from .plan import Plan
from .served import standin

UNDERLAY_BRIDGE = "underlay"


def underlay_mac(topo: Topology, host: Host) -> str:
    """A VM-like NIC address (52:54:00 is QEMU's prefix), stable across runs."""
    h = naming.digest(topo.name, "nic", host.name)
    return "52:54:00:" + ":".join(h[i:i + 2] for i in range(0, 6, 2))


def build_plan(topo: Topology) -> Plan:
    plan = Plan(topo.name)
    _outside(plan, topo)
    for host in topo.hosts:
        _host(plan, topo, host)
    for c in topo.containers:
        _container(plan, topo, c)
    for host in topo.hosts:
        _firewall(plan, topo, host)
    plan_dns(plan, topo)
    return plan


def _outside(plan: Plan, topo: Topology) -> None:
    ns = topo.outside_netns
    plan.add(Netns(ns, "outside"))
    plan.add(Bridge(ns, UNDERLAY_BRIDGE, mtu=topo.underlay.mtu))
    plan.add(Address(ns, UNDERLAY_BRIDGE, f"{topo.underlay.gateway}/{topo.underlay.subnet.prefixlen}"))
    for a in (*topo.outside_addresses, *etc.host_nameservers(topo)):
        plan.add(Address(ns, "lo", f"{a}/32"))
    plan_outside6(plan, topo, UNDERLAY_BRIDGE)
    for dst, host in topo.outside_routes:
        via = topo.host(host).address if dst.version == 4 else topo.host(host).address6
        plan.add(Route(ns, str(dst), str(via), UNDERLAY_BRIDGE))


def _host(plan: Plan, topo: Topology, host: Host) -> None:
    plan.add(Netns(host.netns, "host"))
    plan.add(Veth(netns=topo.outside_netns, name=naming.underlay_port(host.name), peer_netns=host.netns,
                  peer_name="eth0",
                  mtu=topo.underlay.mtu, master=UNDERLAY_BRIDGE, peer_mac=_nic_mac(topo, host)))
    plan.add(Address(host.netns, "eth0", f"{host.address}/{topo.underlay.subnet.prefixlen}"))
    plan.add(Route(host.netns, "default", str(topo.underlay.gateway), "eth0"))
    plan_host6(plan, topo, host)
    for seg in topo.segments_on(host.name):
        DRIVERS[seg.driver].plan_segment(plan, topo, seg)
    plan.add(EtcFile(host.netns, "hosts", etc.host_hosts(topo, host)))
    plan.add(EtcFile(host.netns, "resolv.conf", etc.host_resolv(topo, host)))


def _nic_mac(topo: Topology, host: Host) -> str:
    """eth0's MAC: its own, unless a driver hands eth0 to a container that sets another."""
    taken = (d.nic_mac(topo, host) for d in DRIVERS.values())
    return next((mac for mac in taken if mac), None) or underlay_mac(topo, host)


def _container(plan: Plan, topo: Topology, c: Container) -> None:
    mode = MODES[c.mode]
    mode.plan_namespace(plan, topo, c)
    if mode.own_namespace:
        plan.add(EtcFile(c.netns, "hosts", etc.container_hosts(topo, c)))
        plan.add(EtcFile(c.netns, "resolv.conf", etc.container_resolv(topo, c)))
    plan.add(container_uts(topo, c))
    if c.command:
        plan.add(Process(c.netns, c.name, c.command))
    listeners = standin(c.netns, c.name, c.exposed, c.command) if c.standin else None
    if listeners is not None:
        plan.add(listeners)
    mode.plan_ports(plan, topo, c)


def _firewall(plan: Plan, topo: Topology, host: Host) -> None:
    from .firewall.programs import host_nftables, host_ruleset, host_ruleset6, host_sysctls
    from .firewall.render import render_restore

    for path, value in host_sysctls(topo, host.name):
        plan.add(Sysctl(host.netns, path, value))
    # an nftables engine still gets an (empty) iptables item, so that a switch from an
    # iptables engine empties the tables that one wrote
    plan.add(Firewall(host.netns, render_restore(host_ruleset(topo, host.name))))
    v6 = render_restore(host_ruleset6(topo, host.name))
    if v6:
        plan.add(Firewall(host.netns, v6, family="ipv6"))
    nft = host_nftables(topo, host.name)
    if nft:
        plan.add(NftRuleset(host.netns, nft))
    if not host.daemon.iptables and any(c.ports for c in topo.containers_on(host.name)):
        plan.notes.append(f"{host.name}: iptables is off: published ports are served by the userland "
                          "proxy alone, as in Docker")
