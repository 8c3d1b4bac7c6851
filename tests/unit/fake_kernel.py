"""A kernel in memory behind netlab.kernel.ops.KernelOps, for observe → diff → apply tests
without root: namespaces with their links, addresses, routes, L2 entries, sysctls, /etc/netns
files, iptables and ip6tables tables and native nftables tables. It models what the diff reads
back, not the kernel's every rule; where the real kernel acts on its own (a veth's peer goes with it, a deleted link takes its
addresses and routes along, disable_ipv6=1 takes an interface's IPv6 addresses) the fake does the same, since the diff
relies on it."""
from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field, replace
from typing import Any

from netlab.errors import KernelError
from netlab.kernel.firewall.backend import FirewallBackend
from netlab.kernel.firewall.text import blocks
from netlab.kernel.observe import LinkState, NetnsState
from netlab.kernel.ops import L2State

_macs = itertools.count(1)
MACHINE_UTS = ("vm", "(none)")      # the fake machine's hostname and NIS domain name


def _mac() -> str:
    n = next(_macs)
    return f"02:42:fa:ce:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"


@dataclass
class Space:
    """One namespace."""

    links: dict[str, LinkState] = field(default_factory=dict)
    peers: dict[str, tuple[str, str]] = field(default_factory=dict)      # veth -> (peer ns, peer name)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)   # vxlan/macvlan/vlan link -> settings
    addresses: set[tuple[str, str]] = field(default_factory=set)
    routes: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    neighbours: set[tuple[str, str, str]] = field(default_factory=set)
    fdb: set[tuple[str, str, str]] = field(default_factory=set)
    sysctls: dict[str, str] = field(default_factory=dict)
    etc: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)                # table -> restore body
    tables6: dict[str, str] = field(default_factory=dict)               # the same, ip6tables
    nft: dict[str, str] = field(default_factory=dict)                   # "ip docker-bridges" -> its text


class FakeFirewall(FirewallBackend):
    """iptables-nft as the diff sees it: a restore replaces each table it names (a `-X C`
    deletes chain C), save prints the tables."""

    name = "fake"

    def __init__(self, kernel: FakeKernel):
        self.kernel = kernel

    def _tables(self, ns: str, family: str) -> dict[str, str]:
        space = self.kernel.space(ns)
        return space.tables if family == "ipv4" else space.tables6

    def restore(self, ns: str, text: str, family: str = "ipv4") -> None:
        tables = self._tables(ns, family)
        for table, body in blocks(text):
            dropped = set(re.findall(r"^-X (\S+)$", body, re.M))
            lines = [line for line in body.splitlines() if not line.startswith("-X ")
                     and not any(line.startswith(f":{c} ") for c in dropped)]
            tables[table] = "".join(f"{line}\n" for line in lines)

    def save(self, ns: str, counters: bool = False, family: str = "ipv4") -> str:
        return "".join(f"*{t}\n{body}COMMIT\n" for t, body in self._tables(ns, family).items())

    def remove_tables(self, ns: str, tables: list[str], family: str = "ipv4") -> None:
        for table in tables:
            self._tables(ns, family).pop(table, None)


