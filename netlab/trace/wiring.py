"""The lab's kernel objects as the predictor walks them, read from the plan alone:
per namespace its interfaces (kind, addresses, bridge master, veth peer, macvlan parent,
VXLAN), routes, neighbour and FDB entries, forwarding sysctls and iptables rule set.

Items are told apart by their class, so link kinds added to the plan later (a driver's
macvlan, vxlan, ...) only need a branch here and in the walk."""
from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
    ip_address,
    ip_interface,
    ip_network,
)

from ..engine import Engine
from ..model.topology import Topology
from ..plan.firewall.model import Ruleset
from ..plan.firewall.render import parse_save
from ..plan.items import (
    Address,
    Bridge,
    Fdb,
    Firewall,
    Macvlan,
    Neighbour,
    Netns,
    NftRuleset,
    Route,
    Sysctl,
    Veth,
    Vlan,
    Vxlan,
)
from ..plan.plan import Plan
from .hooks import Rules
from .model import HostEngine
from .nft_model import NftRuleset as NftTables
from .nft_model import parse as parse_nft

LOOPBACK = IPv4Interface("127.0.0.1/8")
LOOPBACK6 = IPv6Interface("::1/128")
IP = IPv4Address | IPv6Address
Interface = IPv4Interface | IPv6Interface
Network = IPv4Network | IPv6Network


@dataclass(kw_only=True)
class Iface:
    netns: str
    name: str
    kind: str                                   # lo | veth | bridge | macvlan | vxlan | vlan
    addresses: list[Interface] = field(default_factory=list)
    mac: str | None = None
    master: str | None = None                   # its bridge, in the same netns
    peer: tuple[str, str] | None = None         # veth: (netns, ifname) of the other end
    hairpin: bool = False                       # bridge port hairpin_mode
    parent: tuple[str, str] | None = None       # macvlan / vlan: (netns, ifname) of the lower device
    mode: str | None = None                     # macvlan mode
    vni: int | None = None                      # vxlan
    local: IP | None = None                     # vxlan: the outer source address
    port: int | None = None                     # vxlan: UDP destination port
    underlay_netns: str | None = None           # vxlan: where its UDP socket lives


@dataclass(frozen=True)
class RouteEntry:
    dst: Network
    dev: str
    gateway: IP | None = None
    src: IP | None = None                       # the preferred source (connected routes)


@dataclass(frozen=True)
class Lookup:
    """A FIB answer: `local`, `unicast` (dev, gateway) or `unreachable`."""

    kind: str
    dev: str | None = None
    gateway: IP | None = None
    src: IP | None = None


