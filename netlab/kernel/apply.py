"""Observe a lab's namespaces, then carry out the changes a diff asks for."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from ..plan.diff import Change, LinkView, Observed, canonical_iptables
from ..plan.items import Address, Bridge, EtcFile, Firewall, Netns, Process, Route, Sysctl, Veth
from ..plan.items import Fdb, Macvlan, Neighbour, Vlan, Vxlan
from ..plan.plan import Plan
from ..model import naming
from . import iptables, netns, nft_dump
from .links import Netlink
from .observe import read_netns
from .observe_l2 import read_l2


def observe(nl: Netlink, desired: Plan, previous: Plan | None, agent: dict, flavour: str = "nft",
            prints: dict[str, str] | None = None) -> Observed:
    """`agent`: what the lab's agent reports ({"processes": ..., "proxies": ...}), {} if it is down.
    `prints`: nftables fingerprints taken when `previous` was written; a namespace whose
    fingerprint still matches holds `previous`'s rules, and needs no iptables-save."""
    prints = prints or {}
    seen = Observed(processes=agent.get("processes", {}), proxies=agent.get("proxies", set()),
                    dns=agent.get("dns", {}))
    lab = desired.lab
    items = list(desired.items) + (list(previous.items) if previous else [])
    names = {i.name for i in items if isinstance(i, Netns)}
    adopted = {i.name for i in items if isinstance(i, Netns) and i.adopted}   # --in-place: unmarked
    for ns in sorted(names):
        if not netns.exists(ns):
            netns.clear_stale(ns)   # only names this lab planned reach here
            continue
        state = read_netns(ns)
        if ns not in adopted and state.marked != naming.owner_mark(lab):
            seen.foreign[ns] = f"its lo is marked {state.marked!r}" if state.marked else "it has no netlab mark"
            continue
        seen.netns.add(ns)
        for name, link in state.links.items():
            seen.links[(ns, name)] = LinkView(link.kind, link.mtu, link.mac, link.master, link.up, link.hairpin)
        seen.addresses |= {(ns, dev, cidr) for dev, cidr in state.addresses}
        seen.routes.update({(ns, dst): v for dst, v in state.routes.items()})
    for ns in sorted({i.netns for i in items if isinstance(i, (Vxlan, Macvlan, Vlan, Neighbour, Fdb))}
                     & seen.netns):
        links, neighbours, fdb = read_l2(nl, ns)
        seen.link_data.update({(ns, name): settings for name, settings in links.items()})
        seen.neighbours |= {(ns, *entry) for entry in neighbours}
        seen.fdb |= {(ns, *entry) for entry in fdb}
    for item in desired.items:
        ns = getattr(item, "netns", None)
        if ns not in seen.netns:
            continue
        if isinstance(item, Sysctl):
            seen.sysctls[(ns, item.path)] = netns.read_sysctl(ns, item.path)
        elif isinstance(item, EtcFile):
            try:
                with open(f"{netns.etc_dir(ns)}/{item.name}") as f:
                    seen.etc[(ns, item.name)] = f.read()
            except OSError:
                seen.etc[(ns, item.name)] = None
    walls = [i.netns for i in desired.of(Firewall) if i.netns in seen.netns]
    written = {i.netns: i.text for i in previous.of(Firewall)} if previous else {}
    unchanged = {ns for ns in walls if ns in prints and ns in written and nft_dump.fingerprint(ns) == prints[ns]}
    for ns in unchanged:
        seen.firewall[ns] = canonical_iptables(written[ns])
        seen.firewall_prints[ns] = prints[ns]
    for ns, text in iptables.save_many([ns for ns in walls if ns not in unchanged], flavour).items():
        seen.firewall[ns] = canonical_iptables(text)
    return seen


def firewall_prints(plan: Plan, flavour: str, known: dict[str, str]) -> dict[str, str]:
    """Fingerprints of the plan's rule sets as they now are: `known` ones (checked unchanged
    this run) are kept, the rest read. nft only: legacy rules are not in nftables."""
    if flavour != "nft":
        return {}
    return {i.netns: known.get(i.netns) or nft_dump.fingerprint(i.netns)
            for i in plan.of(Firewall) if netns.exists(i.netns)}


BACKGROUND = (Firewall, EtcFile)
FILE_WRITERS = 16       # each write waits on the filesystem's journal (~1 ms here); many overlap


