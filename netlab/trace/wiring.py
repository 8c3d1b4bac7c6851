"""The lab's kernel objects as the predictor walks them, read from the plan alone:
per namespace its interfaces (kind, addresses, bridge master, veth peer, macvlan parent,
VXLAN), routes, neighbour and FDB entries, forwarding sysctls and iptables rule set.

Items are told apart by their class, so link kinds added to the plan later (a driver's
macvlan, vxlan, ...) only need a branch here and in the walk."""
from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

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


@dataclass(kw_only=True)
class Iface:
    netns: str
    name: str
    kind: str                                   # lo | veth | bridge | macvlan | vxlan | vlan
    addresses: list[IPv4Interface] = field(default_factory=list)
    mac: str | None = None
    master: str | None = None                   # its bridge, in the same netns
    peer: tuple[str, str] | None = None         # veth: (netns, ifname) of the other end
    hairpin: bool = False                       # bridge port hairpin_mode
    parent: tuple[str, str] | None = None       # macvlan / vlan: (netns, ifname) of the lower device
    mode: str | None = None                     # macvlan mode
    vni: int | None = None                      # vxlan
    local: IPv4Address | None = None            # vxlan: the outer source address
    port: int | None = None                     # vxlan: UDP destination port
    underlay_netns: str | None = None           # vxlan: where its UDP socket lives


@dataclass(frozen=True)
class RouteEntry:
    dst: IPv4Network
    dev: str
    gateway: IPv4Address | None = None
    src: IPv4Address | None = None              # the preferred source (connected routes)


@dataclass(frozen=True)
class Lookup:
    """A FIB answer: `local`, `unicast` (dev, gateway) or `unreachable`."""

    kind: str
    dev: str | None = None
    gateway: IPv4Address | None = None
    src: IPv4Address | None = None


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
    nft: NftTables | None = None                # native nftables tables (families ip, inet)
    host: str | None = None                     # the Docker host whose engine made it
    engine: Engine | None = None                # that host's engine profile
    neighbours: dict[tuple[str, IPv4Address], str] = field(default_factory=dict)   # (dev, ip) -> mac
    fdb: dict[tuple[str, str], IPv4Address] = field(default_factory=dict)          # (dev, mac) -> VTEP

    @property
    def rules(self) -> Rules:
        return Rules(self.ruleset, self.nft)

    @property
    def local(self) -> frozenset[IPv4Address]:
        return frozenset(a.ip for i in self.ifaces.values() for a in i.addresses)

    def forwarding(self) -> bool:
        return self.sysctls.get("net/ipv4/ip_forward", "0") == "1"

    def bridge_netfilter(self) -> bool:
        # on in every fresh namespace here (br_netfilter is built in; tracing.md §1)
        return self.sysctls.get("net/bridge/bridge-nf-call-iptables", "1") == "1"

    def ports(self, bridge: str) -> list[Iface]:
        return [i for i in self.ifaces.values() if i.master == bridge]

    def route(self, dst: IPv4Address) -> Lookup:
        if dst in self.local or dst in LOOPBACK.network:
            return Lookup("local", "lo", src=dst)
        best = None
        for r in self.routes:
            if dst in r.dst and (best is None or r.dst.prefixlen > best.dst.prefixlen):
                best = r
        if best is None:
            return Lookup("unreachable")
        return Lookup("unicast", best.dev, best.gateway, best.src or self.source_for(best.dev, best.gateway or dst))

    def source_for(self, dev: str, toward: IPv4Address) -> IPv4Address | None:
        """The address the kernel picks on `dev`: one in the next hop's subnet, else the first."""
        addresses = self.ifaces[dev].addresses if dev in self.ifaces else []
        for a in addresses:
            if toward in a.network:
                return a.ip
        return addresses[0].ip if addresses else next(iter(sorted(self.local - {LOOPBACK.ip})), None)


@dataclass
class Wiring:
    lab: str
    spaces: dict[str, Space]

    def space(self, ns: str) -> Space:
        return self.spaces[ns]

    def iface(self, ns: str, name: str) -> Iface:
        return self.spaces[ns].ifaces[name]

    def holders(self, ip: IPv4Address) -> list[tuple[str, str]]:
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
            spaces[ns].ifaces["lo"] = Iface(netns=ns, name="lo", kind="lo", addresses=[LOOPBACK])
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
            v.vni, v.local, v.port = item.vni, IPv4Address(item.local), item.port
            v.underlay_netns, v.master = item.host_netns, item.master
        elif isinstance(item, Address):
            target = iface(item.netns, item.dev, "lo" if item.dev == "lo" else "veth")
            target.addresses.append(IPv4Interface(item.cidr))
        elif isinstance(item, Route):
            dst = IPv4Network("0.0.0.0/0" if item.dst == "default" else item.dst)
            space(item.netns).routes.append(
                RouteEntry(dst, item.dev, IPv4Address(item.gateway) if item.gateway else None))
        elif isinstance(item, Sysctl):
            space(item.netns).sysctls[item.path] = item.value
        elif isinstance(item, Firewall):
            # IPv6 rules are not walked: the tracer follows IPv4 packets
            if item.family == "ipv4":
                space(item.netns).ruleset = parse_save(item.text) if item.text.strip() else None
        elif isinstance(item, NftRuleset):
            tables = parse_nft(item.text)
            space(item.netns).nft = tables if tables.tables else None
        elif isinstance(item, Neighbour):
            space(item.netns).neighbours[(item.dev, IPv4Address(item.ip))] = item.mac
        elif isinstance(item, Fdb):
            space(item.netns).fdb[(item.dev, item.mac.lower())] = IPv4Address(item.dst)
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
            if a.network.prefixlen < 32:
                s.routes.append(RouteEntry(a.network, i.name, None, a.ip))