@dataclass(kw_only=True)
class Space:
    """One network namespace."""

    name: str
    role: str
    owner: str
    ifaces: dict[str, Iface] = field(default_factory=dict)
    routes: list[RouteEntry] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)
    ruleset: Ruleset | None = None              # iptables (IPv4)
    ruleset6: Ruleset | None = None             # ip6tables
    nft: NftTables | None = None                # native nftables tables (families ip, ip6, inet)
    host: str | None = None                     # the Docker host whose engine made it
    engine: Engine | None = None                # that host's engine profile
    neighbours: dict[tuple[str, IP], str] = field(default_factory=dict)   # (dev, ip) -> mac
    fdb: dict[tuple[str, str], IP] = field(default_factory=dict)          # (dev, mac) -> VTEP

    @property
    def rules(self) -> Rules:
        """The IPv4 rules (iptables and the nftables tables of families ip and inet)."""
        return self.rules_for(4)

    def rules_for(self, family: int) -> Rules:
        """The rules a packet of `family` (4 or 6) meets: one iptables family, and the
        native tables of its nftables family and of inet."""
        tables = self.nft.of_family(family) if self.nft is not None else None
        return Rules(self.ruleset if family == 4 else self.ruleset6, tables, family)

    @property
    def local(self) -> frozenset[IP]:
        return frozenset(a.ip for i in self.ifaces.values() for a in i.addresses)

    def forwarding(self, family: int = 4) -> bool:
        path = "net/ipv4/ip_forward" if family == 4 else "net/ipv6/conf/all/forwarding"
        return self.sysctls.get(path, "0") == "1"

    def bridge_netfilter(self, family: int = 4) -> bool:
        # on in every fresh namespace here (br_netfilter is built in; tracing.md §1)
        name = "iptables" if family == 4 else "ip6tables"
        return self.sysctls.get(f"net/bridge/bridge-nf-call-{name}", "1") == "1"

    def ports(self, bridge: str) -> list[Iface]:
        return [i for i in self.ifaces.values() if i.master == bridge]

    def route(self, dst: IP) -> Lookup:
        loopback = LOOPBACK if dst.version == 4 else LOOPBACK6
        if dst in self.local or dst in loopback.network:
            return Lookup("local", "lo", src=dst)
        best = None
        for r in self.routes:
            if r.dst.version == dst.version and dst in r.dst and \
                    (best is None or r.dst.prefixlen > best.dst.prefixlen):
                best = r
        if best is None:
            return Lookup("unreachable")
        return Lookup("unicast", best.dev, best.gateway, best.src or self.source_for(best.dev, best.gateway or dst))

    def source_for(self, dev: str, toward: IP) -> IP | None:
        """The address the kernel picks on `dev`: one of the next hop's family in its
        subnet, else the first of that family on `dev`, else any of the netns'."""
        on_dev = self.ifaces[dev].addresses if dev in self.ifaces else []
        addresses = [a for a in on_dev if a.version == toward.version]
        for a in addresses:
            if toward in a.network:
                return a.ip
        if addresses:
            return addresses[0].ip
        loopback = LOOPBACK.ip if toward.version == 4 else LOOPBACK6.ip
        return next(iter(sorted(a for a in self.local if a.version == toward.version and a != loopback)), None)


@dataclass
class Wiring:
    lab: str
    spaces: dict[str, Space]

    def space(self, ns: str) -> Space:
        return self.spaces[ns]

    def iface(self, ns: str, name: str) -> Iface:
        return self.spaces[ns].ifaces[name]

    def holders(self, ip: IP) -> list[tuple[str, str]]:
        """(netns, ifname) of every interface holding `ip`."""
        return [(s.name, i.name) for s in self.spaces.values() for i in s.ifaces.values()
                if any(a.ip == ip for a in i.addresses)]

    def macvlans_on(self, ns: str, lower: str) -> list[Iface]:
        return [i for s in self.spaces.values() for i in s.ifaces.values()
                if i.kind == "macvlan" and i.parent == (ns, lower)]

    def vxlan_by_mac(self, mac: str) -> Iface | None:
        """The endpoint interface (any netns) wearing `mac`."""
        for s in self.spaces.values():
            for i in s.ifaces.values():
                if i.mac and i.mac.lower() == mac.lower():
                    return i
        return None


def engines_on(wiring: Wiring, netns: list[str]) -> tuple[HostEngine, ...]:
    """The host of each namespace in `netns` (path order), once each, with its engine."""
    out: dict[str, HostEngine] = {}
    for ns in netns:
        space = wiring.spaces.get(ns)
        if space is None or space.host is None or space.engine is None or space.host in out:
            continue
        host_ns = next((s.name for s in wiring.spaces.values() if s.host == space.host and s.role == "host"), ns)
        out[space.host] = HostEngine(host=space.host, netns=host_ns, engine=space.engine.name,
                                     firewall=space.engine.backend)
    return tuple(out.values())


def owners(topo: Topology) -> dict[str, str]:
    """netns -> the lab name people use for it."""
    out = {topo.outside_netns: "outside"}
    out.update({h.netns: h.name for h in topo.hosts})
    out.update({c.netns: c.name for c in topo.containers if c.mode in ("bridge", "none")})
    return out


