"""`netlab inspect`: the lab described in the JSON shapes of `docker network inspect` and
`docker container inspect` (the Networks, IPAM, Containers and NetworkSettings parts)."""
from __future__ import annotations

from ..engine import Engine
from ..errors import LabError
from ..plan.dns import endpoint_names
from . import naming
from .published import host_bindings
from .topology import Attachment, Container, Segment, Topology


def _endpoint_id(topo: Topology, c: Container, network: str) -> str:
    return naming.digest(topo.name, "endpoint", c.name, network)


def network(topo: Topology, seg: Segment) -> dict:
    # IPAM keeps what was asked: a subnet given without a gateway shows none
    config: dict = {"Subnet": str(seg.subnet)} | ({"Gateway": str(seg.gateway)} if seg.gateway_shown else {})
    if seg.ip_range:
        config["IPRange"] = str(seg.ip_range)
    if seg.aux_addresses:
        config["AuxiliaryAddresses"] = {name: str(a) for name, a in seg.aux_addresses}
    configs = [config]
    if seg.subnet6 is not None:
        config6: dict = {"Subnet": str(seg.subnet6)} | (
            {"Gateway": str(seg.gateway6 or "")} if seg.gateway6_shown else {})
        if seg.ip_range6:
            config6["IPRange"] = str(seg.ip_range6)
        if seg.aux_addresses6:
            config6["AuxiliaryAddresses"] = {name: str(a) for name, a in seg.aux_addresses6}
        configs.append(config6)
    members = {}
    for c in topo.containers_on(seg.host):
        att = c.attachment(seg.network)
        if att is not None:
            members[c.id] = {"Name": c.name, "EndpointID": _endpoint_id(topo, c, seg.network),
                             "MacAddress": att.mac, "IPv4Address": str(att.address),
                             "IPv6Address": str(att.address6 or "")}
    options = dict(seg.options)
    if seg.is_default:
        options = {"com.docker.network.bridge.default_bridge": "true",
                   "com.docker.network.bridge.enable_icc": str(seg.icc).lower(),
                   "com.docker.network.bridge.enable_ip_masquerade": str(seg.masquerade).lower(),
                   "com.docker.network.bridge.host_binding_ipv4": str(seg.host_binding_ipv4),
                   "com.docker.network.bridge.name": "docker0",
                   "com.docker.network.driver.mtu": str(seg.mtu)}
    return {
        "Name": seg.network, "Id": seg.network_id, "Scope": "swarm" if seg.driver == "overlay" else "local",
        "Driver": seg.driver, "EnableIPv6": seg.ipv6,
        "IPAM": {"Driver": "default", "Options": None if seg.is_default else {}, "Config": configs},
        "Internal": seg.internal, "Attachable": seg.attachable, "Ingress": False,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
        "Containers": members, "Options": options, "Labels": {},
        "netlab": {"host": seg.host, "device": seg.device, "netns": topo.host(seg.host).netns},
    }


def container(topo: Topology, c: Container) -> dict:
    exposed = _exposed(c)
    # the gateway endpoint's bridge driver reports the port map: a container on internal
    # networks only, or whose default route is a macvlan's, shows none (record 03-macvlan)
    gateway = topo.segment(c.gateway_network, c.host) if c.gateway_network else None
    ports: dict = {k if "/" in k else f"{k}/tcp": None for k in exposed} \
        if gateway is not None and gateway.driver == "bridge" else {}
    # as the port mapper bound them: a binding on every address shows its IPv6 twin on ::
    for b in (hb.binding for hb in host_bindings(topo, c)):
        ports.setdefault(f"{b.container_port}/{b.proto}", None)
        ports[f"{b.container_port}/{b.proto}"] = (ports[f"{b.container_port}/{b.proto}"] or []) + [
            {"HostIp": str(b.host_ip), "HostPort": str(b.host_port)}]
    nets = {}
    engine = topo.host(c.host).engine
    for att in c.attachments:
        seg = topo.segment(att.network, c.host)
        nets[att.network] = {
            "IPAMConfig": _ipam_config(att), "Links": [f"{lk.name}:{lk.alias}" for lk in c.links] or None,
            **_names(engine, c, att, seg.is_default),
            "NetworkID": seg.network_id, "EndpointID": _endpoint_id(topo, c, att.network),
            "Gateway": str(att.gateway or ""), "IPAddress": str(att.address.ip),
            "IPPrefixLen": att.address.network.prefixlen, "IPv6Gateway": str(att.gateway6 or ""),
            "GlobalIPv6Address": str(att.address6.ip) if att.address6 else "",
            "GlobalIPv6PrefixLen": att.address6.network.prefixlen if att.address6 else 0, "MacAddress": att.mac,
            "DriverOpts": None, "netlab": {"ifname": att.ifname, "host_ifname": att.host_ifname,
                                           "device": att.device}}
    if c.mode in ("host", "none"):
        # the endpoint on the predefined network of that name, with nothing in it
        nets[c.mode] = {"IPAMConfig": None, "Links": None, "Aliases": None,
                        **({"DNSNames": None} if engine.knows("25.0") else {}),
                        "NetworkID": naming.digest(topo.name, "network", c.mode), "EndpointID": "",
                        "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                        "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "", "DriverOpts": None}
    default = next((a for a in c.attachments if a.network == "bridge"), None)
    return {
        "Id": c.id, "Name": f"/{c.name}",
        "Config": {"Hostname": c.hostname, "Domainname": c.domainname,
                   "ExposedPorts": {k: {} for k in exposed} or None,
                   "Cmd": ["sh", "-c", c.command] if c.command else None, "Labels": _labels(c)},
        # Compose puts links on each endpoint, docker run in HostConfig
        "HostConfig": {"NetworkMode": _network_mode(topo, c),
                       "Links": [f"/{lk.name}:/{c.name}/{lk.alias}" for lk in c.links] or None
                       if c.compose is None else None,
                       "PortBindings": _port_bindings(c), "Dns": list(c.dns), "DnsSearch": list(c.dns_search),
                       "DnsOptions": list(c.dns_options),
                       "ExtraHosts": [f"{name}:{a}" for name, a in c.extra_hosts] or None},
        "NetworkSettings": {
            "Bridge": "", "SandboxID": naming.digest(topo.name, "sandbox", c.netns),
            "SandboxKey": f"/run/netns/{c.netns}" if c.mode != "host" else "",
            "Ports": ports if c.mode not in ("host", "container") else {},
            "Gateway": str(default.gateway) if default else "",
            "IPAddress": str(default.address.ip) if default else "",
            "IPPrefixLen": default.address.network.prefixlen if default else 0,
            "MacAddress": default.mac if default else "",
            # the default bridge's endpoint, as the legacy top-level fields show it
            "GlobalIPv6Address": str(default.address6.ip) if default and default.address6 else "",
            "GlobalIPv6PrefixLen": default.address6.network.prefixlen if default and default.address6 else 0,
            "IPv6Gateway": str(default.gateway6 or "") if default else "",
            "Networks": nets if c.mode != "container" else {},
        },
        "netlab": {"host": c.host, "netns": c.netns},
    }


