"""The sysctls dockerd 28/29 writes in the host namespace, in the order it writes them, as
paths below /proc/sys: the bridge driver's createNetwork steps, per bridge network. The
nftables program shares them; only where ip_forward comes from differs."""
from __future__ import annotations

from ....model.topology import Topology

IPV6_FORWARDING = (("net/ipv6/conf/default/forwarding", "1"), ("net/ipv6/conf/all/forwarding", "1"))


def host_sysctls(topo: Topology, host: str, forwarding_first: bool = False) -> tuple[tuple[str, str], ...]:
    """`forwarding_first`: ip_forward is already on before any network (the nftables
    backend leaves it to the host's administrator, whom the lab plays)."""
    daemon = topo.host(host).daemon
    bridges = [seg for seg in topo.segments_on(host) if seg.driver == "bridge"]
    out: list[tuple[str, str]] = []
    if forwarding_first and daemon.ip_forward:
        out.append(("net/ipv4/ip_forward", "1"))
        if any(seg.ipv6 for seg in bridges):
            # checkIPv6Forwarding wants both before an IPv6 network is made
            out += IPV6_FORWARDING
    for seg in bridges:
        # setupDefaultSysctl: no router advertisements are accepted on a Docker bridge
        out.append((f"net/ipv6/conf/{seg.device}/accept_ra", "0"))
        if daemon.ip_forward and not forwarding_first:
            # setupIPv4Forwarding, from the first network on (not at daemon start as in 20.10)
            out.append(("net/ipv4/ip_forward", "1"))
            if seg.ipv6:
                out += IPV6_FORWARDING      # setupIPv6Forwarding, for a network with IPv6
        if not daemon.userland_proxy:
            # setupLoopbackAddressesRouting: the host's 127.0.0.1:<port> DNATed out of the bridge
            out.append((f"net/ipv4/conf/{seg.device}/route_localnet", "1"))
        if (not seg.icc or not daemon.userland_proxy) and daemon.iptables and daemon.ip_forward:
            # from 28.0 br_netfilter serves the proxy-less DNAT too (bridged traffic must see
            # the nat table); it is set only while forwarding is on. Its ip6tables twin only
            # for a network with IPv6 (its bridge forwards IPv6 once all.forwarding is on)
            out.append(("net/bridge/bridge-nf-call-iptables", "1"))
        if (not seg.icc or not daemon.userland_proxy) and daemon.ip6tables and daemon.ip_forward and seg.ipv6:
            out.append(("net/bridge/bridge-nf-call-ip6tables", "1"))   # setupIPv6BridgeNetFiltering
    return tuple(dict.fromkeys(out))
