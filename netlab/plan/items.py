"""Desired kernel state as frozen data. Each item has a stable key (its identity in the
kernel); two items with one key but different specs are a planning bug. The base class is in
item.py, the items the agent serves in served.py; every item is importable from here."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .item import Item
from .served import DNS_ITEMS, SERVED_ITEMS, DnsNames, Process, Proxy, Resolver, Served, Standin, StandinDNS
from .uts import Uts

__all__ = ["DEFAULT6", "DNS_ITEMS", "KINDS", "LINK_ITEMS", "Address", "Bridge", "DnsNames", "EtcFile", "Fdb",
           "Firewall", "Item", "NftRuleset", "Macvlan", "Neighbour", "Netns", "Process", "Proxy", "Resolver", "Route",
           "SERVED_ITEMS", "Served", "Standin", "StandinDNS", "Sysctl", "Uts", "Veth", "Vlan", "Vxlan",
           "item_from_dict"]


@dataclass(frozen=True)
class Netns(Item):
    """A network namespace the lab owns, pinned at /run/netns/<name>, `lo` up and marked."""

    name: str
    role: str                   # outside | host | container | overlay
    # --in-place: the namespace netlab runs in (a VM's own), pinned under this name; it is
    # never created, marked or removed, and only what the lab put in it is taken out again
    adopted: bool = False
    kind = "netns"

    @property
    def key(self) -> tuple:
        return ("netns", self.name)

    def describe(self) -> str:
        return f"netns {self.name} ({self.role}{', this namespace' if self.adopted else ''})"


@dataclass(frozen=True)
class Bridge(Item):
    netns: str
    name: str
    mac: str | None = None
    mtu: int | None = None      # None: the kernel follows the ports, as Docker 20.10 leaves it
    kind = "bridge"

    @property
    def key(self) -> tuple:
        return ("link", self.netns, self.name)

    def describe(self) -> str:
        mtu = f" mtu {self.mtu}" if self.mtu else ""
        return f"{self.netns}: bridge {self.name}{mtu}"


@dataclass(frozen=True, kw_only=True)
class Veth(Item):
    """A veth pair; the key is the end in `netns` (the host side for containers)."""

    netns: str
    name: str
    peer_netns: str
    peer_name: str
    mtu: int = 1500
    master: str | None = None   # bridge of `name` in `netns`
    mac: str | None = None
    peer_mac: str | None = None
    hairpin: bool = False       # bridge port hairpin_mode (userland-proxy off)
    kind = "veth"

    @property
    def key(self) -> tuple:
        return ("link", self.netns, self.name)

    @property
    def peer_key(self) -> tuple:
        return ("link", self.peer_netns, self.peer_name)

    def describe(self) -> str:
        master = f" master {self.master}" if self.master else ""
        return (f"{self.netns}: veth {self.name}{master} <-> {self.peer_netns}: {self.peer_name}"
                f" mtu {self.mtu}" + (f" mac {self.peer_mac}" if self.peer_mac else ""))


@dataclass(frozen=True, kw_only=True)
class Vxlan(Item):
    """A VXLAN device made from `host_netns` straight into `netns` (the overlay sandbox):
    its UDP socket stays where it was made, on the underlay, as with Docker's vx-... device
    that is moved into the sandbox and renamed vxlan0. No remote or group: static entries."""

    netns: str
    name: str
    vni: int
    local: str                  # the host's underlay address: the outer source
    port: int
    host_netns: str
    mtu: int
    master: str | None = None
    learning: bool = False
    proxy: bool = True          # answer ARP from the permanent neighbour entries
    kind = "vxlan"

    @property
    def key(self) -> tuple:
        return ("link", self.netns, self.name)

    def describe(self) -> str:
        master = f" master {self.master}" if self.master else ""
        return (f"{self.netns}: vxlan {self.name} id {self.vni} local {self.local} dstport {self.port}"
                f" {'learning' if self.learning else 'nolearning'}{' proxy' if self.proxy else ''}"
                f"{master} mtu {self.mtu} (socket in {self.host_netns})")


@dataclass(frozen=True, kw_only=True)
class Macvlan(Item):
    """A macvlan on `parent` in `parent_netns`, made straight into `netns` as `name`."""

    netns: str
    name: str
    parent_netns: str
    parent: str
    mode: str                   # bridge | vepa | private | passthru
    mac: str | None = None
    mtu: int = 1500
    kind = "macvlan"

    @property
    def key(self) -> tuple:
        return ("link", self.netns, self.name)

    def describe(self) -> str:
        where = "" if self.netns == self.parent_netns else f" (on {self.parent_netns}: {self.parent})"
        return (f"{self.netns}: macvlan {self.name} link {self.parent} mode {self.mode}"
                f" mtu {self.mtu}" + (f" mac {self.mac}" if self.mac else "") + where)


@dataclass(frozen=True)
class Vlan(Item):
    """An 802.1q link `<parent>.<vid>`: Docker makes one for a macvlan parent so named."""

    netns: str
    name: str
    parent: str
    vid: int
    kind = "vlan"

    @property
    def key(self) -> tuple:
        return ("link", self.netns, self.name)

    def describe(self) -> str:
        return f"{self.netns}: vlan {self.name} link {self.parent} id {self.vid}"


@dataclass(frozen=True)
class Neighbour(Item):
    """A permanent ARP entry: what the overlay's gossip gives for a remote container."""

    netns: str
    dev: str
    ip: str
    mac: str
    kind = "neighbour"

    @property
    def key(self) -> tuple:
        return ("neighbour", self.netns, self.dev, self.ip)

    def describe(self) -> str:
        return f"{self.netns}: neigh {self.ip} lladdr {self.mac} dev {self.dev} nud permanent"


