"""The order in which dockerd 28/29 has its iptabler write a host's rules, replayed: daemon
start (NewIptabler, then the controller's DOCKER-USER), each bridge network of the host in
file order (docker0 first), then each container in file order and, for each of its endpoints
in join order: the endpoint (CreateEndpoint), its legacy links and its published ports.

Only the bridge driver writes rules: moby's macvlan driver has no iptables code, the overlay
driver only for encrypted networks (which netlab does not build), and docker_gwbridge is a
bridge network of its own."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from ....model.ports import PROTO_NUMBERS
from ....model.topology import Attachment, Container, PortBinding, Segment, Topology
from ..model import Ruleset
from .endpoint import add_endpoint, add_link, add_ports
from .flavor import Family, Flavor
from .iptabler import Iptabler
from .netfam import net_fam
from .network import new_network

ANY = IPv4Address("0.0.0.0")
ANY6 = IPv6Address("::")


def replay(topo: Topology, host: str, flavor: Flavor, family: Family) -> Ruleset:
    daemon = topo.host(host).daemon
    if not (daemon.ip6tables if family.ipv6 else daemon.iptables):
        return Ruleset()            # dockerd touches no table of that family, not even FORWARD's policy
    fw = Iptabler(flavor=flavor, family=family, hairpin=not daemon.userland_proxy)
    fw.setup_ip_chains()
    fw.setup_user_chain()
    for seg in topo.segments_on(host):
        if seg.driver == "bridge":
            # setupIPv4Forwarding for every network, setupIPv6Forwarding for one with IPv6
            if daemon.ip_forward and net_fam(seg, family.ipv6) is not None:
                fw.filter_forward_drop()
            new_network(fw, seg)
    started: list[Container] = []
    for c in topo.containers_on(host):
        _start(fw, topo, c, started)
        started.append(c)
    return fw.ipt.ruleset()


def _start(fw: Iptabler, topo: Topology, c: Container, started: list[Container]) -> None:
    """Each endpoint as sbJoin meets it. 28 programs ports (and links) on the gateway endpoint
    only; when a later endpoint takes the gateway over, the earlier one's port rules are
    revoked, so what stays is the final gateway's, written when it joined. 29 adds links at
    Join and opens a routed network's ports on every endpoint, gateway or not."""
    if c.mode != "bridge":
        return
    for att in c.attachments:
        seg = topo.segment(att.network, c.host)
        if seg.driver != "bridge":
            continue
        cip = _own_address(att, fw.family.ipv6)
        add_endpoint(fw, seg, cip)
        links = seg.is_default and not seg.icc     # legacy links exist on the default bridge only
        if links and fw.flavor.links_at_join:
            _links(fw, seg, c, started)
        gateway = att.network == c.gateway_network
        # 29 opens ports on every endpoint of a network routed in IPv4 (the port mapper's
        # NAT-disabled check is per family, the choice of endpoints is not)
        routed = seg.gateway_mode == "routed"
        nf = net_fam(seg, fw.family.ipv6)
        if cip is not None and nf is not None and (gateway or (routed and fw.flavor.routed_ports_everywhere)):
            add_ports(fw, seg, cip, port_bindings(c, nf.routed, ipv6=fw.family.ipv6))
        if gateway and links and not fw.flavor.links_at_join:
            _links(fw, seg, c, started)


def port_bindings(c: Container, routed: bool, *, ipv6: bool = False) -> list[PortBinding]:
    """The container's bindings of one family as the bridge driver hands them to the
    iptabler: sorted by cmpPortBinding (28) / PortBindingReq.Compare (29): container port,
    protocol, host port, host address. A routed network's port mapper keeps no host side
    ("Host port ignored, because NAT is disabled"): host port 0 on 0.0.0.0 (::), so no DNAT
    and no loopback DROP. An ephemeral binding would sort after exact ones; by the time the
    model has them their ports are allocated, so they sort among them.

    IPv6 (configurePortBindingIPv6): a binding on every address (no host address given, the
    default 0.0.0.0) has its twin on :: with the same host port; one on an IPv6 address is
    IPv6's alone; one on an explicit 0.0.0.0 is IPv4's alone."""
    bindings = [b for b in c.ports if b.host_ip.version == (6 if ipv6 else 4) or (ipv6 and _twinned(b))]
    any_ip = ANY6 if ipv6 else ANY
    if routed:
        bindings = [PortBinding(any_ip, 0, b.container_port, b.proto) for b in bindings]
    elif ipv6:
        bindings = [PortBinding(ANY6, b.host_port, b.container_port, b.proto) if _twinned(b) else b
                    for b in bindings]
    return sorted(bindings, key=lambda b: (b.container_port, PROTO_NUMBERS[b.proto], b.host_port, b.host_ip))


def _twinned(b: PortBinding) -> bool:
    return b.host_ip == ANY and not b.explicit_ip


def _links(fw: Iptabler, seg: Segment, c: Container, started: list[Container]) -> None:
    """link(): from each running parent (a container linking to `c`) to `c`'s exposed ports,
    then from `c` to each running child's. The daemon names the peers' default-bridge
    endpoints; a child counts once its endpoint carries its exposed ports: from its Join in
    29, from its ProgramExternalConnectivity (so only as its gateway) in 28."""
    peers = [o for o in started if o.attachment(seg.network) is not None]
    cip = _address(c, seg)
    for parent in (o for o in peers if any(link.name == c.name for link in o.links)):
        add_link(fw, seg, _address(parent, seg), cip, fw.flavor.exposed(c))
    linked = {link.name for link in c.links}
    for child in (o for o in peers if o.name in linked):
        if fw.flavor.links_at_join or child.gateway_network == seg.network:
            add_link(fw, seg, cip, _address(child, seg), fw.flavor.exposed(child))


def _own_address(att: Attachment, ipv6: bool) -> IPv4Address | IPv6Address | None:
    """The endpoint's address of the iptabler's family; None: it has no IPv6 address."""
    if not ipv6:
        return att.address.ip
    return att.address6.ip if att.address6 is not None else None


def _address(c: Container, seg: Segment) -> IPv4Address:
    att = c.attachment(seg.network)
    assert att is not None, f"{c.name} has no endpoint on {seg.network}"
    return att.address.ip
