"""The resolved lab: every default applied, every address allocated, every name derived.

Frozen data only. Planning and prediction read it; nothing here touches the kernel."""
from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network

from ..engine import DEFAULT, Engine


@dataclass(frozen=True)
class Pool:
    base: IPv4Network
    size: int


@dataclass(frozen=True)
class Pool6:
    """An IPv6 entry of `default-address-pools`: dockerd keeps one list, netlab splits it by family."""

    base: IPv6Network
    size: int


@dataclass(frozen=True, kw_only=True)
class Daemon:
    """daemon.json keys that shape networking, with dockerd's defaults."""

    bip: IPv4Interface | None = None
    fixed_cidr: IPv4Network | None = None
    icc: bool = True
    ip_masq: bool = True
    iptables: bool = True
    ip6tables: bool = False         # the loader gives the engine's default (Engine.ip6tables)
    ip_forward: bool = True
    userland_proxy: bool = True
    mtu: int = 1500
    ip: IPv4Address = IPv4Address("0.0.0.0")
    default_address_pools: tuple[Pool, ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_opts: tuple[str, ...] = ()
    ipv6: bool = False              # the default bridge gets IPv6 (with fixed_cidr_v6)
    fixed_cidr_v6: IPv6Network | None = None
    default_address_pools6: tuple[Pool6, ...] = ()


@dataclass(frozen=True)
class Host:
    """A Docker host: a namespace with eth0 on the underlay and its own dockerd state."""

    name: str
    netns: str
    address: IPv4Address
    daemon: Daemon
    engine: Engine = DEFAULT         # the dockerd version whose behaviour this host shows
    address6: IPv6Address | None = None   # eth0's IPv6 twin on the LAN (model/lan6.py), in a lab with IPv6


@dataclass(frozen=True, kw_only=True)
class Segment:
    """One network as it exists on one host: for a bridge network, one Linux bridge."""

    network: str
    host: str
    driver: str
    subnet: IPv4Network
    gateway: IPv4Address
    ip_range: IPv4Network | None
    device: str                     # the bridge (docker0, br-<12hex>) or macvlan parent
    internal: bool
    icc: bool
    masquerade: bool
    mtu: int
    host_binding_ipv4: IPv4Address
    is_default: bool                # the default bridge `bridge` (docker0)
    options: tuple[tuple[str, str], ...] = ()
    network_id: str = ""            # 64 hex, derived from lab and network name
    vni: int = 0                    # overlay only
    macvlan_mode: str = ""          # macvlan only
    host_ipv4: IPv4Address | None = None  # com.docker.network.host_ipv4: SNAT instead of MASQUERADE
    # com.docker.network.bridge.gateway_mode_ipv4 (27.0+): nat | nat-unprotected | routed | isolated
    gateway_mode: str = "nat"
    # IPv6 (enable_ipv6 / the daemon's ipv6 for docker0): all None when the network has none
    subnet6: IPv6Network | None = None
    gateway6: IPv6Address | None = None
    ip_range6: IPv6Network | None = None
    # ipam.config[].aux_addresses: (name, address) IPAM reserves and never hands out
    aux_addresses: tuple[tuple[str, IPv4Address], ...] = ()
    aux_addresses6: tuple[tuple[str, IPv6Address], ...] = ()
    attachable: bool = False            # --attachable: swarm's; shown, no effect on a local network
    # IPAM keeps the config as asked: a subnet given without a gateway shows none (the bridge
    # still gets the first address); a subnet IPAM chose shows the gateway it chose
    gateway_shown: bool = True
    gateway6_shown: bool = True

    @property
    def ipv6(self) -> bool:
        return self.subnet6 is not None

    def option(self, key: str, default: str = "") -> str:
        return dict(self.options).get(key, default)


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """A container endpoint on one network: the `ethN` inside, the veth end outside."""

    network: str
    ifname: str                     # eth0, eth1, ... in join order
    address: IPv4Interface
    gateway: IPv4Address | None
    mac: str
    host_ifname: str                # veth<7hex> in the host namespace (bridge drivers)
    device: str                     # the bridge or parent it hangs off
    mtu: int
    aliases: tuple[str, ...] = ()
    driver: str = "bridge"
    # --ip / --ip6 asked for this address (inspect's IPAMConfig), not IPAM's choice
    address_given: bool = False
    address6_given: bool = False
    address6: IPv6Interface | None = None    # None: the network has no IPv6
    gateway6: IPv6Address | None = None


@dataclass(frozen=True)
class PortBinding:
    host_ip: IPv4Address | IPv6Address
    host_port: int
    container_port: int
    proto: str
    # the spec named the host address: an explicit 0.0.0.0 gets no IPv6 twin on ::, the
    # network's default address (none given) does (configurePortBindingIPv6); not compared,
    # as both are the same IPv4 binding
    explicit_ip: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Link:
    """A legacy --link: `name` is the linked (child) container, `alias` the name it gets."""

    name: str
    alias: str


@dataclass(frozen=True, kw_only=True)
class ComposeClient:
    """What `docker compose` hands dockerd beyond `docker run`'s words, for a container of a
    Compose project (`netlab inspect` shows it as Docker does): its labels, the network it
    creates the container on (HostConfig.NetworkMode; every other network comes in the same
    call, so the eth order is the daemon's), `expose` as written ("3306" stays without /tcp),
    links on each endpoint rather than in HostConfig, and container:<id> for a shared namespace."""

    project: str
    service: str
    number: int
    depends_on: str = ""            # com.docker.compose.depends_on: dep:condition:restart,...
    primary: str | None = None      # the network's Docker name
    expose: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Container:
    name: str
    host: str
    mode: str                       # bridge | host | none | container
    netns: str                      # the namespace its processes run in
    id: str                         # 64 hex, derived; hostname defaults to its first 12
    hostname: str
    attachments: tuple[Attachment, ...] = ()
    gateway_network: str | None = None   # the endpoint holding the default route and the ports
    shares: str | None = None            # container:<name>
    # both in the order dockerd processes them (nat.SortPortMap, see ports.daemon_order):
    # the order of the port-mapping and link rules
    ports: tuple[PortBinding, ...] = ()
    exposed: tuple[tuple[int, str], ...] = ()   # (port, proto), published ones included
    links: tuple[Link, ...] = ()
    command: str | None = None
    # `docker run --domainname`: the UTS namespace's NIS domain name, "" for none
    domainname: str = ""
    # --add-host NAME:ADDRESS, in the order given (written into /etc/hosts after the endpoints)
    extra_hosts: tuple[tuple[str, str], ...] = ()
    # --dns, --dns-search, --dns-option: the container's own, replacing the daemon's
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    # each exposed or published container port gets a stand-in listener in the netns
    # (served by the agent) unless the container runs its own `command`
    standin: bool = False
    compose: ComposeClient | None = None     # made by `docker compose` (netlab's translation)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def attachment(self, network: str) -> Attachment | None:
        return next((a for a in self.attachments if a.network == network), None)


@dataclass(frozen=True, kw_only=True)
class Expectation:
    source: str
    target: str
    ok: bool
    proto: str = "icmp"
    port: int | None = None
    line: int = 0
    # `name: true`: `target` is a name SOURCE resolves as its own resolver would (/etc/hosts,
    # then its nameserver) before the probe; verify checks the two steps apart
    name: bool = False


@dataclass(frozen=True)
class Underlay:
    subnet: IPv4Network = IPv4Network("10.10.101.0/24")
    gateway: IPv4Address = IPv4Address("10.10.101.254")
    mtu: int = 1500
    # the LAN's IPv6 twin (model/lan6.py): only in a lab where a network or a daemon has IPv6
    subnet6: IPv6Network | None = None
    gateway6: IPv6Address | None = None


@dataclass(frozen=True, kw_only=True)
class Topology:
    name: str
    file: str
    underlay: Underlay
    outside_netns: str
    outside_addresses: tuple[IPv4Address, ...]
    # `outside.routes`: (destination, host) — the outside's router sends it to that host
    # (an IPv6 destination via the host's IPv6 LAN address)
    outside_routes: tuple[tuple[IPv4Network | IPv6Network, str], ...] = ()
    outside_addresses6: tuple[IPv6Address, ...] = ()     # the stand-in internet's IPv6 hosts
    hosts: tuple[Host, ...]
    segments: tuple[Segment, ...]
    containers: tuple[Container, ...]
    expect: tuple[Expectation, ...] = ()
    network_order: tuple[str, ...] = field(default=())
    # a Compose lab's project name: what its user calls the lab (`name` is its kernel prefix)
    project: str | None = None

    @property
    def shown_name(self) -> str:
        """The lab's name as `netlab ls` shows it: a Compose project's name, else the lab's."""
        return self.project or self.name

    @property
    def ipv6(self) -> bool:
        """The lab has IPv6: its LAN and hosts too, so a host can listen on IPv6 (dockerd's
        IsV6Listenable) and a binding on every address gets its twin on `::`."""
        return self.underlay.subnet6 is not None

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def container(self, name: str) -> Container:
        return next(c for c in self.containers if c.name == name)

    def find_container(self, name: str) -> Container | None:
        return next((c for c in self.containers if c.name == name), None)

    def segment(self, network: str, host: str) -> Segment:
        return next(s for s in self.segments if s.network == network and s.host == host)

    def segments_on(self, host: str) -> list[Segment]:
        return [s for s in self.segments if s.host == host]

    def containers_on(self, host: str) -> list[Container]:
        return [c for c in self.containers if c.host == host]