def from_plan(topo: Topology, plan: Plan) -> Wiring:
    names = owners(topo)
    spaces: dict[str, Space] = {}

    def space(ns: str) -> Space:
        if ns not in spaces:
            spaces[ns] = Space(name=ns, role="?", owner=names.get(ns, ns.removeprefix(f"{topo.name}-")))
            spaces[ns].ifaces["lo"] = Iface(netns=ns, name="lo", kind="lo", addresses=[LOOPBACK, LOOPBACK6])
        return spaces[ns]

    def iface(ns: str, name: str, kind: str) -> Iface:
        s = space(ns)
        if name not in s.ifaces:
            s.ifaces[name] = Iface(netns=ns, name=name, kind=kind)
        return s.ifaces[name]

    for item in plan.items:
        if isinstance(item, Netns):
            space(item.name).role = item.role
        elif isinstance(item, Bridge):
            b = iface(item.netns, item.name, "bridge")
            b.mac = item.mac
        elif isinstance(item, Veth):
            a = iface(item.netns, item.name, "veth")
            b = iface(item.peer_netns, item.peer_name, "veth")
            a.peer, b.peer = (item.peer_netns, item.peer_name), (item.netns, item.name)
            a.master, a.hairpin, a.mac, b.mac = item.master, item.hairpin, item.mac, item.peer_mac
        elif isinstance(item, Macvlan):
            m = iface(item.netns, item.name, "macvlan")
            m.parent, m.mode, m.mac = (item.parent_netns, item.parent), item.mode, item.mac
        elif isinstance(item, Vlan):
            v = iface(item.netns, item.name, "vlan")
            v.parent = (item.netns, item.parent)
        elif isinstance(item, Vxlan):
            v = iface(item.netns, item.name, "vxlan")
            v.vni, v.local, v.port = item.vni, ip_address(item.local), item.port
            v.underlay_netns, v.master = item.host_netns, item.master
        elif isinstance(item, Address):
            target = iface(item.netns, item.dev, "lo" if item.dev == "lo" else "veth")
            target.addresses.append(ip_interface(item.cidr))
        elif isinstance(item, Route):
            dst = ip_network("0.0.0.0/0" if item.dst == "default" else item.dst)
            space(item.netns).routes.append(
                RouteEntry(dst, item.dev, ip_address(item.gateway) if item.gateway else None))
        elif isinstance(item, Sysctl):
            space(item.netns).sysctls[item.path] = item.value
        elif isinstance(item, Firewall):
            ruleset = parse_save(item.text) if item.text.strip() else None
            if item.family == "ipv4":
                space(item.netns).ruleset = ruleset
            else:
                space(item.netns).ruleset6 = ruleset
        elif isinstance(item, NftRuleset):
            tables = parse_nft(item.text)
            space(item.netns).nft = tables if tables.tables else None
        elif isinstance(item, Neighbour):
            space(item.netns).neighbours[(item.dev, ip_address(item.ip))] = item.mac
        elif isinstance(item, Fdb):
            space(item.netns).fdb[(item.dev, item.mac.lower())] = ip_address(item.dst)
    for s in spaces.values():
        _connected_routes(s)
        s.host = host_of(topo, s.name)
        s.engine = topo.host(s.host).engine if s.host else None
    return Wiring(topo.name, spaces)


def host_of(topo: Topology, ns: str) -> str | None:
    """The Docker host a namespace belongs to: the host's own, its containers', its overlay
    sandboxes' (`<host netns>@ov<vni>`); None for the outside."""
    for h in topo.hosts:
        if ns == h.netns or ns.startswith(f"{h.netns}@"):
            return h.name
    c = next((c for c in topo.containers if c.netns == ns), None)
    return c.host if c is not None else None


def _connected_routes(s: Space) -> None:
    """The kernel's connected routes, one per address that is not a host address."""
    for i in s.ifaces.values():
        if i.kind == "lo":
            continue
        for a in i.addresses:
            if a.network.prefixlen < a.max_prefixlen:
                s.routes.append(RouteEntry(a.network, i.name, None, a.ip))
