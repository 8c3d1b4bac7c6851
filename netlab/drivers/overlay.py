"""The overlay driver (VXLAN), as swarm mode builds an attachable overlay network (§7).

Per network and host, once a local container joins: a sandbox namespace holding br0 (the
subnet's gateway address) and vxlan0, one veth per local container into br0, and for every
container of the network on another host a permanent neighbour and FDB entry on vxlan0 -
what NetworkDB's gossip programs, here read from the file. MTU: the engine's default, or the
mtu option less the VXLAN header.

IPv6 (a network with enable_ipv6): containers get their IPv6 addresses, and IPv6 works
between containers on one host (one br0). Across hosts it does not, as in Docker (moby#47125,
open through 29.x): the overlay driver's peer records (PeerRecord.EndpointIP, peerAdd at Join)
carry the endpoint's IPv4 address only, so no remote IPv6 neighbour entry is ever programmed,
and vxlan0 in proxy mode answers (or drops) neighbour solicitations from those entries alone."""
from __future__ import annotations

from ipaddress import IPv4Network

from ..engine import Engine
from ..model import naming
from ..model.context import number
from ..model.specs import NetworkSpec
from ..model.topology import Attachment, Container, Host, Segment, Topology
from ..plan.items import Address, Bridge, Fdb, Neighbour, Netns, Veth, Vxlan
from ..plan.plan import Plan
from . import options as o
from .base import BaseDriver, make_segment
from .bridge import bridge_mac

BRIDGE = "br0"
VXLAN = "vxlan0"
VXLAN_OVERHEAD = 50         # what the mtu option loses to the outer headers


def sandbox(topo: Topology, seg: Segment) -> str:
    return naming.overlay_sandbox(topo.name, seg.host, seg.vni)


def endpoints(topo: Topology, network: str) -> list[tuple[Container, Attachment]]:
    return [(c, a) for c in topo.containers if c.mode == "bridge"
            for a in c.attachments if a.network == network]


class OverlayDriver(BaseDriver):
    name = "overlay"
    options: tuple[o.Option, ...] = (o.MTU, o.Option("com.docker.network.driver.overlay.vxlanid_list", o.any_text))
    global_scope = True
    publishes_ports = True

    def segment(self, lab: str, net: NetworkSpec, host: Host, subnet: IPv4Network, vni: int) -> Segment:
        mtu = number(net.option("com.docker.network.driver.mtu"))
        return make_segment(lab, net, host, subnet, device=BRIDGE, vni=vni,
                            mtu=host.engine.overlay_mtu if mtu is None else mtu - VXLAN_OVERHEAD)

    def has_gateway(self, seg: Segment, engine: Engine) -> bool:
        return False        # the way out is docker_gwbridge's endpoint (gwbridge.py)

    def plan_segment(self, plan: Plan, topo: Topology, seg: Segment) -> None:
        everyone = endpoints(topo, seg.network)
        if not any(c.host == seg.host for c, _ in everyone):
            return      # Docker makes the sandbox lazily, when the first local container joins
        ns = sandbox(topo, seg)
        host = topo.host(seg.host)
        plan.add(Netns(ns, "overlay"))
        plan.add(Bridge(ns, BRIDGE, bridge_mac(topo, seg), mtu=seg.mtu))
        plan.add(Address(ns, BRIDGE, f"{seg.gateway}/{seg.subnet.prefixlen}"))
        plan.add(Vxlan(netns=ns, name=VXLAN, vni=seg.vni, local=str(host.address), port=naming.VXLAN_PORT,
                       host_netns=host.netns, mtu=seg.mtu,
                       master=BRIDGE))
        for c, att in everyone:
            if c.host == seg.host:
                continue    # local peers are reached through br0; Docker adds no entry for them
            plan.add(Neighbour(ns, VXLAN, str(att.address.ip), att.mac))
            plan.add(Fdb(ns, VXLAN, att.mac, str(topo.host(c.host).address)))

    def plan_endpoint(self, plan: Plan, topo: Topology, c: Container, att: Attachment, hairpin: bool) -> None:
        ns = sandbox(topo, topo.segment(att.network, c.host))
        plan.add(Veth(netns=ns, name=att.host_ifname, peer_netns=c.netns, peer_name=att.ifname, mtu=att.mtu,
                      master=BRIDGE, peer_mac=att.mac))
        plan.add(Address(c.netns, att.ifname, str(att.address)))
        if att.address6 is not None:
            # the sandbox gives the endpoint its IPv6 address from IPAM; the driver itself
            # stays IPv4: no IPv6 on br0, no IPv6 gateway, no IPv6 peer entries (below)
            plan.add(Address(c.netns, att.ifname, str(att.address6)))


DRIVER = OverlayDriver()
