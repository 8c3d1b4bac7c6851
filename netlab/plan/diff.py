"""Desired plan vs what the kernel holds -> the changes to make. Pure: the observation is
passed in as data, so drift repair and idempotence are testable without root."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .items import (
    SERVED_ITEMS,
    Address,
    Bridge,
    EtcFile,
    Fdb,
    Firewall,
    Item,
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
from .nft_text import canonical_nft
from .plan import Plan

NFTABLES = "nftables"       # beside the families "ipv4" and "ipv6": an engine's native tables

# sysctls come after the links they name but before addresses: with disable_ipv6=1 the
# kernel refuses an interface's IPv6 addresses
RANK: dict[type[Item], float] = {
    Netns: 0, Bridge: 1, Veth: 2, Vlan: 2.1, Vxlan: 2.2, Macvlan: 2.3, Address: 3, Neighbour: 4.1, Fdb: 4.2,
    Route: 4, Sysctl: 2.9, Firewall: 6, NftRuleset: 6.1, EtcFile: 7, Uts: 7.5, Process: 8, Proxy: 9,
    **{kind: 10 for kind in SERVED_ITEMS}}


@dataclass(frozen=True, kw_only=True)
class LinkView:
    kind: str
    mtu: int
    mac: str
    master: str | None
    up: bool
    hairpin: bool = False


@dataclass(kw_only=True)
class Observed:
    """What exists now, for the namespaces the lab had or wants."""

    netns: set[str] = field(default_factory=set)
    foreign: dict[str, str] = field(default_factory=dict)      # netns -> why it is not ours
    links: dict[tuple[str, str], LinkView] = field(default_factory=dict)
    addresses: set[tuple[str, str, str]] = field(default_factory=set)   # (netns, dev, cidr)
    routes: dict[tuple[str, str], tuple[str | None, str]] = field(default_factory=dict)
    sysctls: dict[tuple[str, str], str | None] = field(default_factory=dict)
    # netns -> canonical text (`canonical`) of its iptables, ip6tables and native nftables rules
    firewall: dict[str, str] = field(default_factory=dict)
    firewall6: dict[str, str] = field(default_factory=dict)
    nftables: dict[str, str] = field(default_factory=dict)
    firewall_prints: dict[str, str] = field(default_factory=dict)   # netns -> fingerprint found unchanged
    etc: dict[tuple[str, str], str | None] = field(default_factory=dict)
    processes: dict[str, tuple[str, str, bool]] = field(default_factory=dict)  # name -> (netns, cmd, alive)
    proxies: set[tuple] = field(default_factory=set)           # keys of proxies the agent serves
    # for the namespaces holding VXLAN, macvlan or VLAN links: each one's own settings,
    # and the permanent neighbour and FDB entries (netns, dev, ip, mac) / (netns, dev, mac, dst)
    link_data: dict[tuple[str, str], dict] = field(default_factory=dict)
    neighbours: set[tuple[str, str, str, str]] = field(default_factory=set)
    fdb: set[tuple[str, str, str, str]] = field(default_factory=set)
    # UTS pin name -> (hostname, NIS domain name) it holds; the machine's own, which a Uts
    # without either keeps
    uts: dict[str, tuple[str, str]] = field(default_factory=dict)
    machine_uts: tuple[str, str] = ("", "")
    dns: dict[tuple, str] = field(default_factory=dict)        # served item key -> digest the agent serves

    def rule_set(self, kind: str) -> dict[str, str]:
        """The rule sets of one kind: "ipv4", "ipv6" or NFTABLES."""
        return {"ipv4": self.firewall, "ipv6": self.firewall6, NFTABLES: self.nftables}[kind]


@dataclass(frozen=True)
class Change:
    action: str                 # create | update | recreate | delete
    item: Item
    why: str = ""

    def __str__(self) -> str:
        why = f"  ({self.why})" if self.why else ""
        return f"{self.action:8} {self.item.describe()}{why}"


def canonical_iptables(text: str, tables: tuple[str, ...] | set[str] | None = ("filter", "nat")) -> str:
    """iptables-save text without counters, comments or tables we do not manage (None: every
    table counts), tables in name order (iptables-legacy-save lists them in another order
    than the nft flavour)."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        line = line.rstrip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            current = blocks.setdefault(line[1:], []) if tables is None or line[1:] in tables else None
        if current is None:
            continue
        if line.startswith(":") and line.endswith("]"):
            line = line.rsplit(" [", 1)[0]
        current.append(line)
    return "\n".join(line for name in sorted(blocks) if not _empty(blocks[name]) for line in blocks[name])


def canonical(kind: str, text: str) -> str:
    """What a reader compares of a rule set of `kind` ("ipv4", "ipv6", NFTABLES): every
    iptables table (an empty one is as good as none), or the nftables tables."""
    return canonical_nft(text) if kind == NFTABLES else canonical_iptables(text, None)


def _empty(block: list[str]) -> bool:
    """A table with only built-in chains, policy ACCEPT, and no rules is as good as absent
    (the legacy backend instantiates tables merely by looking at them)."""
    return all(line.startswith("*") or line == "COMMIT" or
               line.startswith(":") and line.endswith(" ACCEPT") for line in block)


