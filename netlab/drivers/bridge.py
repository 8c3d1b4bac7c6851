"""The bridge driver: docker0 and user-defined bridges, one veth per endpoint, and the host
rules createNetwork writes (plan/firewall/bridge.py)."""
from __future__ import annotations

from ipaddress import IPv4Network, IPv6Address

from ..engine import Engine
from ..model import naming
from ..model.context import Context, number
from ..model.ipam import first_host
from ..model.parsebool import parse_bool
from ..model.specs import NetworkSpec
from ..model.topology import Attachment, Container, Daemon, Host, Segment, Topology
from ..plan.firewall.bridge import create_bridge_network
from ..plan.firewall.iptables import Iptables
from ..plan.items import Address, Bridge, Sysctl, Veth
from ..plan.plan import Plan
from . import options as o
from .base import BaseDriver, Problem, Segments, make_segment

DEFAULT_MTU = 1500
GATEWAY_MODES = ("nat", "nat-unprotected", "routed", "isolated")
GATEWAY_MODE = "com.docker.network.bridge.gateway_mode_ipv4"
GATEWAY_MODE_IPV6 = "com.docker.network.bridge.gateway_mode_ipv6"
BRIDGE_FE80_1 = "fe80::1/64"       # setupBridgeIPv6's bridgeIPv6Str, before 27


def _address6(ctx: Context, value: str, path: str) -> bool:
    try:
        IPv6Address(value)
    except ValueError:
        ctx.err(path, f"{value!r} is not an IPv6 address")
        return False
    return True


def bridge_mac(topo: Topology, seg: Segment) -> str:
    """dockerd gives its bridges a random 02:42 MAC; ours is derived so reruns keep it."""
    h = naming.digest(topo.name, "bridge-mac", seg.host, seg.network)
    return "02:42:" + ":".join(h[i:i + 2] for i in range(0, 8, 2))


class BridgeDriver(BaseDriver):
    name = "bridge"
    options: tuple[o.Option, ...] = (
        o.Option("com.docker.network.bridge.name", o.bridge_name),
        o.Option("com.docker.network.bridge.enable_icc", o.boolean),
        o.Option("com.docker.network.bridge.enable_ip_masquerade", o.boolean),
        o.Option("com.docker.network.bridge.host_binding_ipv4", o.address),
        o.MTU,
        o.Option("com.docker.network.bridge.inhibit_ipv4", o.boolean),
        o.Option("com.docker.network.host_ipv4", o.address),
        o.Option("com.docker.network.container_iface_prefix", o.iface_prefix),
        # routed came in 27.0 with the option; nat-unprotected and isolated in 28.0
        o.Option(GATEWAY_MODE,
                 o.one_of("gateway mode", GATEWAY_MODES), since="27.0",
                 values_since=(("nat-unprotected", "28.0"), ("isolated", "28.0"))),
        # IPv6's twins (plan/firewall/iptabler/netfam.py reads them): SNAT to this address,
        # and a gateway mode of its own
        o.Option("com.docker.network.host_ipv6", _address6, since="25.0"),
        o.Option(GATEWAY_MODE_IPV6,
                 o.one_of("gateway mode", GATEWAY_MODES), since="27.0",
                 values_since=(("nat-unprotected", "28.0"), ("isolated", "28.0"))),
    )
    publishes_ports = True

    def segment(self, lab: str, net: NetworkSpec, host: Host, subnet: IPv4Network, vni: int) -> Segment:
        mtu = number(net.option("com.docker.network.driver.mtu"))
        device = net.option("com.docker.network.bridge.name") or naming.user_bridge(lab, net.name)
        return make_segment(lab, net, host, subnet, device=device, mtu=DEFAULT_MTU if mtu is None else mtu)

    def has_gateway(self, seg: Segment, engine: Engine) -> bool:
        if seg.gateway_mode == "isolated":
            return False
        return not seg.internal or engine.internal_default_route

    def segment_problems(self, segments: Segments) -> list[Problem]:
        """dockerd refuses an isolated gateway on a network that is not --internal
        (parseNetworkOptions, 28.0): a network with no gateway has no way out to offer."""
        refused = sorted({(s.network, key) for segs in segments.values() for s in segs.values()
                          for key in (GATEWAY_MODE, GATEWAY_MODE_IPV6)
                          if s.driver == self.name and s.option(key) == "isolated" and not s.internal})
        return [(f"networks.{name}.driver_opts.{key}",
                 "gateway mode 'isolated' can only be used for an internal network; add `internal: true`")
                for name, key in refused]

    def plan_segment(self, plan: Plan, topo: Topology, seg: Segment) -> None:
        ns = topo.host(seg.host).netns
        plan.add(Bridge(ns, seg.device, bridge_mac(topo, seg)))
        # an isolated network's bridge gets no address (setupBridgeIPv4): the host is not on it
        if parse_bool(seg.option("com.docker.network.bridge.inhibit_ipv4")) is not True and \
                seg.gateway_mode != "isolated":
            plan.add(Address(ns, seg.device, f"{seg.gateway}/{seg.subnet.prefixlen}"))
        if seg.subnet6 is not None:
            # setupBridgeIPv6: IPv6 on for the bridge, and its gateway address unless the
            # network's IPv6 gateway is isolated
            plan.add(Sysctl(ns, f"net/ipv6/conf/{seg.device}/disable_ipv6", "0"))
            if topo.host(seg.host).engine.bridge_fe80_1:
                plan.add(Address(ns, seg.device, BRIDGE_FE80_1))     # programmed first
            if seg.gateway6 is not None and seg.option(GATEWAY_MODE_IPV6) != "isolated":
                plan.add(Address(ns, seg.device, f"{seg.gateway6}/{seg.subnet6.prefixlen}"))

    def plan_endpoint(self, plan: Plan, topo: Topology, c: Container, att: Attachment, hairpin: bool) -> None:
        host_ns = topo.host(c.host).netns
        plan.add(Veth(netns=host_ns, name=att.host_ifname, peer_netns=c.netns, peer_name=att.ifname,
                      mtu=att.mtu, master=att.device,
                      peer_mac=att.mac, hairpin=hairpin))
        plan.add(Address(c.netns, att.ifname, str(att.address)))
        if att.address6 is not None:
            plan.add(Address(c.netns, att.ifname, str(att.address6)))

    def network_rules(self, ipt: Iptables, seg: Segment, daemon: Daemon) -> None:
        create_bridge_network(ipt, seg, daemon)


DRIVER = BridgeDriver()


def default_segment(lab: str, host: Host, subnet: IPv4Network) -> Segment:
    """docker0, the default bridge network, as the host's daemon.json shapes it."""
    d = host.daemon
    return Segment(
        network="bridge", host=host.name, driver="bridge", subnet=subnet,
        gateway=d.bip.ip if d.bip else first_host(subnet), ip_range=d.fixed_cidr, device="docker0",
        internal=False, icc=d.icc, masquerade=d.ip_masq, mtu=d.mtu, host_binding_ipv4=d.ip,
        is_default=True, network_id=naming.network_id(lab, "bridge"))