class Executor:
    """Carries out changes in order; processes are handed to the agent afterwards."""

    def __init__(self, nl: Netlink, lab: str, firewall_flavour: str = "nft"):
        self.nl = nl
        self.lab = lab
        self.mark = naming.owner_mark(lab)
        self.flavour = firewall_flavour

    def run(self, change: Change) -> None:
        item = change.item
        getattr(self, f"_{change.action}_{item.kind}")(item)

    def run_all(self, changes: list[Change], before_step=lambda step: None) -> None:
        """In order, except rule sets and /etc/netns files: they depend only on their
        namespace (iptables names interfaces, it does not need them), so each is written in
        the background as soon as its namespace exists, and the iptables-restore processes
        and the journal-bound file writes overlap the netlink work. All are written before
        this returns; the first failure is raised then. `before_step` is called with each
        change's index first."""
        later: dict[str, list[Change]] = {}
        for change in changes:
            if isinstance(change.item, BACKGROUND) and change.action != "delete":
                later.setdefault(change.item.netns, []).append(change)
        made = {c.item.name for c in changes if isinstance(c.item, Netns) and c.action != "delete"}
        with iptables.Restorer(self.flavour) as restorer, ThreadPoolExecutor(FILE_WRITERS) as files:
            written = []

            def start(ns: str) -> None:
                for change in later.pop(ns, []):
                    if isinstance(change.item, Firewall) and change.action == "create":
                        restorer.submit(iptables.restore, ns, change.item.text)
                    elif isinstance(change.item, Firewall):
                        restorer.submit(iptables.replace, ns, change.item.text, clear=self._own_tables(ns))
                    else:
                        written.append(files.submit(self.run, change))

            for ns in [ns for ns in later if ns not in made]:
                start(ns)
            for step, change in enumerate(changes):
                before_step(step)
                if isinstance(change.item, BACKGROUND) and change.action != "delete":
                    continue
                self.run(change)
                if isinstance(change.item, Netns) and change.action != "delete":
                    start(change.item.name)
            errors = [e for e in (f.exception() for f in written) if e is not None]
            if errors:
                raise errors[0]

    # ---- create / update ------------------------------------------------------------
    def _create_netns(self, item: Netns) -> None:
        if item.adopted:
            netns.adopt(item.name)      # --in-place: pin the namespace we run in; its lo stays as it is
            return
        netns.create(item.name, self.mark)

    def _create_bridge(self, item: Bridge) -> None:
        self.nl.add_bridge(item.netns, item.name, item.mac, item.mtu, self.mark)

    def _update_bridge(self, item: Bridge) -> None:
        attrs = {"state": "up"}
        if item.mac:
            attrs["address"] = item.mac
        if item.mtu:
            attrs["mtu"] = item.mtu
        self.nl.set_link(item.netns, item.name, **attrs)

    def _recreate_bridge(self, item: Bridge) -> None:
        self.nl.delete_link(item.netns, item.name)
        self._create_bridge(item)

    def _create_veth(self, item: Veth) -> None:
        self.nl.add_veth(item.netns, item.name, item.peer_netns, item.peer_name, mtu=item.mtu,
                         master=item.master, mac=item.mac, peer_mac=item.peer_mac, alias=self.mark)
        if item.hairpin:
            self.nl.set_hairpin(item.netns, item.name, True)

    def _update_veth(self, item: Veth) -> None:
        self.nl.set_link(item.netns, item.name, mtu=item.mtu, state="up",
                         **({"master": item.master} if item.master else {}))
        peer = {"mtu": item.mtu, "state": "up"}
        if item.peer_mac:
            peer["address"] = item.peer_mac
        self.nl.set_link(item.peer_netns, item.peer_name, **peer)
        if item.master:
            self.nl.set_hairpin(item.netns, item.name, item.hairpin)

    def _recreate_veth(self, item: Veth) -> None:
        self.nl.delete_link(item.netns, item.name)
        self.nl.delete_link(item.peer_netns, item.peer_name)
        self.nl.drop_index(item.peer_netns, item.peer_name)
        self._create_veth(item)

    def _create_address(self, item: Address) -> None:
        self.nl.add_address(item.netns, item.dev, item.cidr)

    def _create_route(self, item: Route) -> None:
        self.nl.replace_route(item.netns, item.dst, item.gateway, item.dev)

    _update_route = _create_route

    def _update_sysctl(self, item: Sysctl) -> None:
        netns.write_sysctl(item.netns, item.path, item.value)

    _create_sysctl = _update_sysctl

    def _create_firewall(self, item: Firewall) -> None:
        iptables.restore(item.netns, item.text, self.flavour)

    def _update_firewall(self, item: Firewall) -> None:
        iptables.replace(item.netns, item.text, self.flavour, clear=self._own_tables(item.netns))

    def _own_tables(self, ns: str) -> set[str] | None:
        """Tables an update may empty: all in a namespace the lab made (marked); in an adopted
        one (--in-place: a VM's own) only those the new rule set names."""
        return None if read_netns(ns).marked == self.mark else set()

    def _update_etcfile(self, item: EtcFile) -> None:
        d = netns.etc_dir(item.netns)
        os.makedirs(d, exist_ok=True)
        tmp = f"{d}/.{item.name}.tmp"
        with open(tmp, "w") as f:
            f.write(item.content)
        os.replace(tmp, f"{d}/{item.name}")

    _create_etcfile = _update_etcfile

    def _create_process(self, item: Process) -> None:
        pass   # the agent starts it once the state file names it

    _recreate_process = _create_process

    # ---- delete -------------------------------------------------------------------------
    def _delete_netns(self, item: Netns) -> None:
        self.nl.forget(item.name)
        netns.delete(item.name)
        remove_etc(item.name)

    def _delete_bridge(self, item: Bridge) -> None:
        self.nl.delete_link(item.netns, item.name)

    def _delete_veth(self, item: Veth) -> None:
        self.nl.delete_link(item.netns, item.name)
        self.nl.drop_index(item.peer_netns, item.peer_name)

    def _delete_address(self, item: Address) -> None:
        self.nl.delete_address(item.netns, item.dev, item.cidr)

    def _delete_route(self, item: Route) -> None:
        self.nl.delete_route(item.netns, item.dst)

    def _delete_sysctl(self, item: Sysctl) -> None:
        pass   # a value left as it is harms nothing; Docker does not reset them either

    def _delete_firewall(self, item: Firewall) -> None:
        # the diff asks only while the namespace stays (its host no longer wants Docker's rules)
        iptables.replace(item.netns, "", self.flavour, clear=set(iptables.tables_of(item.text)))

    def _delete_etcfile(self, item: EtcFile) -> None:
        try:
            os.unlink(f"{netns.etc_dir(item.netns)}/{item.name}")
        except FileNotFoundError:
            pass

    def _delete_process(self, item: Process) -> None:
        pass   # the agent stops what the state file no longer names

    _create_proxy = _delete_proxy = _create_process
    # the embedded DNS is the agent's: it takes the new plan when `up` signals it
    _create_resolver = _update_resolver = _delete_resolver = _create_process
    _create_dnsnames = _update_dnsnames = _delete_dnsnames = _create_process
    _create_standin_dns = _update_standin_dns = _delete_standin_dns = _create_process

    # ---- VXLAN, macvlan, VLAN links and the overlay's static entries -----------------------
    def _create_vxlan(self, item: Vxlan) -> None:
        self.nl.add_vxlan(item.host_netns, item.netns, item.name, vni=item.vni, local=item.local,
                          port=item.port, learning=item.learning, proxy=item.proxy, mtu=item.mtu,
                          master=item.master, alias=self.mark)

    def _create_macvlan(self, item: Macvlan) -> None:
        self.nl.add_macvlan(item.netns, item.name, item.parent_netns, item.parent, mode=item.mode,
                            mac=item.mac, mtu=item.mtu, alias=self.mark)

    def _create_vlan(self, item: Vlan) -> None:
        self.nl.add_vlan(item.netns, item.name, item.parent, item.vid, self.mark)

    def _update_l2_link(self, item: Vxlan | Macvlan | Vlan) -> None:
        attrs = {"state": "up"}
        for key in ("mtu", "master"):
            if getattr(item, key, None):
                attrs[key] = getattr(item, key)
        if getattr(item, "mac", None):
            attrs["address"] = item.mac
        self.nl.set_link(item.netns, item.name, **attrs)

    def _recreate_l2_link(self, item: Vxlan | Macvlan | Vlan) -> None:
        self.nl.delete_link(item.netns, item.name)
        getattr(self, f"_create_{item.kind}")(item)

    def _delete_l2_link(self, item: Vxlan | Macvlan | Vlan) -> None:
        self.nl.delete_link(item.netns, item.name)

    _update_vxlan = _update_macvlan = _update_vlan = _update_l2_link
    _recreate_vxlan = _recreate_macvlan = _recreate_vlan = _recreate_l2_link
    _delete_vxlan = _delete_macvlan = _delete_vlan = _delete_l2_link

    def _create_neighbour(self, item: Neighbour) -> None:
        self.nl.set_neighbour(item.netns, item.dev, item.ip, item.mac)

    def _delete_neighbour(self, item: Neighbour) -> None:
        self.nl.delete_neighbour(item.netns, item.dev, item.ip)

    def _create_fdb(self, item: Fdb) -> None:
        self.nl.set_fdb(item.netns, item.dev, item.mac, item.dst)

    def _delete_fdb(self, item: Fdb) -> None:
        self.nl.delete_fdb(item.netns, item.dev, item.mac, item.dst)


def remove_etc(ns: str) -> None:
    d = netns.etc_dir(ns)
    # a temporary file too: an `up` killed between writing one and renaming it leaves it
    for name in ("hosts", "resolv.conf", ".hosts.tmp", ".resolv.conf.tmp"):
        try:
            os.unlink(f"{d}/{name}")
        except FileNotFoundError:
            pass
    try:
        os.rmdir(d)
    except OSError:
        pass
