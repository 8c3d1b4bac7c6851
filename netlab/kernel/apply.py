"""Observe a lab's namespaces, then carry out the changes a diff asks for.

Both go through `ops.KernelOps` (the real kernel, or the unit tests' fake). Each
(action, item class) a diff can produce has one entry in DISPATCH, checked by
tests/unit/test_apply_dispatch.py, so a missing one fails a test rather than an `up`."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..model import naming
from ..plan.diff import NFTABLES, Change, LinkView, Observed, canonical
from ..plan.item import Item
from ..plan.items import EtcFile, Fdb, Firewall, Macvlan, Neighbour, Netns, NftRuleset, Sysctl, Uts, Vlan, Vxlan
from ..plan.plan import Plan
from . import handlers
from .firewall.backend import FAMILIES, PARALLEL, Restorer
from .firewall.text import tables_of
from .ops import KernelOps
from .system import remove_etc

__all__ = ["DISPATCH", "Executor", "firewall_prints", "observe", "remove_etc"]

L2_ITEMS = (Vxlan, Macvlan, Vlan, Neighbour, Fdb)


def observe(k: KernelOps, desired: Plan, previous: Plan | None, agent: dict[str, Any],
            prints: dict[str, str] | None = None) -> Observed:
    """`agent`: what the lab's agent reports ({"processes": ..., "proxies": ...}), {} if it is down.
    `prints`: nftables fingerprints taken when `previous` was written; a namespace whose
    fingerprint still matches holds `previous`'s rules, and needs no iptables-save (nor
    ip6tables-save, nor nft)."""
    seen = Observed(processes=agent.get("processes", {}), proxies=agent.get("proxies", set()),
                    dns=agent.get("dns", {}))
    items = list(desired.items) + (list(previous.items) if previous else [])
    _observe_links(k, desired.lab, items, seen)
    for ns in sorted({i.netns for i in items if isinstance(i, L2_ITEMS)} & seen.netns):
        links, neighbours, fdb = k.read_l2(ns)
        seen.link_data.update({(ns, name): settings for name, settings in links.items()})
        seen.neighbours |= {(ns, *entry) for entry in neighbours}
        seen.fdb |= {(ns, *entry) for entry in fdb}
    for item in desired.items:
        if isinstance(item, Sysctl) and item.netns in seen.netns:
            seen.sysctls[(item.netns, item.path)] = k.read_sysctl(item.netns, item.path)
        elif isinstance(item, EtcFile) and item.netns in seen.netns:
            seen.etc[(item.netns, item.name)] = k.read_etc(item.netns, item.name)
    _observe_firewall(k, desired, previous, prints or {}, seen)
    if any(isinstance(i, Uts) for i in items):
        seen.machine_uts = k.machine_uts()
    for name in sorted({i.name for i in items if isinstance(i, Uts)}):
        names = k.read_uts(name)
        if names is not None:
            seen.uts[name] = names
    return seen


def _observe_links(k: KernelOps, lab: str, items: list[Item], seen: Observed) -> None:
    names = {i.name for i in items if isinstance(i, Netns)}
    adopted = {i.name for i in items if isinstance(i, Netns) and i.adopted}   # --in-place: unmarked
    for ns in sorted(names):
        if not k.exists(ns):
            k.clear_stale(ns)   # only names this lab planned reach here
            continue
        state = k.read_netns(ns)
        if ns not in adopted and state.marked != naming.owner_mark(lab):
            seen.foreign[ns] = f"its lo is marked {state.marked!r}" if state.marked else "it has no netlab mark"
            continue
        seen.netns.add(ns)
        for name, link in state.links.items():
            seen.links[(ns, name)] = LinkView(kind=link.kind, mtu=link.mtu, mac=link.mac, master=link.master,
                                              up=link.up, hairpin=link.hairpin)
        seen.addresses |= {(ns, dev, cidr) for dev, cidr in state.addresses}
        seen.routes.update({(ns, dst): v for dst, v in state.routes.items()})


def _rule_sets(plan: Plan | None) -> dict[tuple[str, str], Firewall | NftRuleset]:
    """(netns, "ipv4" | "ipv6" | "nftables") -> the plan's rule set there."""
    out: dict[tuple[str, str], Firewall | NftRuleset] = {}
    for item in plan.items if plan else ():
        if isinstance(item, Firewall):
            out[(item.netns, item.family)] = item
        elif isinstance(item, NftRuleset):
            out[(item.netns, NFTABLES)] = item
    return out


