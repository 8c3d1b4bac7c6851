"""Endpoints: each container's addresses (static ones reserved before any automatic one, as
dockerd's IPAM sees them), interfaces, default gateway, published ports and links."""
from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Interface

from ... import drivers
from ...drivers import gwbridge
from .. import naming
from ..context import Context, is_addr, portlike
from ..ipam import AddressAllocator
from ..ports import PortSpecError, parse_expose
from ..specs import ContainerSpec, EndpointSpec
from ..topology import Attachment, Container, Host, Link, Segment, Underlay
from .attach6 import Addresses6
from .endpoint_settings import check_duplicate_macs, given_mac, resolved_extra_hosts
from .publish import PortAllocator

Segments = dict[str, dict[str, Segment]]


class Addresses:
    """The endpoint address allocators: one per network and host, or one per network for a
    global-scope network, each with what its driver must never hand out reserved."""

    def __init__(self, ctx: Context, underlay: Underlay, hosts: Mapping[str, Host]) -> None:
        self.ctx, self.underlay, self.hosts = ctx, underlay, hosts
        self.allocators: dict[tuple[str, ...], AddressAllocator] = {}
        self.static: dict[tuple[int, IPv4Address], str] = {}   # (allocator, address) -> who asked
        self.v6 = Addresses6(ctx)

    def of(self, seg: Segment) -> AddressAllocator:
        driver = drivers.DRIVERS[seg.driver]
        key = (seg.network,) if driver.global_scope else (seg.network, seg.host)
        if key not in self.allocators:
            # an isolated network's bridge has no address, and IPAM reserves none for it (28.0)
            gateway = None if seg.gateway_mode == "isolated" else seg.gateway
            self.allocators[key] = AddressAllocator(seg.subnet, seg.ip_range, gateway)
            for a in driver.reserved(self.underlay, list(self.hosts.values())):
                self.allocators[key].reserve(a)
            for name, a in seg.aux_addresses:
                self.allocators[key].reserve(a)
                self.static[(id(self.allocators[key]), a)] = f"aux address {name!r}"
        return self.allocators[key]

    def reserve_static(self, name: str, ep: EndpointSpec, seg: Segment | None) -> None:
        path = f"{ep.path}.ipv4_address"
        a = self.ctx.addr(ep.ipv4_address, path) if seg is not None and ep.address_given else None
        if a is None or seg is None:
            return
        net = ep.network
        if a not in seg.subnet:
            self.ctx.err(path, f"{a} is outside the subnet {seg.subnet} of {net!r}; pick an address inside it")
        elif a in (seg.subnet.network_address, seg.subnet.broadcast_address):
            self.ctx.err(path, f"{a} is the network or broadcast address of "
                               f"the subnet {seg.subnet} of {net!r}; pick another")
        elif not self.of(seg).reserve(a):
            holder = self.static.get((id(self.of(seg)), a), "?")
            what = "the gateway" if a == seg.gateway else \
                holder if holder.startswith("aux address") else f"container {holder!r}"
            self.ctx.err(path, f"{a} is already used by {what} on {net!r}; pick another")
        else:
            self.static[(id(self.of(seg)), a)] = name


def attach(ctx: Context, underlay: Underlay, hosts: Mapping[str, Host], specs: Mapping[str, ContainerSpec],
           segments: Segments) -> list[Container]:
    addresses = Addresses(ctx, underlay, hosts)
    # static addresses are reserved before any automatic one (see README: IPAM)
    for name, s in specs.items():
        for ep in s.endpoints:
            seg = segments.get(s.host or "", {}).get(ep.network) if s.host is not None else None
            addresses.reserve_static(name, ep, seg)
            addresses.v6.reserve_static(name, ep, seg)
    ports = PortAllocator(ctx)
    containers = []
    for s in specs.values():
        if s.host is not None:
            containers.append(_container(ctx, hosts, specs, segments, addresses, ports, s))
    check_duplicate_macs(ctx, specs, containers, segments)
    return containers


