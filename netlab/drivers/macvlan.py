"""The macvlan driver (20.10 drivers/macvlan, §6.1): per container a macvlan on the
parent, made in the host namespace and moved into the container as ethN (with its IPv6
address too on a network with IPv6, the IPv6 gateway from IPAM); an 802.1q link
when the parent is `<if>.<vid>`; no host rules. With `shim: "true"`, the host-side macvlan
and route people add by hand so the host reaches its own macvlan containers.

What dockerd's driver refuses is checked on the file here too: parent interfaces, one
network per parent, one container per passthru parent."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from ..engine import Engine
from ..model import naming
from ..model.context import number
from ..model.parsebool import parse_bool
from ..model.specs import NetworkSpec
from ..model.topology import Attachment, Container, Host, Segment, Topology, Underlay
from ..plan.items import Address, Macvlan, Route, Vlan
from ..plan.plan import Plan
from . import options as o
from .base import BaseDriver, Problem, Segments, make_segment

MODES = ("bridge", "vepa", "private", "passthru")
DEFAULT_MTU = 1500


def split_parent(parent: str) -> tuple[str, int | None] | None:
    """`eth0` -> (eth0, None); `eth0.10` -> (eth0, 10): Docker makes that an 802.1q link.
    None when the part after the dot is not a VLAN id."""
    base, dot, vid = parent.rpartition(".")
    if not dot:
        return parent, None
    if not (vid.isascii() and vid.isdigit() and 1 <= int(vid) <= 4094) or not base:
        return None
    return base, int(vid)


def wants_shim(seg: Segment) -> bool:
    return parse_bool(seg.option("shim")) is True


class MacvlanDriver(BaseDriver):
    name = "macvlan"
    options: tuple[o.Option, ...] = (
        o.Option("parent", o.interface("parent interface")),
        o.Option("macvlan_mode", o.one_of("macvlan mode", MODES)),
        o.Option("shim", o.boolean),
        o.MTU,
    )
    # a macvlan network on the underlay's own subnet is the usual way to put containers on
    # the LAN behind their parent
    on_underlay = True

    def segment(self, lab: str, net: NetworkSpec, host: Host, subnet: IPv4Network, vni: int) -> Segment:
        mtu = number(net.option("com.docker.network.driver.mtu"))
        return make_segment(lab, net, host, subnet, device=net.option("parent", "eth0"),
                            mtu=DEFAULT_MTU if mtu is None else mtu,
                            macvlan_mode=net.option("macvlan_mode", "bridge"))

    def has_gateway(self, seg: Segment, engine: Engine) -> bool:
        return not seg.internal

    def reserved(self, underlay: Underlay, hosts: list[Host]) -> list[IPv4Address]:
        """Addresses a macvlan network on the underlay must never hand out: they are the hosts'
        and the router's already (Docker's IPAM cannot know; a lab refuses to break that way)."""
        return [underlay.gateway] + [h.address for h in hosts]

    def segment_problems(self, segments: Segments) -> list[Problem]:
        out: list[Problem] = []
        for host, segs in segments.items():
            present = {"eth0"} | {s.device for s in segs.values() if s.driver == "bridge"}
            users: dict[str, str] = {}
            for s in segs.values():
                if s.driver == self.name:
                    problem = _parent_problem(s, host, present, users)
                    if problem is not None:
                        out.append(problem)
                    else:
                        users[s.device] = s.network
        return out

    def endpoint_problems(self, containers: list[Container], segments: Segments,
                          paths: dict[tuple[str, str], str]) -> list[Problem]:
        out: list[Problem] = []
        holder: dict[tuple[str, str], str] = {}          # passthru (host, network) -> container
        given: dict[tuple[str, str, IPv4Address], tuple[str, str]] = {}   # (network, parent, ip) -> (c, host)
        for c in containers:
            for a in c.attachments:
                seg = segments[c.host][a.network]
                if seg.driver != self.name:
                    continue
                path = paths.get((c.name, a.network), f"containers.{c.name}")
                if seg.macvlan_mode == "passthru":
                    first = holder.setdefault((c.host, a.network), c.name)
                    if first != c.name:
                        out.append((path, f"network {a.network!r} is in passthru mode, which gives parent "
                                          f"{seg.device} to one container, and {first!r} has it on host "
                                          f"{c.host!r} (Docker: failed to create the macvlan port: invalid argument)"))
                other = given.setdefault((a.network, seg.device, a.address.ip), (c.name, c.host))
                if other[1] != c.host:
                    out.append((path, f"{a.address.ip} is also {other[0]!r}'s on host {other[1]!r}: macvlan "
                                      "addresses are managed per host, as in Docker, but the hosts share the "
                                      f"underlay behind {seg.device}; give each host its own network with a "
                                      "distinct ip_range, or set ipv4_address"))
        return out

    def plan_segment(self, plan: Plan, topo: Topology, seg: Segment) -> None:
        ns = topo.host(seg.host).netns
        base, vid = split_parent(seg.device) or (seg.device, None)
        if vid is not None:
            plan.add(Vlan(ns, seg.device, base, vid))
        if wants_shim(seg):
            _plan_shim(plan, topo, seg)

    def plan_endpoint(self, plan: Plan, topo: Topology, c: Container, att: Attachment, hairpin: bool) -> None:
        seg = topo.segment(att.network, c.host)
        plan.add(Macvlan(netns=c.netns, name=att.ifname, parent_netns=topo.host(c.host).netns,
                         parent=seg.device, mode=seg.macvlan_mode,
                         mac=att.mac, mtu=att.mtu))
        plan.add(Address(c.netns, att.ifname, str(att.address)))
        if att.address6 is not None:
            # the endpoint's IPv6 address from IPAM; Join sets the IPv6 gateway from the
            # network's IPv6 subnet unless internal (modes.py routes ::/0 through it)
            plan.add(Address(c.netns, att.ifname, str(att.address6)))

    def nic_mac(self, topo: Topology, host: Host) -> str | None:
        """A passthru macvlan takes its parent over: Docker sets the container's MAC on it, which
        the kernel writes through to the parent. When that parent is eth0, eth0 wears it."""
        for c in topo.containers_on(host.name):
            for a in c.attachments:
                seg = topo.segment(a.network, host.name)
                if seg.driver == self.name and seg.macvlan_mode == "passthru" and seg.device == "eth0":
                    return a.mac
        return None


def _parent_problem(s: Segment, host: str, present: set[str], users: dict[str, str]) -> Problem | None:
    path = f"networks.{s.network}.driver_opts.parent" if s.option("parent") else f"networks.{s.network}"
    parts = split_parent(s.device)
    if parts is None:
        return path, f"invalid subinterface vlan name {s.device}, example formatting is eth0.10"
    if parts[0] == "lo":
        return path, "loopback interface is not a valid macvlan parent link"
    if parts[0] not in present:
        return path, (f"parent interface {parts[0]!r} does not exist on host {host!r}: a lab "
                      f"host has eth0 (its underlay NIC) and its bridges ({', '.join(sorted(present))}); "
                      f"Docker says: -o parent interface does was not found on the host: {parts[0]}")
    if s.macvlan_mode == "passthru" and wants_shim(s):
        return (f"networks.{s.network}.driver_opts.shim", "a shim is a second macvlan on "
                f"{s.device}, and passthru mode allows only one")
    if s.device in users:
        return path, (f"network {users[s.device]} is already using parent interface {s.device} "
                      f"on host {host!r} (Docker allows one macvlan network per parent)")
    return None


def _plan_shim(plan: Plan, topo: Topology, seg: Segment) -> None:
    ns = topo.host(seg.host).netns
    address = shim_addresses(topo).get((seg.network, seg.host))
    if address is None:
        plan.notes.append(f"{seg.host}: no free address in {seg.subnet} for the shim of {seg.network}")
        return
    if seg.macvlan_mode != "bridge":
        plan.notes.append(f"{seg.host}: the shim of {seg.network} is a bridge-mode macvlan, and only "
                          f"bridge-mode macvlans talk to each other: with {seg.macvlan_mode} mode the "
                          "host still cannot reach its containers")
    name = naming.macvlan_shim(topo.name, seg.host, seg.network)
    plan.add(Macvlan(netns=ns, name=name, parent_netns=ns, parent=seg.device, mode="bridge", mtu=seg.mtu))
    plan.add(Address(ns, name, f"{address}/32"))
    for dst in shim_routes(topo, seg):
        plan.add(Route(ns, dst, None, name))


def shim_routes(topo: Topology, seg: Segment) -> list[str]:
    """The ip_range, as people route it; without one a /32 per local container, since the
    whole subnet may be the underlay's and its route must stay on eth0."""
    if seg.ip_range is not None and seg.ip_range != topo.underlay.subnet:
        return [str(seg.ip_range)]
    return [f"{a.address.ip}/32" for c in topo.containers_on(seg.host)
            for a in c.attachments if a.network == seg.network]


def shim_addresses(topo: Topology) -> dict[tuple[str, str], IPv4Address]:
    """(network, host) -> the shim's address: the highest one of the subnet that nothing
    else in the lab holds, outside the ip_range (so IPAM never hands it out), hosts in order."""
    used = {topo.underlay.gateway, *(h.address for h in topo.hosts)}
    used |= {a.address.ip for c in topo.containers for a in c.attachments}
    used |= {s.gateway for s in topo.segments}
    out: dict[tuple[str, str], IPv4Address] = {}
    for seg in topo.segments:
        if seg.driver != "macvlan" or not wants_shim(seg):
            continue
        for value in range(int(seg.subnet.broadcast_address) - 1, int(seg.subnet.network_address), -1):
            a = IPv4Address(value)
            if a not in used and not (seg.ip_range and a in seg.ip_range):
                out[(seg.network, seg.host)] = a
                used.add(a)
                break
    return out


DRIVER = MacvlanDriver()