def _names(engine: Engine, c: Container, att: Attachment, default_bridge: bool) -> dict:
    """Aliases, and from 25.0 DNSNames: up to 24.0 the short ID heads the aliases; 25.0 moved
    it, with the name and the hostname, to DNSNames (every name the embedded DNS answers for
    the endpoint), Aliases keeping only those asked for. The default bridge has neither."""
    if not engine.knows("25.0"):
        return {"Aliases": None if default_bridge else [c.short_id, *att.aliases]}
    if default_bridge:
        return {"Aliases": None, "DNSNames": None}
    return {"Aliases": list(att.aliases) or None, "DNSNames": list(dict.fromkeys(endpoint_names(c, att.network)))}


def _network_mode(topo: Topology, c: Container) -> str:
    """The network the container was created on: the first joined, or Compose's primary one
    (Compose gives every network in that one call); container:<id> as Compose names it."""
    if c.mode == "container":
        owner = topo.find_container(c.shares or "")
        return f"container:{owner.id if c.compose is not None and owner else c.shares}"
    if c.mode == "bridge" and c.compose is not None and c.compose.primary:
        return c.compose.primary
    if c.mode == "bridge" and c.attachments and c.attachments[0].network != "bridge":
        return c.attachments[0].network
    return c.mode


def _exposed(c: Container) -> list[str]:
    """ExposedPorts' keys: port/proto, but Compose's `expose` as written ("3306")."""
    if c.compose is None:
        return [f"{p}/{proto}" for p, proto in c.exposed]
    return sorted(set(c.compose.expose))


def _labels(c: Container) -> dict[str, str]:
    if c.compose is None:
        return {}
    return {"com.docker.compose.project": c.compose.project, "com.docker.compose.service": c.compose.service,
            "com.docker.compose.container-number": str(c.compose.number),
            "com.docker.compose.depends_on": c.compose.depends_on, "com.docker.compose.oneoff": "False"}


def _ipam_config(att: Attachment) -> dict[str, str] | None:
    """The addresses asked for (--ip, --ip6, ipv4_address), not IPAM's own choices."""
    out = {}
    if att.address_given:
        out["IPv4Address"] = str(att.address.ip)
    if att.address6_given and att.address6 is not None:
        out["IPv6Address"] = str(att.address6.ip)
    return out or None


def _port_bindings(c: Container) -> dict:
    """HostConfig.PortBindings: the bindings as asked, every one of a port (a host address
    only where the spec gave one: the network's default stays "")."""
    out: dict = {}
    for b in c.ports:
        out.setdefault(f"{b.container_port}/{b.proto}", []).append(
            {"HostIp": str(b.host_ip) if b.explicit_ip else "", "HostPort": str(b.host_port)})
    return out


def inspect_lab(topo: Topology, name: str | None = None) -> list | dict:
    if name is None:
        return {"Networks": [network(topo, s) for s in topo.segments],
                "Containers": [container(topo, c) for c in topo.containers]}
    c = topo.find_container(name)
    if c is not None:
        return [container(topo, c)]
    segs = [s for s in topo.segments if s.network == name]
    if segs:
        return [network(topo, s) for s in segs]
    raise LabError(f"lab {topo.shown_name!r} has no container or network named {name!r}")
