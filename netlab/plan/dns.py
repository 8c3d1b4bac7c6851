"""Docker's embedded DNS server (127.0.0.11) as plan data: which container namespaces get
one, on which ports, with which nat rules, and the names each network serves. Pure.

dockerd starts a resolver for every endpoint that is not on the default bridge (§5): it binds
UDP and TCP on 127.0.0.11 with random ports inside the container's namespace and DNATs
127.0.0.11:53 to them. The lab's agent serves those sockets; their ports are derived here, so
the nat rules are known before anything runs and stay the same across reruns and restarts."""
from __future__ import annotations

from ..model import naming
from ..model.topology import Container, Topology
from . import etc
from .firewall.iptables import Iptables
from .firewall.render import render_restore
from .items import DnsNames, Firewall, NftRuleset, Resolver, StandinDNS
from .plan import Plan

RESOLVER_IP = "127.0.0.11"
DNS_PORT = 53
# Linux's default ip_local_port_range: where the ports Docker gets by binding port 0 fall
PORTS = range(32768, 61000)
OUTPUT_CHAIN = "DOCKER_OUTPUT"
POSTROUTING_CHAIN = "DOCKER_POSTROUTING"
# drivers whose networks are global in scope: their names span hosts (swarm overlay)
GLOBAL_DRIVERS = ("overlay",)


def resolver_ports(lab: str, container: str) -> tuple[int, int]:
    """(udp, tcp): two different ports, stable for a lab's container."""
    h = naming.digest(lab, "resolver", container)
    udp = PORTS[int(h[:8], 16) % len(PORTS)]
    tcp = PORTS[int(h[8:16], 16) % len(PORTS)]
    if tcp == udp:
        tcp = PORTS[(PORTS.index(udp) + 1) % len(PORTS)]
    return udp, tcp


def resolver_rules(udp_port: int, tcp_port: int) -> str:
    """The nat table dockerd's `setup-resolver` re-exec leaves in a fresh container namespace
    (20.10 resolver_unix.go), replayed command by command so the order is Docker's."""
    ipt = Iptables()
    for builtin, chain in (("OUTPUT", OUTPUT_CHAIN), ("POSTROUTING", POSTROUTING_CHAIN)):
        ipt.new_chain("nat", chain)
        ipt.insert("nat", builtin, f"-d {RESOLVER_IP}/32 -j {chain}")
    for proto, port in (("udp", udp_port), ("tcp", tcp_port)):
        ipt.insert("nat", OUTPUT_CHAIN, f"-d {RESOLVER_IP}/32 -p {proto} -m {proto} --dport {DNS_PORT} "
                                        f"-j DNAT --to-destination {RESOLVER_IP}:{port}")
        ipt.insert("nat", POSTROUTING_CHAIN, f"-s {RESOLVER_IP}/32 -p {proto} -m {proto} --sport {port} "
                                             f"-j SNAT --to-source :{DNS_PORT}")
    return render_restore(ipt.ruleset())


def resolver_nftables(udp_port: int, tcp_port: int) -> str:
    """The `ip docker-dns` table dockerd writes in a container namespace when its firewall
    backend is nftables (29 resolver_unix.go setupNftablesNAT), as `nft list table` prints it.
    The output hook's priority is spelled -100: `dstnat` names it only on newer nft."""
    ip, dns = RESOLVER_IP, DNS_PORT
    return (f"table ip docker-dns {{\n"
            f"\tchain dns-dnat {{\n"
            f"\t\ttype nat hook output priority -100; policy accept;\n"
            f"\t\tip daddr {ip} udp dport {dns} counter packets 0 bytes 0 dnat to {ip}:{udp_port}\n"
            f"\t\tip daddr {ip} tcp dport {dns} counter packets 0 bytes 0 dnat to {ip}:{tcp_port}\n"
            f"\t}}\n\n"
            f"\tchain dns-snat {{\n"
            f"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
            f"\t\tip saddr {ip} udp sport {udp_port} counter packets 0 bytes 0 snat to :{dns}\n"
            f"\t\tip saddr {ip} tcp sport {tcp_port} counter packets 0 bytes 0 snat to :{dns}\n"
            f"\t}}\n"
            f"}}\n")


def uses_embedded_dns(c: Container) -> bool:
    """Containers with a namespace of their own and an endpoint off the default bridge
    (container:<name> shares its owner's resolver; host mode has none)."""
    return c.mode == "bridge" and etc.uses_embedded_dns(c)


def scope(topo: Topology, network: str, host: str) -> str:
    """Where a network's names live: one table per network for a global-scope driver,
    otherwise one per host (each dockerd knows only its own local networks' endpoints)."""
    seg = topo.segment(network, host)
    return network if seg.driver in GLOBAL_DRIVERS else f"{network}@{host}"