def _link_problem(item: Bridge | Veth, seen: LinkView | None, peer: LinkView | None) -> tuple[str, str] | None:
    if seen is None:
        return ("create", "missing")
    want_kind = "bridge" if isinstance(item, Bridge) else "veth"
    if seen.kind != want_kind:
        return ("recreate", f"is a {seen.kind}, not a {want_kind}")
    if isinstance(item, Veth):
        if peer is None:
            return ("recreate", f"peer {item.peer_name} in {item.peer_netns} is missing")
        diffs = []
        if seen.master != item.master:
            diffs.append(f"master {seen.master} != {item.master}")
        if seen.mtu != item.mtu or peer.mtu != item.mtu:
            diffs.append(f"mtu {seen.mtu}/{peer.mtu} != {item.mtu}")
        if item.peer_mac and peer.mac != item.peer_mac:
            diffs.append(f"peer mac {peer.mac} != {item.peer_mac}")
        if not (seen.up and peer.up):
            diffs.append("down")
        if item.master and seen.hairpin != item.hairpin:
            diffs.append(f"hairpin {'on' if seen.hairpin else 'off'}")
        return ("update", ", ".join(diffs)) if diffs else None
    diffs = []
    if item.mac and seen.mac != item.mac:
        diffs.append(f"mac {seen.mac} != {item.mac}")
    if item.mtu and seen.mtu != item.mtu:
        diffs.append(f"mtu {seen.mtu} != {item.mtu}")
    if not seen.up:
        diffs.append("down")
    return ("update", ", ".join(diffs)) if diffs else None


def diff(desired: Plan, previous: Plan | None, seen: Observed) -> list[Change]:
    changes: list[Change] = []
    fresh = {i.name for i in desired.of(Netns) if i.name not in seen.netns}
    adopted = {i.name for i in desired.of(Netns) if i.adopted}
    for item in desired.items:
        ns = getattr(item, "netns", None) if not isinstance(item, Netns) else item.name
        if isinstance(item, Netns):
            if item.name in fresh:
                changes.append(Change("create", item))
            continue
        if ns in fresh or (isinstance(item, Veth) and item.peer_netns in fresh):
            if isinstance(item, Veth) and ns not in fresh and (item.netns, item.name) in seen.links:
                # its end outlived the peer's namespace (deleted by hand, kept alive by a socket
                # such as the agent's until it reloads): the pair goes, then comes anew
                changes.append(Change("recreate", item, f"peer namespace {item.peer_netns} is new"))
            else:
                changes.append(Change("create", item))
            continue
        problem = _problem(item, seen, adopted)
        if problem:
            changes.append(Change(problem[0], item, problem[1]))
    changes += _removals(desired, previous, seen)
    return sorted(changes, key=_order)


def _l2_settings(item: Vxlan | Macvlan | Vlan) -> dict:
    """What only a new link can change (the kernel refuses to change these in place)."""
    if isinstance(item, Vxlan):
        return {"vni": item.vni, "local": item.local, "port": item.port, "learning": item.learning}
    if isinstance(item, Macvlan):
        return {"mode": item.mode}
    return {"vid": item.vid}


def _l2_problem(item: Vxlan | Macvlan | Vlan | Neighbour | Fdb, seen: Observed) -> tuple[str, str] | None:
    if isinstance(item, Neighbour):
        return None if (item.netns, item.dev, item.ip, item.mac) in seen.neighbours else ("create", "missing")
    if isinstance(item, Fdb):
        return None if (item.netns, item.dev, item.mac, item.dst) in seen.fdb else ("create", "missing")
    link = seen.links.get((item.netns, item.name))
    if link is None:
        return ("create", "missing")
    if link.kind != item.kind:
        return ("recreate", f"is a {link.kind}, not a {item.kind}")
    have = seen.link_data.get((item.netns, item.name), {})
    wrong = [f"{k} {have.get(k)} != {v}" for k, v in _l2_settings(item).items() if have.get(k) != v]
    if wrong:
        return ("recreate", ", ".join(wrong))
    diffs = []
    mtu = getattr(item, "mtu", None)
    if mtu and link.mtu != mtu:
        diffs.append(f"mtu {link.mtu} != {mtu}")
    mac = getattr(item, "mac", None)
    if mac and link.mac != mac:
        diffs.append(f"mac {link.mac} != {mac}")
    master = getattr(item, "master", None)
    if master and link.master != master:
        diffs.append(f"master {link.master} != {master}")
    if not link.up:
        diffs.append("down")
    return ("update", ", ".join(diffs)) if diffs else None


