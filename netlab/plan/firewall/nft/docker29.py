"""What dockerd 29.7 with `"firewall-backend": "nftables"` leaves on a lab's host: the tables
`ip docker-bridges` and `ip6 docker-bridges`, no iptables rule at all (no DOCKER-USER: the
nftables firewaller has none), and the sysctls.

The history is replayed in Docker's order, each step the firewaller call dockerd makes:
daemon start (both tables), each bridge network of the host in file order (docker0 first),
then each container in file order and, for each of its endpoints in join order, the endpoint
(CreateEndpoint), its legacy links (Join, default bridge with icc=false) and its published
ports (ProgramExternalConnectivity: on the IPv4 gateway network, and on every routed one).

Forwarding: with nftables dockerd does not turn `net.ipv4.ip_forward` on, it refuses to
create a network while it is off (unless `ip-forward: false`), leaving it to the host's
administrator. A lab's host is a fresh namespace with forwarding off, so the lab plays that
administrator: with `ip-forward` true (the default) it writes ip_forward=1 itself. Unlike
iptables-mode dockerd, nothing sets a FORWARD drop policy for non-Docker traffic."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from ....model.ports import PROTO_NUMBERS
from ....model.topology import Container, PortBinding, Segment, Topology
from ..iptabler.driver import ANY6, port_bindings
from ..iptabler.netfam import net_fam
from ..iptabler.sysctls import host_sysctls as bridge_sysctls
from ..model import Ruleset
from .model import NftTable
from .nftabler import Binding, FamilyConfig, FirewallConfig, Network, NetworkConfig, Nftabler
from .render import render_tables

ANY = IPv4Address("0.0.0.0")


def host_ruleset(topo: Topology, host: str) -> Ruleset:
    return Ruleset()


def host_nftables(topo: Topology, host: str) -> str:
    return render_tables(host_tables(topo, host))


def host_tables(topo: Topology, host: str) -> tuple[NftTable, ...]:
    h = topo.host(host)
    if not h.daemon.iptables:
        return ()                   # from 29, `iptables: false` turns nftables off too
    fw = Nftabler(FirewallConfig(ipv6=h.daemon.ip6tables, hairpin=not h.daemon.userland_proxy))
    networks = {seg.network: fw.new_network(network_config(seg))
                for seg in topo.segments_on(host) if seg.driver == "bridge"}
    started: list[Container] = []
    for c in topo.containers_on(host):
        _start(topo, networks, c, started)
        started.append(c)
    return fw.tables()


def network_config(seg: Segment) -> NetworkConfig:
    v6 = net_fam(seg, True)
    config6 = None if v6 is None else FamilyConfig(prefix=v6.prefix, host_ip=v6.host_ip, routed=v6.routed,
                                                   unprotected=v6.unprotected)
    return NetworkConfig(ifname=seg.device, internal=seg.internal, icc=seg.icc, masquerade=seg.masquerade,
                         prefix=seg.subnet, host_ip=seg.host_ipv4, routed=seg.gateway_mode == "routed",
                         unprotected=seg.gateway_mode == "nat-unprotected", config6=config6)


def _start(topo: Topology, networks: dict[str, Network], c: Container, started: list[Container]) -> None:
    if c.mode != "bridge":
        return
    for att in c.attachments:
        net = networks.get(att.network)
        if net is None:             # macvlan, overlay: not the bridge driver's
            continue
        seg = topo.segment(att.network, c.host)
        ip6 = att.address6.ip if att.address6 is not None else None
        net.add_endpoint(att.address.ip, ip6)
        if seg.is_default and not seg.icc:
            _links(net, seg, c, started)
        if att.network == c.gateway_network or seg.gateway_mode == "routed":
            for group in port_groups(c, seg, att.address.ip, ip6):
                net.add_ports(group)


def _links(net: Network, seg: Segment, c: Container, started: list[Container]) -> None:
    """Join's link(): from each running parent (a container linking to `c`) to `c`'s exposed
    ports, then from `c` to each running child's. Only endpoints on this bridge count."""
    on_bridge = [o for o in started if o.attachment(seg.network) is not None]
    cip = _address(c, seg)
    for parent in (o for o in on_bridge if any(link.name == c.name for link in o.links)):
        net.add_link(_address(parent, seg), cip, exposed_order(c))
    linked = {link.name for link in c.links}
    for child in (o for o in on_bridge if o.name in linked):
        net.add_link(cip, _address(child, seg), exposed_order(child))


