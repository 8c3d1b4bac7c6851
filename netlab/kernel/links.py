"""The only pyroute2 writer: links, addresses, routes, bridge ports, in lab namespaces.

One netlink socket per namespace, opened inside it and kept for the whole run."""
from __future__ import annotations

import os
import socket

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from ..errors import KernelError
from . import netns

NUD_PERMANENT = 0x80
NTF_SELF = 0x02
ENOENT, ENODEV = 2, 19
IFA_F_NODAD = 0x02


def _family(addr: str) -> dict[str, int]:
    """pyroute2's family for an address or CIDR: IPv6 when it has a colon."""
    return {"family": socket.AF_INET6 if ":" in addr else socket.AF_INET}


def _route_dst(dst: str) -> str:
    return "0.0.0.0/0" if dst == "default" else dst


class Netlink:
    """Every request is a kernel round trip, so interface indexes are remembered for the run
    and links are addressed by name where the kernel allows it (RTM_SETLINK does)."""

    def __init__(self):
        self._sockets: dict[str, IPRoute] = {}
        self._indexes: dict[tuple[str, str], int] = {}

    def ipr(self, ns: str) -> IPRoute:
        sock = self._sockets.get(ns)
        if sock is None:
            with netns.entered(ns):
                sock = IPRoute()
            self._sockets[ns] = sock
        return sock

    def forget(self, ns: str) -> None:
        sock = self._sockets.pop(ns, None)
        if sock is not None:
            sock.close()
        for key in [k for k in self._indexes if k[0] == ns]:
            del self._indexes[key]

    def close(self) -> None:
        for ns in list(self._sockets):
            self.forget(ns)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def index(self, ns: str, ifname: str) -> int | None:
        idx = self._indexes.get((ns, ifname))
        if idx is None:
            found = self.ipr(ns).link_lookup(ifname=ifname)
            if not found:
                return None
            idx = self._indexes[(ns, ifname)] = found[0]
        return idx

    def _index(self, ns: str, ifname: str) -> int:
        idx = self.index(ns, ifname)
        if idx is None:
            raise KernelError(f"{ns}: interface {ifname} not found")
        return idx

    # ---- links -----------------------------------------------------------------------
    def add_bridge(self, ns: str, name: str, mac: str | None, mtu: int | None, alias: str) -> None:
        kw = {"address": mac} if mac else {}
        if mtu:
            kw["mtu"] = mtu
        self.ipr(ns).link("add", ifname=name, kind="bridge", state="up", **kw)
        self.set_link(ns, name, ifalias=alias)

    def add_veth(self, ns: str, name: str, peer_ns: str, peer_name: str, *, mtu: int,
                 master: str | None, mac: str | None, peer_mac: str | None, alias: str) -> None:
        fd = os.open(netns.path(peer_ns), os.O_RDONLY)
        try:
            peer = {"ifname": peer_name, "net_ns_fd": fd, "mtu": mtu}
            if peer_mac:
                peer["address"] = peer_mac
            kw = {"address": mac} if mac else {}
            if master:
                kw["master"] = self._index(ns, master)
            self.ipr(ns).link("add", ifname=name, kind="veth", mtu=mtu, state="up", peer=peer, **kw)
        finally:
            os.close(fd)
        self.set_link(ns, name, ifalias=alias)
        self.set_link(peer_ns, peer_name, state="up", ifalias=alias)

    def set_link(self, ns: str, name: str, **attrs) -> None:
        if "master" in attrs and isinstance(attrs["master"], str):
            attrs["master"] = self._index(ns, attrs["master"])
        try:
            self.ipr(ns).link("set", ifname=name, **attrs)
        except NetlinkError as e:
            if e.code == ENODEV:
                raise KernelError(f"{ns}: interface {name} not found") from None
            raise

    def set_hairpin(self, ns: str, name: str, on: bool) -> None:
        self.ipr(ns).brport("set", index=self._index(ns, name), mode=1 if on else 0)

    def drop_index(self, ns: str, name: str) -> None:
        """A link that went away with its veth peer."""
        self._indexes.pop((ns, name), None)

    def delete_link(self, ns: str, name: str) -> None:
        idx = self.index(ns, name)
        self._indexes.pop((ns, name), None)
        if idx is not None:
            try:
                self.ipr(ns).link("del", index=idx)
            except NetlinkError as e:
                if e.code != 19:     # ENODEV: already gone with its peer
                    raise

    def add_vxlan(self, host_ns: str, ns: str, name: str, *, vni: int, local: str, port: int,
                  learning: bool, proxy: bool, mtu: int, master: str | None, alias: str) -> None:
        """Made from the host namespace straight into `ns`: the device lives in `ns` but its
        UDP socket is opened in the namespace it was made from, the host's (on the underlay)."""
        fd = os.open(netns.path(ns), os.O_RDONLY)
        try:
            self.ipr(host_ns).link("add", ifname=name, kind="vxlan", vxlan_id=vni, vxlan_local=local,
                                   vxlan_port=port, vxlan_learning=int(learning), vxlan_proxy=int(proxy),
                                   mtu=mtu, net_ns_fd=fd)
        finally:
            os.close(fd)
        self.set_link(ns, name, state="up", ifalias=alias, **({"master": master} if master else {}))

    def add_macvlan(self, ns: str, name: str, parent_ns: str, parent: str, *, mode: str, mac: str | None,
                    mtu: int, alias: str) -> None:
        """Made on the parent and, when `ns` is another namespace, straight into it. The MAC
        is set afterwards, as Docker does: in passthru mode the kernel writes it to the parent."""
        kw = {}
        fd = None
        if ns != parent_ns:
            fd = os.open(netns.path(ns), os.O_RDONLY)
            kw["net_ns_fd"] = fd
        try:
            self.ipr(parent_ns).link("add", ifname=name, kind="macvlan", link=self._index(parent_ns, parent),
                                     macvlan_mode=mode, mtu=mtu, **kw)
        finally:
            if fd is not None:
                os.close(fd)
        self.set_link(ns, name, state="up", ifalias=alias, **({"address": mac} if mac else {}))

    def add_vlan(self, ns: str, name: str, parent: str, vid: int, alias: str) -> None:
        self.ipr(ns).link("add", ifname=name, kind="vlan", link=self._index(ns, parent), vlan_id=vid)
        self.set_link(ns, name, state="up", ifalias=alias)

    def set_neighbour(self, ns: str, dev: str, ip: str, mac: str) -> None:
        """A permanent entry in the ARP table, or, for an IPv6 address, the NDP one."""
        self.ipr(ns).neigh("replace", dst=ip, lladdr=mac, ifindex=self._index(ns, dev), state=NUD_PERMANENT,
                           **_family(ip))

    def delete_neighbour(self, ns: str, dev: str, ip: str) -> None:
        idx = self.index(ns, dev)
        if idx is not None:
            try:
                self.ipr(ns).neigh("del", dst=ip, ifindex=idx, **_family(ip))
            except NetlinkError as e:
                if e.code not in (ENOENT, ENODEV):
                    raise

    def set_fdb(self, ns: str, dev: str, mac: str, dst: str) -> None:
        """`bridge fdb replace MAC dev DEV dst DST self permanent`: on the VXLAN device itself."""
        self.ipr(ns).fdb("replace", ifindex=self._index(ns, dev), lladdr=mac, dst=dst,
                         state=NUD_PERMANENT, flags=NTF_SELF)

    def delete_fdb(self, ns: str, dev: str, mac: str, dst: str) -> None:
        idx = self.index(ns, dev)
        if idx is not None:
            try:
                self.ipr(ns).fdb("del", ifindex=idx, lladdr=mac, dst=dst, flags=NTF_SELF)
            except NetlinkError as e:
                if e.code not in (ENOENT, ENODEV):
                    raise

    # ---- addresses and routes ------------------------------------------------------------
    def add_address(self, ns: str, dev: str, cidr: str) -> None:
        addr, _, plen = cidr.partition("/")
        try:
            # IPv6 without duplicate address detection, as libnetwork's setInterfaceIPv6: a
            # tentative address could not be pinged from for the first second
            kw = {"flags": IFA_F_NODAD} if ":" in addr else {}
            self.ipr(ns).addr("add", index=self._index(ns, dev), address=addr, prefixlen=int(plen),
                              **_family(addr), **kw)
        except NetlinkError as e:
            if e.code != 17:         # EEXIST: already there, which is what we want
                raise

    def delete_address(self, ns: str, dev: str, cidr: str) -> None:
        addr, _, plen = cidr.partition("/")
        idx = self.index(ns, dev)
        if idx is not None:
            try:
                self.ipr(ns).addr("del", index=idx, address=addr, prefixlen=int(plen), **_family(addr))
            except NetlinkError as e:
                if e.code != 99:     # EADDRNOTAVAIL
                    raise

    def replace_route(self, ns: str, dst: str, gateway: str | None, dev: str) -> None:
        kw = {"gateway": gateway} if gateway else {}
        self.ipr(ns).route("replace", dst=_route_dst(dst), oif=self._index(ns, dev), **_family(dst), **kw)

    def delete_route(self, ns: str, dst: str) -> None:
        try:
            self.ipr(ns).route("del", dst=_route_dst(dst), **_family(dst))
        except NetlinkError as e:
            if e.code != 3:          # ESRCH
                raise