class FakeLinks:
    """links.Netlink's writes (ops.LinkOps) on the fake's namespaces."""

    def __init__(self, kernel: FakeKernel):
        self.kernel = kernel

    def _add(self, ns: str, name: str, kind: str, mtu: int | None, mac: str | None, alias: str,
             master: str | None = None) -> None:
        space = self.kernel.space(ns)
        if name in space.links:
            raise KernelError(f"{ns}: {name} exists")
        space.links[name] = LinkState(kind=kind, mtu=mtu or 1500, mac=mac or _mac(), master=master, up=True, alias=alias)

    def add_bridge(self, ns: str, name: str, mac: str | None, mtu: int | None, alias: str) -> None:
        self._add(ns, name, "bridge", mtu, mac, alias)

    def add_veth(self, ns: str, name: str, peer_ns: str, peer_name: str, *, mtu: int,
                 master: str | None, mac: str | None, peer_mac: str | None, alias: str) -> None:
        self._add(ns, name, "veth", mtu, mac, alias, master)
        self._add(peer_ns, peer_name, "veth", mtu, peer_mac, alias)
        self.kernel.space(ns).peers[name] = (peer_ns, peer_name)
        self.kernel.space(peer_ns).peers[peer_name] = (ns, name)

    def set_link(self, ns: str, name: str, **attrs: Any) -> None:
        space = self.kernel.space(ns)
        if name not in space.links:
            raise KernelError(f"{ns}: interface {name} not found")
        link = space.links[name]
        for key, field_name in (("mtu", "mtu"), ("address", "mac"), ("master", "master"), ("ifalias", "alias")):
            if key in attrs:
                link = replace(link, **{field_name: attrs[key]})
        if "state" in attrs:
            link = replace(link, up=attrs["state"] == "up")
        space.links[name] = link

    def set_hairpin(self, ns: str, name: str, on: bool) -> None:
        space = self.kernel.space(ns)
        space.links[name] = replace(space.links[name], hairpin=on)

    def drop_index(self, ns: str, name: str) -> None:
        pass

    def delete_link(self, ns: str, name: str) -> None:
        space = self.kernel.spaces.get(ns)
        if space is None or name not in space.links:
            return
        self.kernel.unlink(space, name)
        peer = space.peers.pop(name, None)
        if peer and peer[0] in self.kernel.spaces:
            other = self.kernel.spaces[peer[0]]
            other.peers.pop(peer[1], None)
            self.kernel.unlink(other, peer[1])

    def add_vxlan(self, host_ns: str, ns: str, name: str, *, vni: int, local: str, port: int,
                  learning: bool, proxy: bool, mtu: int, master: str | None, alias: str) -> None:
        self._add(ns, name, "vxlan", mtu, None, alias, master)
        self.kernel.space(ns).settings[name] = {"vni": vni, "local": local, "port": port, "learning": learning}

    def add_macvlan(self, ns: str, name: str, parent_ns: str, parent: str, *, mode: str,
                    mac: str | None, mtu: int, alias: str) -> None:
        self._add(ns, name, "macvlan", mtu, mac, alias)
        self.kernel.space(ns).settings[name] = {"mode": mode}

    def add_vlan(self, ns: str, name: str, parent: str, vid: int, alias: str) -> None:
        self._add(ns, name, "vlan", self.kernel.space(ns).links[parent].mtu, None, alias)
        self.kernel.space(ns).settings[name] = {"vid": vid}

    def set_neighbour(self, ns: str, dev: str, ip: str, mac: str) -> None:
        space = self.kernel.space(ns)
        space.neighbours = {n for n in space.neighbours if n[:2] != (dev, ip)} | {(dev, ip, mac)}

    def delete_neighbour(self, ns: str, dev: str, ip: str) -> None:
        space = self.kernel.space(ns)
        space.neighbours = {n for n in space.neighbours if n[:2] != (dev, ip)}

    def set_fdb(self, ns: str, dev: str, mac: str, dst: str) -> None:
        space = self.kernel.space(ns)
        space.fdb = {f for f in space.fdb if f[:2] != (dev, mac)} | {(dev, mac, dst)}

    def delete_fdb(self, ns: str, dev: str, mac: str, dst: str) -> None:
        self.kernel.space(ns).fdb.discard((dev, mac, dst))

    def add_address(self, ns: str, dev: str, cidr: str) -> None:
        space = self.kernel.space(ns)
        if dev not in space.links:
            raise KernelError(f"{ns}: interface {dev} not found")
        if ":" in cidr and space.sysctls.get(f"net/ipv6/conf/{dev}/disable_ipv6") == "1":
            raise KernelError(f"{ns}: IPv6 is disabled on {dev} (EACCES)")
        space.addresses.add((dev, cidr))

    def delete_address(self, ns: str, dev: str, cidr: str) -> None:
        self.kernel.space(ns).addresses.discard((dev, cidr))

    def replace_route(self, ns: str, dst: str, gateway: str | None, dev: str) -> None:
        if dev not in self.kernel.space(ns).links:
            raise KernelError(f"{ns}: interface {dev} not found")
        self.kernel.space(ns).routes[dst] = (gateway, dev)

    def delete_route(self, ns: str, dst: str) -> None:
        self.kernel.space(ns).routes.pop(dst, None)


