"""What apply does for each (action, item class): one function each, listed in `table()`.

Every function takes the Executor (its kernel `k`, netlink `nl` and the lab's `mark`) and the
item; all writes go through `ops.KernelOps`."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..plan.item import Item
from ..plan.items import (
    LINK_ITEMS,
    SERVED_ITEMS,
    Address,
    Bridge,
    EtcFile,
    Fdb,
    Firewall,
    Macvlan,
    Neighbour,
    Netns,
    NftRuleset,
    Process,
    Proxy,
    Route,
    Sysctl,
    Uts,
    Veth,
    Vlan,
    Vxlan,
)
from .firewall.text import tables_of

if TYPE_CHECKING:
    from .apply import Executor


# ---- namespaces ---------------------------------------------------------------------------
def create_netns(ex: Executor, item: Netns) -> None:
    if item.adopted:
        ex.k.adopt_netns(item.name)      # --in-place: pin the namespace we run in; its lo stays as it is
        return
    ex.k.create_netns(item.name, ex.mark)


def delete_netns(ex: Executor, item: Netns) -> None:
    ex.k.delete_netns(item.name)


# ---- bridges and veths ----------------------------------------------------------------------
def create_bridge(ex: Executor, item: Bridge) -> None:
    ex.nl.add_bridge(item.netns, item.name, item.mac, item.mtu, ex.mark)


def update_bridge(ex: Executor, item: Bridge) -> None:
    attrs: dict[str, Any] = {"state": "up"}
    if item.mac:
        attrs["address"] = item.mac
    if item.mtu:
        attrs["mtu"] = item.mtu
    ex.nl.set_link(item.netns, item.name, **attrs)


def recreate_bridge(ex: Executor, item: Bridge) -> None:
    ex.nl.delete_link(item.netns, item.name)
    create_bridge(ex, item)


def delete_link(ex: Executor, item: Bridge | Vxlan | Macvlan | Vlan) -> None:
    ex.nl.delete_link(item.netns, item.name)


def create_veth(ex: Executor, item: Veth) -> None:
    ex.nl.add_veth(item.netns, item.name, item.peer_netns, item.peer_name, mtu=item.mtu,
                   master=item.master, mac=item.mac, peer_mac=item.peer_mac, alias=ex.mark)
    if item.hairpin:
        ex.nl.set_hairpin(item.netns, item.name, True)


def update_veth(ex: Executor, item: Veth) -> None:
    ex.nl.set_link(item.netns, item.name, mtu=item.mtu, state="up",
                   **({"master": item.master} if item.master else {}))
    peer: dict[str, Any] = {"mtu": item.mtu, "state": "up"}
    if item.peer_mac:
        peer["address"] = item.peer_mac
    ex.nl.set_link(item.peer_netns, item.peer_name, **peer)
    if item.master:
        ex.nl.set_hairpin(item.netns, item.name, item.hairpin)


def recreate_veth(ex: Executor, item: Veth) -> None:
    ex.nl.delete_link(item.netns, item.name)
    ex.nl.delete_link(item.peer_netns, item.peer_name)
    ex.nl.drop_index(item.peer_netns, item.peer_name)
    create_veth(ex, item)


def delete_veth(ex: Executor, item: Veth) -> None:
    ex.nl.delete_link(item.netns, item.name)
    ex.nl.drop_index(item.peer_netns, item.peer_name)


# ---- VXLAN, macvlan, VLAN links and the overlay's static entries ------------------------------
def create_vxlan(ex: Executor, item: Vxlan) -> None:
    ex.nl.add_vxlan(item.host_netns, item.netns, item.name, vni=item.vni, local=item.local,
                    port=item.port, learning=item.learning, proxy=item.proxy, mtu=item.mtu,
                    master=item.master, alias=ex.mark)


def create_macvlan(ex: Executor, item: Macvlan) -> None:
    ex.nl.add_macvlan(item.netns, item.name, item.parent_netns, item.parent, mode=item.mode,
                      mac=item.mac, mtu=item.mtu, alias=ex.mark)


def create_vlan(ex: Executor, item: Vlan) -> None:
    ex.nl.add_vlan(item.netns, item.name, item.parent, item.vid, ex.mark)


def update_l2_link(ex: Executor, item: Vxlan | Macvlan | Vlan) -> None:
    attrs: dict[str, Any] = {"state": "up"}
    for key in ("mtu", "master"):
        if getattr(item, key, None):
            attrs[key] = getattr(item, key)
    mac = getattr(item, "mac", None)      # a Vlan has none
    if mac:
        attrs["address"] = mac
    ex.nl.set_link(item.netns, item.name, **attrs)


def recreate_l2_link(ex: Executor, item: Vxlan | Macvlan | Vlan) -> None:
    ex.nl.delete_link(item.netns, item.name)
    CREATE_L2[type(item)](ex, item)


CREATE_L2: dict[type[Item], Callable[[Executor, Any], None]] = {
    Vxlan: create_vxlan, Macvlan: create_macvlan, Vlan: create_vlan}


def create_neighbour(ex: Executor, item: Neighbour) -> None:
    ex.nl.set_neighbour(item.netns, item.dev, item.ip, item.mac)


def delete_neighbour(ex: Executor, item: Neighbour) -> None:
    ex.nl.delete_neighbour(item.netns, item.dev, item.ip)


def create_fdb(ex: Executor, item: Fdb) -> None:
    ex.nl.set_fdb(item.netns, item.dev, item.mac, item.dst)


def delete_fdb(ex: Executor, item: Fdb) -> None:
    ex.nl.delete_fdb(item.netns, item.dev, item.mac, item.dst)


# ---- addresses, routes, sysctls ---------------------------------------------------------------
def create_address(ex: Executor, item: Address) -> None:
    ex.nl.add_address(item.netns, item.dev, item.cidr)


def delete_address(ex: Executor, item: Address) -> None:
    ex.nl.delete_address(item.netns, item.dev, item.cidr)


def replace_route(ex: Executor, item: Route) -> None:
    ex.nl.replace_route(item.netns, item.dst, item.gateway, item.dev)


def delete_route(ex: Executor, item: Route) -> None:
    ex.nl.delete_route(item.netns, item.dst)


def write_sysctl(ex: Executor, item: Sysctl) -> None:
    ex.k.write_sysctl(item.netns, item.path, item.value)


# ---- rule sets and files ------------------------------------------------------------------------
def create_firewall(ex: Executor, item: Firewall) -> None:
    if item.text:       # an nftables engine's (empty) iptables: nothing to write in a new namespace
        ex.k.firewall.restore(item.netns, item.text, item.family)


def update_firewall(ex: Executor, item: Firewall) -> None:
    ex.k.firewall.replace(item.netns, item.text, clear=ex.own_tables(item.netns, item.family), family=item.family)


def delete_firewall(ex: Executor, item: Firewall) -> None:
    # the diff asks only while the namespace stays (its host no longer wants Docker's rules,
    # or its engine writes no ip6tables): exactly the tables the lab wrote go
    ex.k.firewall.replace(item.netns, "", clear=set(tables_of(item.text)), family=item.family)


def write_nftables(ex: Executor, item: NftRuleset) -> None:
    """Created or replaced alike: one transaction swaps the tables (kernel/nft_tables.py)."""
    ex.k.write_nft(item.netns, item.text)


def delete_nftables(ex: Executor, item: NftRuleset) -> None:
    ex.k.delete_nft(item.netns, list(item.tables()))


def write_etcfile(ex: Executor, item: EtcFile) -> None:
    ex.k.write_etc(item.netns, item.name, item.content)


def delete_etcfile(ex: Executor, item: EtcFile) -> None:
    ex.k.delete_etc(item.netns, item.name)


# ---- UTS namespaces -----------------------------------------------------------------------------
def create_uts(ex: Executor, item: Uts) -> None:
    ex.k.create_uts(item.name, item.hostname, item.domainname or None)


def update_uts(ex: Executor, item: Uts) -> None:
    ex.k.write_uts(item.name, item.hostname, item.domainname or None)


def delete_uts(ex: Executor, item: Uts) -> None:
    ex.k.delete_uts(item.name)


def nothing(ex: Executor, item: Item) -> None:
    """The agent's items: it starts and stops processes and proxies, and takes the new DNS
    tables, once the state file names them. A sysctl left as it is on delete harms nothing
    (Docker does not reset them either)."""


def table() -> dict[tuple[str, type[Item]], Callable[[Executor, Any], None]]:
    """(action, item class) -> what apply does: every pair plan/diff.py can produce."""
    out: dict[tuple[str, type[Item]], Callable[[Executor, Any], None]] = {
        ("create", Netns): create_netns, ("delete", Netns): delete_netns,
        ("create", Bridge): create_bridge, ("update", Bridge): update_bridge,
        ("recreate", Bridge): recreate_bridge, ("delete", Bridge): delete_link,
        ("create", Veth): create_veth, ("update", Veth): update_veth,
        ("recreate", Veth): recreate_veth, ("delete", Veth): delete_veth,
        ("create", Neighbour): create_neighbour, ("delete", Neighbour): delete_neighbour,
        ("create", Fdb): create_fdb, ("delete", Fdb): delete_fdb,
        ("create", Address): create_address, ("delete", Address): delete_address,
        ("create", Route): replace_route, ("update", Route): replace_route, ("delete", Route): delete_route,
        ("create", Sysctl): write_sysctl, ("update", Sysctl): write_sysctl, ("delete", Sysctl): nothing,
        ("create", Firewall): create_firewall, ("update", Firewall): update_firewall,
        ("delete", Firewall): delete_firewall,
        ("create", NftRuleset): write_nftables, ("update", NftRuleset): write_nftables,
        ("delete", NftRuleset): delete_nftables,
        ("create", EtcFile): write_etcfile, ("update", EtcFile): write_etcfile, ("delete", EtcFile): delete_etcfile,
        ("create", Uts): create_uts, ("update", Uts): update_uts, ("delete", Uts): delete_uts,
        ("create", Process): nothing, ("recreate", Process): nothing, ("delete", Process): nothing,
        ("create", Proxy): nothing, ("delete", Proxy): nothing,
    }
    for cls in LINK_ITEMS:
        out.update({("create", cls): CREATE_L2[cls], ("update", cls): update_l2_link,
                    ("recreate", cls): recreate_l2_link, ("delete", cls): delete_link})
    for served in SERVED_ITEMS:
        out.update({("create", served): nothing, ("update", served): nothing, ("delete", served): nothing})
    return out