def _observe_firewall(k: KernelOps, desired: Plan, previous: Plan | None, prints: dict[str, str],
                      seen: Observed) -> None:
    """Each namespace's iptables and ip6tables rules and its engine's nftables tables: read
    (iptables-save, ip6tables-save, nft list table), or, when its fingerprint is as `previous`
    left it, taken from `previous` (a rule set it does not name is not there)."""
    wanted, written = _rule_sets(desired), _rule_sets(previous)
    spaces = sorted({ns for ns, _ in wanted} & seen.netns)
    had = {ns for ns, _ in written}
    unchanged = {ns for ns in spaces if ns in prints and ns in had and k.fingerprint(ns) == prints[ns]}
    for ns in unchanged:
        seen.firewall_prints[ns] = prints[ns]
        for kind in (*FAMILIES, NFTABLES):
            item = written.get((ns, kind))
            seen.rule_set(kind)[ns] = canonical(kind, item.text if item else "")
    rest = [ns for ns in spaces if ns not in unchanged]
    for family in FAMILIES:
        asked = [ns for ns in rest if (ns, family) in wanted]
        for ns, text in k.firewall.save_many(asked, family).items() if asked else ():
            seen.rule_set(family)[ns] = canonical(family, text)
    tables = {ns: names for ns in rest if (names := _nft_tables(wanted.get((ns, NFTABLES)),
                                                                written.get((ns, NFTABLES))))}
    with ThreadPoolExecutor(PARALLEL) as pool:
        for ns, text in zip(tables, pool.map(lambda ns: k.read_nft(ns, tables[ns]), tables)):
            seen.nftables[ns] = canonical(NFTABLES, text)


def _nft_tables(*items: Firewall | NftRuleset | None) -> list[str]:
    """The tables the planned and the previous NftRuleset name (one dropped since is drift)."""
    return list(dict.fromkeys(t for i in items if isinstance(i, NftRuleset) for t in i.tables()))


def firewall_prints(k: KernelOps, plan: Plan, known: dict[str, str]) -> dict[str, str]:
    """Fingerprints of the plan's rule sets as they now are: `known` ones (checked unchanged
    this run) are kept, the rest read. Only for rules in nf_tables (not the legacy backend's)."""
    if not k.firewall.in_nftables:
        return {}
    spaces = sorted({ns for ns, _ in _rule_sets(plan)})
    return {ns: known.get(ns) or k.fingerprint(ns) for ns in spaces if k.exists(ns)}


RULE_SETS = (Firewall, NftRuleset)
FILE_WRITERS = 16       # each write waits on the filesystem's journal (~1 ms here); many overlap

Handler = Callable[["Executor", Any], None]
DISPATCH: dict[tuple[str, type[Item]], Handler] = handlers.table()


class Executor:
    """Carries out changes in order; processes are handed to the agent afterwards."""

    def __init__(self, k: KernelOps, lab: str, previous: Plan | None = None):
        """`previous`: what the lab had written before (the state's plan), whose tables an
        update in an adopted namespace may take out again."""
        self.k = k
        self.nl = k.links
        self.lab = lab
        self.mark = naming.owner_mark(lab)
        self.previous = previous

    def run(self, change: Change) -> None:
        DISPATCH[(change.action, type(change.item))](self, change.item)

    def run_all(self, changes: list[Change], before_step: Callable[[int], object] = lambda step: None) -> None:
        """In order, except rule sets and /etc/netns files: they depend only on their
        namespace (iptables names interfaces, it does not need them), so each is written in
        the background as soon as its namespace exists, and the iptables-restore processes
        and the journal-bound file writes overlap the netlink work. A namespace's rule sets
        are written one after another, its new ones before the ones it no longer has are
        taken out (an engine switch never leaves it without rules). All are written before
        this returns; the first failure is raised then. `before_step` is called with each
        change's index first."""
        later: dict[str, list[Change]] = {}
        for change in changes:
            if _background(change):
                later.setdefault(change.item.netns, []).append(change)
        made = {c.item.name for c in changes if isinstance(c.item, Netns) and c.action != "delete"}
        with Restorer(self.k.firewall) as restorer, ThreadPoolExecutor(FILE_WRITERS) as files:
            written: list[Future[None]] = []

            def start(ns: str) -> None:
                mine = later.pop(ns, [])
                rule_sets = [c for c in mine if isinstance(c.item, RULE_SETS)]
                if rule_sets:
                    restorer.submit(self.run_in_turn, sorted(rule_sets, key=lambda c: c.action == "delete"))
                written.extend(files.submit(self.run, c) for c in mine if not isinstance(c.item, RULE_SETS))

            for ns in [ns for ns in later if ns not in made]:
                start(ns)
            for step, change in enumerate(changes):
                before_step(step)
                if _background(change):
                    continue
                self.run(change)
                if isinstance(change.item, Netns) and change.action != "delete":
                    start(change.item.name)
            errors = [e for e in (f.exception() for f in written) if e is not None]
            if errors:
                raise errors[0]

    def run_in_turn(self, changes: list[Change]) -> None:
        for change in changes:
            self.run(change)

    def own_tables(self, ns: str, family: str = "ipv4") -> set[str] | None:
        """Tables an update may empty and remove: all in a namespace the lab made (marked); in
        an adopted one (--in-place: a VM's own) only those the new rule set names and those
        the lab wrote there before (an engine that writes fewer tables now)."""
        if self.k.read_netns(ns).marked == self.mark:
            return None
        before = self.previous.get(Firewall(ns, "", family).key) if self.previous else None
        return set(tables_of(before.text)) if isinstance(before, Firewall) else set()


def _background(change: Change) -> bool:
    """Rule sets (a delete too: it happens only while the namespace stays) and written files."""
    return isinstance(change.item, RULE_SETS) or (isinstance(change.item, EtcFile) and change.action != "delete")