def _rule_set_problem(item: Firewall | NftRuleset, seen: Observed, adopted: set[str]) -> tuple[str, str] | None:
    """A rule set as read (or as a matching fingerprint vouches) against the plan's. In a
    namespace the lab made every table counts; in an adopted one (--in-place, a VM's own)
    only filter, nat and those the lab writes."""
    if isinstance(item, NftRuleset):
        tables = seen.nftables.get(item.netns)
        if tables == canonical_nft(item.text):
            return None
        return ("update", "tables differ") if tables else ("create", "no tables")
    rules = seen.rule_set(item.family).get(item.netns)
    want = canonical(item.family, item.text)
    if rules is not None and item.netns in adopted:
        names = {"filter", "nat", *re.findall(r"^\*(\w+)$", item.text, re.M)}
        rules, want = canonical_iptables(rules, names), canonical_iptables(want, names)
    if rules == want:
        return None
    return ("update", "rules differ" if rules else "no rules")


def _problem(item: Item, seen: Observed, adopted: set[str]) -> tuple[str, str] | None:
    if isinstance(item, (Vxlan, Macvlan, Vlan, Neighbour, Fdb)):
        return _l2_problem(item, seen)
    if isinstance(item, (Bridge, Veth)):
        peer = seen.links.get(item.peer_key[1:]) if isinstance(item, Veth) else None
        return _link_problem(item, seen.links.get((item.netns, item.name)), peer)
    if isinstance(item, Address):
        return None if (item.netns, item.dev, item.cidr) in seen.addresses else ("create", "missing")
    if isinstance(item, Route):
        route = seen.routes.get((item.netns, item.dst))
        if route == (item.gateway, item.dev):
            return None
        return ("create", "missing") if route is None else ("update", f"is via {route[0]} dev {route[1]}")
    if isinstance(item, Sysctl):
        value = seen.sysctls.get((item.netns, item.path))
        return None if value == item.value else ("update", f"is {value}")
    if isinstance(item, (Firewall, NftRuleset)):
        return _rule_set_problem(item, seen, adopted)
    if isinstance(item, EtcFile):
        content = seen.etc.get((item.netns, item.name))
        return None if content == item.content else ("update", "missing" if content is None else "content differs")
    if isinstance(item, Uts):
        return _uts_problem(item, seen)
    if isinstance(item, Process):
        process = seen.processes.get(item.name)
        if process is None:
            return ("create", "not running")
        if (process[0], process[1]) != (item.netns, item.command):
            return ("recreate", "command changed")
        return None if process[2] else ("recreate", "not running")
    if isinstance(item, Proxy):
        return None if item.key in seen.proxies else ("create", "not listening")
    if isinstance(item, SERVED_ITEMS):
        digest = seen.dns.get(item.key)
        if digest is None:
            return ("create", "not served")
        return None if digest == item.digest else ("update", "the agent serves an older version")
    return None


def _uts_problem(item: Uts, seen: Observed) -> tuple[str, str] | None:
    names = seen.uts.get(item.name)
    if names is None:
        return ("create", "missing")
    want = (item.hostname if item.hostname is not None else seen.machine_uts[0],
            item.domainname or seen.machine_uts[1])
    return None if names == want else ("update", f"holds {names[0]} / {names[1]}")


def _removals(desired: Plan, previous: Plan | None, seen: Observed) -> list[Change]:
    out: list[Change] = []
    gone_ns = set()
    if previous is not None:
        for item in previous.of(Netns):
            if desired.get(item.key) is None and item.name in seen.netns:
                gone_ns.add(item.name)
                out.append(Change("delete", item))
        for item in previous.items:
            if isinstance(item, Netns) or desired.get(item.key) is not None:
                continue
            # a process and a UTS pin outlive a deleted netns: they go on their own
            if getattr(item, "netns", None) in gone_ns and not isinstance(item, (Process, Uts)):
                continue
            if isinstance(item, Veth) and item.peer_netns in gone_ns:
                continue
            if isinstance(item, Macvlan) and item.parent_netns in gone_ns:
                continue    # a macvlan goes with its parent
            out.append(Change("delete", item))
    managed = {(i.netns, i.name) for i in desired.items if isinstance(i, (Bridge, Veth))}
    managed |= {i.peer_key[1:] for i in desired.of(Veth)}
    managed |= {(i.netns, i.name) for i in desired.items if isinstance(i, (Vxlan, Macvlan, Vlan))}
    # an adopted namespace (--in-place) is a VM's own: only what the lab put there is the lab's
    managed |= {(i.name, "lo") for i in desired.of(Netns) if not i.adopted}
    wanted = {(i.netns, i.dev, i.cidr) for i in desired.of(Address)}
    for ns, dev, cidr in sorted(seen.addresses):
        if (ns, dev) in managed and (ns, dev, cidr) not in wanted and not cidr.startswith("127."):
            out.append(Change("delete", Address(ns, dev, cidr), "not in the lab file"))
    wanted_routes = {(i.netns, i.dst) for i in desired.of(Route)}
    lab_ns = {i.name for i in desired.of(Netns) if not i.adopted}
    for (ns, dst), (gw, dev) in sorted(seen.routes.items(), key=lambda kv: kv[0]):
        if ns in lab_ns and (ns, dst) not in wanted_routes:
            out.append(Change("delete", Route(ns, dst, gw, dev or ""), "not in the lab file"))
    return out


def _order(change: Change) -> tuple:
    rank = RANK[type(change.item)]
    if change.action == "delete":
        return (0, -rank)
    return (1, rank)
