"""What dockerd 20.10 leaves in a host's netfilter tables and sysctls, for a lab's host.

The history is replayed in Docker's order: daemon start (with docker0), each network of the
host in file order, each container started in file order. The result is the final state of
the tables after those commands, so its order is Docker's without being written by hand."""
from __future__ import annotations

from ... import drivers
from ...model.topology import Container, Topology
from .daemon import arrange_user_filter_rule, configure_bridge_driver
from .endpoint import program_external_connectivity
from .iptables import Iptables
from .model import Ruleset


def host_ruleset(topo: Topology, host: str) -> Ruleset:
    daemon = topo.host(host).daemon
    if not daemon.iptables:
        return Ruleset()            # dockerd touches no table at all, not even FORWARD's policy
    ipt = Iptables()
    configure_bridge_driver(ipt, daemon)
    for seg in topo.segments_on(host):
        # each driver writes its own rules at network creation (Driver.network_rules): macvlan
        # none, overlay none for itself (its docker_gwbridge is a bridge network)
        drivers.DRIVERS[seg.driver].network_rules(ipt, seg, daemon)
        arrange_user_filter_rule(ipt)
    started: list[Container] = []
    for c in topo.containers_on(host):
        _start(ipt, topo, c, started)
        started.append(c)
    return ipt.ruleset()


def _start(ipt: Iptables, topo: Topology, c: Container, started: list[Container]) -> None:
    if c.mode != "bridge" or c.gateway_network is None:
        return
    seg = topo.segment(c.gateway_network, c.host)
    if seg.driver != "bridge" or seg.internal:
        return
    parents: list[Container] = []
    children: list[Container] = []
    if seg.is_default:      # legacy links exist on the default bridge only
        on_bridge = [o for o in started if o.gateway_network == seg.network]
        parents = [o for o in on_bridge if any(link.name == c.name for link in o.links)]
        linked = {link.name for link in c.links}
        children = [o for o in on_bridge if o.name in linked]
    hairpin = not topo.host(c.host).daemon.userland_proxy
    program_external_connectivity(ipt, seg, c, hairpin, parents, children)


def host_sysctls(topo: Topology, host: str) -> tuple[tuple[str, str], ...]:
    """The sysctls dockerd writes in the host namespace, in the order it writes them, as
    paths below /proc/sys."""
    daemon = topo.host(host).daemon
    out: list[tuple[str, str]] = []
    if daemon.ip_forward:
        out.append(("net/ipv4/ip_forward", "1"))
    for seg in topo.segments_on(host):
        if seg.driver != "bridge":
            continue
        # setupDefaultSysctl: no router advertisements are accepted on a Docker bridge
        out.append((f"net/ipv6/conf/{seg.device}/accept_ra", "0"))
        if seg.ipv6 and daemon.ip_forward:
            # setupIPv6Forwarding, for a network with IPv6: default, then all (measured on
            # 20.10.24 and 26.1.5), whether or not any rule is written for IPv6
            out += (("net/ipv6/conf/default/forwarding", "1"), ("net/ipv6/conf/all/forwarding", "1"))
        if not daemon.userland_proxy:
            # lets the host's connections to 127.0.0.1:<port> be DNATed out of the bridge
            out.append((f"net/ipv4/conf/{seg.device}/route_localnet", "1"))
        if not seg.icc and daemon.iptables and daemon.ip_forward:
            # icc=false relies on FORWARD seeing bridged traffic (setupBridgeNetFiltering)
            out.append(("net/bridge/bridge-nf-call-iptables", "1"))
    return tuple(dict.fromkeys(out))


def hairpin_ports(topo: Topology, host: str) -> bool:
    """Whether dockerd sets hairpin_mode=1 on each bridge port: only without the proxy,
    where a container reaching its own published port must get the packet back."""
    return not topo.host(host).daemon.userland_proxy