class FakeKernel:
    """ops.KernelOps in memory."""

    def __init__(self) -> None:
        self.spaces: dict[str, Space] = {}
        self.links = FakeLinks(self)
        self.firewall: FirewallBackend = FakeFirewall(self)
        self.uts: dict[str, tuple[str, str]] = {}       # UTS pin -> (hostname, domain name)

    def space(self, ns: str) -> Space:
        if ns not in self.spaces:
            raise KernelError(f"netns {ns} does not exist")
        return self.spaces[ns]

    def unlink(self, space: Space, name: str) -> None:
        """A link goes, and what the kernel removes with it: addresses, routes, entries, ports."""
        space.links.pop(name, None)
        space.settings.pop(name, None)
        space.addresses = {a for a in space.addresses if a[0] != name}
        space.routes = {d: r for d, r in space.routes.items() if r[1] != name}
        space.neighbours = {n for n in space.neighbours if n[0] != name}
        space.fdb = {f for f in space.fdb if f[0] != name}
        for port, link in list(space.links.items()):
            if link.master == name:
                space.links[port] = replace(link, master=None)

    def exists(self, ns: str) -> bool:
        return ns in self.spaces

    def clear_stale(self, ns: str) -> None:
        pass

    def create_netns(self, ns: str, mark: str) -> None:
        if ns in self.spaces:
            raise KernelError(f"netns {ns} exists")
        self.spaces[ns] = Space(links={"lo": LinkState(kind="loopback", mtu=65536, mac="00:00:00:00:00:00", master=None, up=True, alias=mark)},
                                addresses={("lo", "127.0.0.1/8")})

    def adopt_netns(self, ns: str) -> None:
        self.spaces.setdefault(ns, Space(links={"lo": LinkState(kind="loopback", mtu=65536, mac="00:00:00:00:00:00", master=None,
                                                                up=True, alias=None)}))

    def delete_netns(self, ns: str) -> None:
        space = self.spaces.pop(ns, None)
        for peer_ns, peer in (space.peers.values() if space else []):
            if peer_ns in self.spaces:
                self.spaces[peer_ns].peers.pop(peer, None)
                self.unlink(self.spaces[peer_ns], peer)

    def read_netns(self, ns: str) -> NetnsState:
        space = self.space(ns)
        return NetnsState(marked=space.links["lo"].alias, links=dict(space.links), addresses=set(space.addresses),
                          routes=dict(space.routes))

    def read_l2(self, ns: str) -> L2State:
        space = self.space(ns)
        return {k: dict(v) for k, v in space.settings.items()}, set(space.neighbours), set(space.fdb)

    def read_sysctl(self, ns: str, path: str) -> str | None:
        return self.space(ns).sysctls.get(path, "0")

    def write_sysctl(self, ns: str, path: str, value: str) -> None:
        space = self.space(ns)
        space.sysctls[path] = value
        m = re.fullmatch(r"net/ipv6/conf/([^/]+)/disable_ipv6", path)
        if not m:
            return
        # as addrconf_disable_change: `all` sets every interface (and `default`), and an
        # interface whose IPv6 goes off loses its IPv6 addresses and routes
        devs = set(space.links) if m.group(1) == "all" else {m.group(1)}
        for dev in devs:
            space.sysctls[f"net/ipv6/conf/{dev}/disable_ipv6"] = value
        if m.group(1) == "all":
            space.sysctls["net/ipv6/conf/default/disable_ipv6"] = value
        if value == "1":
            space.addresses = {(d, c) for d, c in space.addresses if d not in devs or ":" not in c}
            space.routes = {dst: r for dst, r in space.routes.items() if r[1] not in devs or ":" not in dst}

    def read_etc(self, ns: str, name: str) -> str | None:
        return self.space(ns).etc.get(name)

    def write_etc(self, ns: str, name: str, content: str) -> None:
        self.space(ns).etc[name] = content

    def delete_etc(self, ns: str, name: str) -> None:
        self.space(ns).etc.pop(name, None)

    def fingerprint(self, ns: str) -> str:
        space = self.space(ns)
        text = self.firewall.save(ns) + self.firewall.save(ns, family="ipv6") + "".join(sorted(space.nft.values()))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def write_nft(self, ns: str, text: str) -> None:
        """As nft_tables.write: the text's tables, and none of another family under their names."""
        space = self.space(ns)
        blocks = {m.group(1): m.group(0) for m in re.finditer(r"^table (\S+ \S+) \{\n.*?^\}\n?", text, re.M | re.S)}
        names = {t.split()[1] for t in blocks}
        space.nft = {t: v for t, v in space.nft.items() if t.split()[1] not in names}
        space.nft.update(blocks)

    def read_nft(self, ns: str, tables: list[str]) -> str:
        space = self.space(ns)
        return "".join(space.nft[t] for t in tables if t in space.nft)

    def read_uts(self, name: str) -> tuple[str, str] | None:
        return self.uts.get(name)

    def machine_uts(self) -> tuple[str, str]:
        return MACHINE_UTS

    def create_uts(self, name: str, hostname: str | None, domainname: str | None) -> None:
        # a new namespace starts as a copy of the machine's; an existing pin is renamed
        self.write_uts(name, hostname, domainname)

    def write_uts(self, name: str, hostname: str | None, domainname: str | None) -> None:
        self.uts[name] = (hostname if hostname is not None else MACHINE_UTS[0], domainname or MACHINE_UTS[1])

    def delete_uts(self, name: str) -> None:
        self.uts.pop(name, None)

    def delete_nft(self, ns: str, tables: list[str]) -> None:
        for table in tables:
            self.space(ns).nft.pop(table, None)