def exposed_order(c: Container) -> tuple[tuple[int, str], ...]:
    """The container's exposed ports in the order dockerd 29 lists them for the driver
    (buildSandboxOptions): a Go map walk, no sort, over the published ports and then the
    exposed-only ones, each added in the API's key order ("53/udp" < "5432/tcp"). A small
    map's walk is that order rotated by a random start; netlab takes it unrotated, as for
    20.10's ports (model/ports.py daemon_order)."""
    def key(p: tuple[int, str]) -> str:
        return f"{p[0]}/{p[1]}"
    published = {(b.container_port, b.proto) for b in c.ports}
    return (*sorted(published, key=key), *sorted(set(c.exposed) - published, key=key))


def _address(c: Container, seg: Segment) -> IPv4Address:
    att = c.attachment(seg.network)
    assert att is not None, f"{c.name} has no endpoint on {seg.network}"
    return att.address.ip


def port_groups(c: Container, seg: Segment, cip: IPv4Address, cip6: IPv6Address | None = None) -> list[list[Binding]]:
    """The container's bindings as the bridge driver hands them to the firewaller: sorted
    (PortBindingReq.Compare), one AddPorts call per run that differs only in host address.
    A routed network's port mapper keeps no host side: host port 0 on 0.0.0.0, so no DNAT.
    With an IPv6 address the container's IPv6 bindings (the iptabler's port_bindings: the
    twin on :: of a binding on every address, or one on an IPv6 address) join them; the
    firewaller splits each call by family."""
    routed = seg.gateway_mode == "routed"
    bindings = [_binding(b, cip, routed) for b in c.ports if b.host_ip.version == 4]
    v6 = net_fam(seg, True)
    if cip6 is not None and v6 is not None:
        bindings += [Binding(b.proto, cip6, b.container_port, ANY6 if v6.routed else b.host_ip,
                             0 if v6.routed else b.host_port) for b in port_bindings(c, False, ipv6=True)]
    bindings.sort(key=_compare_key)
    groups: list[list[Binding]] = []
    for b in bindings:
        if groups and _same_port(groups[-1][-1], b):
            groups[-1].append(b)
        else:
            groups.append([b])
    return groups


def _binding(b: PortBinding, cip: IPv4Address, routed: bool) -> Binding:
    if routed:
        return Binding(b.proto, cip, b.container_port, ANY, 0)
    return Binding(b.proto, cip, b.container_port, b.host_ip, b.host_port)


def _compare_key(b: Binding) -> tuple[bool, int, int, int, int, IPv4Address | IPv6Address, int,
                                       IPv4Address | IPv6Address]:
    # an ephemeral or ranged host port sorts after exact ones; by the time bindings reach
    # the lab file's model their ports are allocated, so only routed ones (port 0) count here
    # netip.Addr.Compare: an IPv4 address before any IPv6 one
    return (b.host_port == 0, b.port, PROTO_NUMBERS[b.proto], b.host_port, b.host_ip.version, b.host_ip,
            b.ip.version, b.ip)


def _same_port(a: Binding, b: Binding) -> bool:
    return (a.port, a.proto, a.host_port) == (b.port, b.proto, b.host_port)


def host_sysctls(topo: Topology, host: str) -> tuple[tuple[str, str], ...]:
    """The host's sysctls, as paths below /proc/sys, in the order they are written: the
    administrator's ip_forward (see the module's docstring), then the bridge driver's."""
    return bridge_sysctls(topo, host, forwarding_first=True)
