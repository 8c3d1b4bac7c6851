"""Observe a lab's namespaces, then carry out the changes a diff asks for.

Both go through `ops.KernelOps` (the real kernel, or the unit tests' fake). Each
(action, item class) a diff can produce has one entry in DISPATCH, checked by
tests/unit/test_apply_dispatch.py, so a missing one fails a test rather than an `up`."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..model import naming
from ..plan.diff import Change, LinkView, Observed, canonical_iptables
from ..plan.item import Item
from ..plan.items import EtcFile, Fdb, Firewall, Macvlan, Neighbour, Netns, Sysctl, Vlan, Vxlan
from ..plan.plan import Plan
from . import handlers
from .firewall.backend import Restorer
from .ops import KernelOps
from .system import remove_etc

__all__ = ["DISPATCH", "Executor", "firewall_prints", "observe", "remove_etc"]

L2_ITEMS = (Vxlan, Macvlan, Vlan, Neighbour, Fdb)


def observe(k: KernelOps, desired: Plan, previous: Plan | None, agent: dict[str, Any],
            prints: dict[str, str] | None = None) -> Observed:
    """`agent`: what the lab's agent reports ({"processes": ..., "proxies": ...}), {} if it is down.
    `prints`: nftables fingerprints taken when `previous` was written; a namespace whose
    fingerprint still matches holds `previous`'s rules, and needs no iptables-save."""
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


def _observe_firewall(k: KernelOps, desired: Plan, previous: Plan | None, prints: dict[str, str],
                      seen: Observed) -> None:
    walls = [i.netns for i in desired.of(Firewall) if i.netns in seen.netns]
    written = {i.netns: i.text for i in previous.of(Firewall)} if previous else {}
    unchanged = {ns for ns in walls if ns in prints and ns in written and k.fingerprint(ns) == prints[ns]}
    for ns in unchanged:
        seen.firewall[ns] = canonical_iptables(written[ns])
        seen.firewall_prints[ns] = prints[ns]
    for ns, text in k.firewall.save_many([ns for ns in walls if ns not in unchanged]).items():
        seen.firewall[ns] = canonical_iptables(text)


def firewall_prints(k: KernelOps, plan: Plan, known: dict[str, str]) -> dict[str, str]:
    """Fingerprints of the plan's rule sets as they now are: `known` ones (checked unchanged
    this run) are kept, the rest read. Only for rules in nf_tables (not the legacy backend's)."""
    if not k.firewall.in_nftables:
        return {}
    return {i.netns: known.get(i.netns) or k.fingerprint(i.netns) for i in plan.of(Firewall) if k.exists(i.netns)}


BACKGROUND = (Firewall, EtcFile)
FILE_WRITERS = 16       # each write waits on the filesystem's journal (~1 ms here); many overlap

Handler = Callable[["Executor", Any], None]
DISPATCH: dict[tuple[str, type[Item]], Handler] = handlers.table()


class Executor:
    """Carries out changes in order; processes are handed to the agent afterwards."""

    def __init__(self, k: KernelOps, lab: str):
        self.k = k
        self.nl = k.links
        self.lab = lab
        self.mark = naming.owner_mark(lab)

    def run(self, change: Change) -> None:
        DISPATCH[(change.action, type(change.item))](self, change.item)

    def run_all(self, changes: list[Change], before_step: Callable[[int], object] = lambda step: None) -> None:
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
        with Restorer(self.k.firewall) as restorer, ThreadPoolExecutor(FILE_WRITERS) as files:
            written: list[Future[None]] = []

            def start(ns: str) -> None:
                for change in later.pop(ns, []):
                    if isinstance(change.item, Firewall) and change.action == "create":
                        restorer.submit(self.k.firewall.restore, ns, change.item.text)
                    elif isinstance(change.item, Firewall):
                        restorer.submit(self.k.firewall.replace, ns, change.item.text, clear=self.own_tables(ns))
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

    def own_tables(self, ns: str) -> set[str] | None:
        """Tables an update may empty: all in a namespace the lab made (marked); in an adopted
        one (--in-place: a VM's own) only those the new rule set names."""
        return None if self.k.read_netns(ns).marked == self.mark else set()