@dataclass(frozen=True)
class Fdb(Item):
    """A permanent forwarding entry on a VXLAN device: this MAC is behind that VTEP."""

    netns: str
    dev: str
    mac: str
    dst: str
    kind = "fdb"

    @property
    def key(self) -> tuple:
        return ("fdb", self.netns, self.dev, self.mac)

    def describe(self) -> str:
        return f"{self.netns}: fdb {self.mac} dev {self.dev} dst {self.dst} self permanent"


LINK_ITEMS = (Vxlan, Macvlan, Vlan)


@dataclass(frozen=True)
class Address(Item):
    netns: str
    dev: str
    cidr: str
    kind = "address"

    @property
    def key(self) -> tuple:
        return ("address", self.netns, self.dev, self.cidr)

    def describe(self) -> str:
        return f"{self.netns}: address {self.cidr} dev {self.dev}"


# the IPv6 default route's dst: "default" stays IPv4's, so that one key names one route
DEFAULT6 = "::/0"


@dataclass(frozen=True)
class Route(Item):
    netns: str
    dst: str                    # "default" (IPv4's), DEFAULT6 or a CIDR
    gateway: str | None
    dev: str
    kind = "route"

    @property
    def key(self) -> tuple:
        return ("route", self.netns, self.dst)

    def describe(self) -> str:
        via = f" via {self.gateway}" if self.gateway else ""
        return f"{self.netns}: route {self.dst}{via} dev {self.dev}"


@dataclass(frozen=True)
class Sysctl(Item):
    netns: str
    path: str                   # below /proc/sys, e.g. net/ipv4/ip_forward
    value: str
    kind = "sysctl"

    @property
    def key(self) -> tuple:
        return ("sysctl", self.netns, self.path)

    def describe(self) -> str:
        return f"{self.netns}: sysctl {self.path.replace('/', '.')}={self.value}"


@dataclass(frozen=True)
class Firewall(Item):
    """The whole iptables state of one namespace for one address family, as iptables-restore
    (family ipv4) or ip6tables-restore (ipv6) input."""

    netns: str
    text: str
    family: str = "ipv4"
    kind = "firewall"

    @property
    def key(self) -> tuple:
        # IPv4's key predates the family, and states saved before keep matching it
        return ("firewall", self.netns) if self.family == "ipv4" else ("firewall", self.netns, self.family)

    def describe(self) -> str:
        n = sum(1 for line in self.text.splitlines() if line.startswith("-A "))
        tool = "iptables" if self.family == "ipv4" else "ip6tables"
        return f"{self.netns}: {tool} ({n} rules)"


@dataclass(frozen=True)
class NftRuleset(Item):
    """The native nftables tables an engine with `firewall-backend: nftables` owns in one
    namespace (`ip docker-bridges`, `ip6 docker-bridges`), as `nft list table` prints them;
    written whole and atomically by one `nft -f`."""

    netns: str
    text: str
    kind = "nftables"

    @property
    def key(self) -> tuple:
        return ("nftables", self.netns)

    def tables(self) -> tuple[str, ...]:
        """"ip docker-bridges", ... in the order the text defines them."""
        return tuple(line[len("table "):].rstrip(" {") for line in self.text.splitlines()
                     if line.startswith("table "))

    def describe(self) -> str:
        return f"{self.netns}: nftables {', '.join(self.tables())}"


@dataclass(frozen=True)
class EtcFile(Item):
    """/etc/netns/<netns>/<name>: what `ip netns exec` binds over /etc/<name>."""

    netns: str
    name: str
    content: str
    kind = "etcfile"

    @property
    def key(self) -> tuple:
        return ("etcfile", self.netns, self.name)

    def describe(self) -> str:
        return f"{self.netns}: /etc/netns/{self.netns}/{self.name}"


KINDS = {cls.kind: cls for cls in (Netns, Bridge, Veth, *LINK_ITEMS, Neighbour, Fdb, Address, Route, Sysctl, Firewall,
                                   NftRuleset, EtcFile, Uts, Process, Proxy, *SERVED_ITEMS)}


def item_from_dict(d: dict) -> Item:
    cls = KINDS[d["kind"]]
    names = {f.name for f in fields(cls)}
    return cls(**{k: _tuples(v) for k, v in d.items() if k in names})


def _tuples(value: Any) -> Any:
    """JSON gives lists where the items hold tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