def _attachments(ctx: Context, s: ContainerSpec, host: Host, segs: dict[str, Segment],
                 addresses: Addresses) -> list[Attachment]:
    atts: list[Attachment] = []
    for ep in s.endpoints:
        seg = segs.get(ep.network)
        if seg is None:
            continue
        if ep.address_given:
            a = IPv4Address(ep.ipv4_address) if is_addr(ep.ipv4_address) else None
        else:
            a = addresses.of(seg).next()
            if a is None:
                ctx.err(ep.path, f"network {ep.network!r} has no free address left in "
                                 f"{seg.ip_range or seg.subnet} on host {host.name!r}")
        if a is None:
            continue
        prefix = seg.option("com.docker.network.container_iface_prefix", "eth")
        has_gateway = drivers.DRIVERS[seg.driver].has_gateway(seg, host.engine)
        atts.append(addresses.v6.attach(ep, seg, Attachment(
            network=ep.network, ifname=f"{prefix}{len(atts)}",
            address=IPv4Interface(f"{a}/{seg.subnet.prefixlen}"),
            gateway=seg.gateway if has_gateway else None,
            mac=given_mac(ctx, s, ep, host) or naming.endpoint_mac(host.engine.random_mac, ctx.lab, s.name,
                                                                   ep.network, a),
            host_ifname=naming.host_veth(ctx.lab, s.name, ep.network), device=seg.device,
            mtu=seg.mtu, aliases=ep.aliases, driver=seg.driver, address_given=ep.address_given,
            address6_given=ep.address6_given), host, has_gateway))
    gwb = segs.get(naming.GWBRIDGE)
    if gwb is not None and gwbridge.needed(atts, segs):
        a = addresses.of(gwb).next()
        if a is None:
            ctx.err(s.path, f"{naming.GWBRIDGE} has no free address left on host {host.name!r}")
        else:
            atts.append(gwbridge.attachment(ctx.lab, s.name, gwb, a, f"eth{len(atts)}", host.engine.random_mac))
    return atts


def _container(ctx: Context, hosts: Mapping[str, Host], specs: Mapping[str, ContainerSpec],
               segments: Segments, addresses: Addresses, ports: PortAllocator, s: ContainerSpec) -> Container:
    assert s.host is not None
    host = hosts[s.host]
    segs = segments[s.host]
    atts = _attachments(ctx, s, host, segs, addresses)
    gw = gateway_endpoint(atts, segs)
    cid = naming.container_id(ctx.lab, s.name)
    exposed: list[tuple[int, str]] = []
    for i, e in enumerate(s.expose):
        if not portlike(e):
            continue        # the schema reported the type
        try:
            exposed += parse_expose(e)  # type: ignore[arg-type]  # portlike: str or int
        except PortSpecError as err:
            ctx.err(f"{s.path}.expose[{i}]", str(err))
    bindings, exposed = ports.bind(s, host, segs.get(gw) if gw else None, exposed, s.publish_all)
    links = []
    for link in s.links:
        if isinstance(link, str) and link.partition(":")[0] in specs:
            target, _, alias = link.partition(":")
            links.append(Link(target, alias or target))
    return Container(
        name=s.name, host=s.host, mode=s.mode, netns=netns_of(ctx.lab, hosts, specs, s.name),
        id=cid, hostname=hostname_of(ctx.lab, specs, s), attachments=tuple(atts),
        gateway_network=gw, shares=s.shares, ports=tuple(bindings), exposed=tuple(exposed),
        links=tuple(links), command=s.command, domainname=s.settings.domainname,
        extra_hosts=resolved_extra_hosts(s, host, segs), dns=s.settings.dns,
        dns_search=s.settings.dns_search, dns_options=s.settings.dns_options, standin=s.settings.standin,
        compose=s.compose)


def gateway_endpoint(atts: list[Attachment], segs: dict[str, Segment]) -> str | None:
    """libnetwork's (*endpoint).Less: docker_gwbridge last, non-internal first, dual-stack
    before IPv4-only (measured on 20.10, 26.1 and 28.5: the dual-stack network gives both
    default routes whichever name sorts first and whichever was joined first), then by name."""
    ranked = sorted(atts, key=lambda a: (a.network == naming.GWBRIDGE, segs[a.network].internal,
                                         not segs[a.network].ipv6, a.network))
    return next((a.network for a in ranked if a.gateway is not None), None)


def netns_of(lab: str, hosts: Mapping[str, Host], specs: Mapping[str, ContainerSpec], name: str) -> str:
    """The namespace a container's processes run in, following container: references."""
    s = specs[name]
    seen = set()
    while s.mode == "container" and s.shares and name not in seen:
        seen.add(name)
        name = s.shares
        s = specs[name]
    if s.mode == "host":
        return hosts[s.host].netns if s.host else ""
    return naming.netns(lab, name)


def hostname_of(lab: str, specs: Mapping[str, ContainerSpec], s: ContainerSpec) -> str:
    """The name set, else the short container ID; in container:<name> mode the owner's, whose
    UTS namespace it joins (Docker 28.5: Config.Hostname and `hostname` inside both say so)."""
    owner = specs.get(s.shares) if s.mode == "container" and s.shares else None
    if owner is not None and owner is not s:
        return hostname_of(lab, specs, owner)
    return s.hostname if s.hostname is not None else naming.container_id(lab, s.name)[:12]