def endpoint_names(c: Container, network: str) -> list[str]:
    """The names one endpoint registers (daemon updateNetworkConfig): the container name, its
    network aliases, the short ID, and the hostname when it is not the name."""
    att = c.attachment(network)
    names = [c.name, *(att.aliases if att else ())]
    for extra in (c.short_id, c.hostname):
        if extra != c.name and extra not in names:
            names.append(extra)
    return names


def name_tables(topo: Topology) -> list[DnsNames]:
    """Each resolving network's service records, endpoints in join (file) order: a name's
    addresses of both families in one list (the agent answers A from the IPv4 ones, AAAA from
    the IPv6 ones), and address -> container name for PTR."""
    names: dict[str, dict[str, list[str]]] = {}
    reverse: dict[str, list[tuple[str, str]]] = {}
    networks: dict[str, str] = {}
    for c in topo.containers:
        for att in c.attachments:
            if att.network == "bridge":
                continue   # the default bridge has no embedded DNS, so no records
            where = scope(topo, att.network, c.host)
            networks[where] = att.network
            table = names.setdefault(where, {})
            # an endpoint with IPv6 registers its v6 address too (svcIPv6Map, and ipMap for PTR)
            own = [str(att.address.ip)] + ([str(att.address6.ip)] if att.address6 is not None else [])
            for name in endpoint_names(c, att.network):
                ips = table.setdefault(name.lower(), [])
                ips += [ip for ip in own if ip not in ips]
            reverse.setdefault(where, []).extend((ip, c.name) for ip in own)
    return [DnsNames(where, networks[where], tuple((n, tuple(ips)) for n, ips in table.items()),
                     tuple(reverse[where]))
            for where, table in names.items()]


def lookup_order(topo: Topology, c: Container) -> tuple[tuple[str, str], ...]:
    """(network, scope) of the container's resolving endpoints in the order the sandbox keeps
    them (endpoint.Less: non-internal first, dual-stack before IPv4-only, then by network
    name); in swarm mode the global-scope (overlay) endpoints are tried first
    (sandbox.ResolveName)."""
    atts = [a for a in c.attachments if a.network != "bridge"]
    segs = {a.network: topo.segment(a.network, c.host) for a in atts}
    key = {a.network: (segs[a.network].driver not in GLOBAL_DRIVERS, segs[a.network].internal,
                       not segs[a.network].ipv6, a.network) for a in atts}
    ordered = sorted(atts, key=lambda a: key[a.network])
    return tuple((a.network, scope(topo, a.network, c.host)) for a in ordered)


def upstreams(topo: Topology, c: Container) -> tuple[tuple[str, str], ...]:
    """Where names the lab does not know go, and from which namespace: the first three of the
    container's `dns` list, else the daemon's, else of the host's nameservers. Docker 20.10 asks from the container's
    namespace, except a loopback server (127/8), which only the host can reach; from 28.0 every
    server of the host's own file is asked from the host's namespace (`dns` ones still not)."""
    host = topo.host(c.host)
    # the container's own `dns` replaces the daemon's, and is asked as the daemon's would be
    given = etc.resolver_settings(topo, c)[0]
    servers = given or etc.host_nameservers(topo)

    def from_host(s: str) -> bool:
        return s.startswith("127.") or (host.engine.upstream_from_host and not given)
    asked = tuple((s, host.netns if from_host(s) else c.netns) for s in servers[:3])
    if host.engine.knows("26.0") and not external_access(topo, c):
        # CVE-2024-29018 (26.0; relaxed in 26.1.3): a container on internal networks only gets
        # nothing forwarded from the host's namespace; with no server left, SERVFAIL at once
        asked = tuple((s, where) for s, where in asked if where != host.netns)
    return asked


def external_access(topo: Topology, c: Container) -> bool:
    """Sandbox.hasExternalAccess: an endpoint with a gateway on a network that is not internal."""
    return any(a.gateway is not None and not topo.segment(a.network, c.host).internal for a in c.attachments)


def resolver(topo: Topology, c: Container) -> Resolver:
    udp, tcp = resolver_ports(topo.name, c.name)
    links = tuple((link.alias, link.name) for link in c.links)
    ndots = any(o.startswith("ndots:") for o in etc.resolver_settings(topo, c)[2])
    return Resolver(c.netns, c.name, udp, tcp, lookup_order(topo, c), links, upstreams(topo, c), ndots)


def plan_dns(plan: Plan, topo: Topology) -> None:
    """The stand-in upstream server, each container's resolver and its nat rules, and the
    name tables the resolvers answer from."""
    for address in etc.host_nameservers(topo):
        plan.add(StandinDNS(topo.outside_netns, address))
    for c in topo.containers:
        if uses_embedded_dns(c):
            r = resolver(topo, c)
            if topo.host(c.host).engine.backend == "nftables":
                plan.add(NftRuleset(c.netns, resolver_nftables(r.udp_port, r.tcp_port)))
            else:
                plan.add(Firewall(c.netns, resolver_rules(r.udp_port, r.tcp_port)))
            plan.add(r)
    for table in name_tables(topo):
        plan.add(table)
