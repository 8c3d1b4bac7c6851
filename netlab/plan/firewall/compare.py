"""What one engine's rules have that another's do not: the same lab under two engines, per
host, per family (iptables, ip6tables, nftables), per table and per chain (pure).

A rule is its text (`-o docker0 -j DOCKER`, or an nft statement line). In a chain present on
both sides, a rule only A writes is `removed`, one only B writes is `added`, and a rule both
write but at another place relative to the rules they share is `moved` — the fewest rules
whose moving turns A's order into B's (the rest keep a longest common order). An nft map or
set is compared by its elements, which have no order. A chain or table only one side has is
marked so (`only` = "a" or "b") and all of its rules are added or removed.

    diff_rules(load_file(path), load_file(path, "28.5"))   # -> RulesDiff"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ...model.topology import Topology
from .compare_nft import nft_ruleset
from .model import BUILTIN_CHAINS, Chain, Ruleset, Table
from .programs import host_nftables, host_ruleset, host_ruleset6

FAMILIES = ("iptables", "ip6tables", "nftables")


@dataclass(frozen=True, kw_only=True)
class Move:
    rule: str
    before: int             # its place in A's chain, 1-based (as `iptables -L --line-numbers`)
    after: int              # and in B's


@dataclass(frozen=True, kw_only=True)
class ChainDiff:
    name: str
    only: str | None = None                 # "a" | "b": the chain exists on that side only
    # (A's, B's) when they differ: ACCEPT, DROP, an nft chain's `type ... hook ... policy` line,
    # None for a user chain
    policy: tuple[str | None, str | None] | None = None
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    moved: tuple[Move, ...] = ()

    @property
    def same(self) -> bool:
        return not (self.only or self.policy or self.removed or self.added or self.moved)


@dataclass(frozen=True, kw_only=True)
class TableDiff:
    name: str
    only: str | None = None
    chains: tuple[ChainDiff, ...] = ()      # only the chains that differ


@dataclass(frozen=True, kw_only=True)
class FamilyDiff:
    family: str                             # "iptables" | "ip6tables" | "nftables"
    only: str | None = None
    tables: tuple[TableDiff, ...] = ()      # only the tables that differ


@dataclass(frozen=True, kw_only=True)
class HostDiff:
    host: str
    a: str                                  # the engine names on each side
    b: str
    families: tuple[FamilyDiff, ...] = ()   # only the families that differ

    @property
    def same(self) -> bool:
        return not self.families


@dataclass(frozen=True, kw_only=True)
class RulesDiff:
    lab: str
    a: str                                  # "20.10", or "node1 20.10, node2 28.5" for mixed hosts
    b: str
    hosts: tuple[HostDiff, ...]

    @property
    def same(self) -> bool:
        return all(h.same for h in self.hosts)

    def __str__(self) -> str:
        """The text `netlab rules FILE --diff B` prints."""
        # compare_text imports these records, so it is imported here, not at the top
        from .compare_text import render_diff
        return render_diff(self)

    def to_dict(self) -> dict:
        return {"lab": self.lab, "a": self.a, "b": self.b, "identical": self.same,
                "hosts": [_host_dict(h) for h in self.hosts]}


# ---- comparing ---------------------------------------------------------------------------
def diff_rules(a: Topology, b: Topology, host: str | None = None) -> RulesDiff:
    """The same lab file loaded twice, under engines A and B (`load_file(path, engine)`)."""
    names = [h.name for h in a.hosts if host is None or h.name == host]
    if host is not None and not names:
        raise KeyError(f"no host {host!r} in lab {a.name!r}")
    return RulesDiff(lab=a.name, a=engines_label(a), b=engines_label(b),
                     hosts=tuple(diff_host(a, b, h) for h in names))


def engines_label(topo: Topology) -> str:
    names = {h.engine.name for h in topo.hosts}
    if len(names) == 1:
        return names.pop()
    return ", ".join(f"{h.name} {h.engine.name}" for h in topo.hosts)


def host_families(topo: Topology, host: str) -> dict[str, Ruleset]:
    """Each family the host's engine writes, as tables of chains of rule texts."""
    out = {"iptables": host_ruleset(topo, host), "ip6tables": host_ruleset6(topo, host),
           "nftables": nft_ruleset(host_nftables(topo, host))}
    return {f: r for f, r in out.items() if r.tables}


def diff_host(a: Topology, b: Topology, host: str) -> HostDiff:
    fa, fb = host_families(a, host), host_families(b, host)
    families = []
    for family in FAMILIES:
        if family not in fa and family not in fb:
            continue
        d = diff_ruleset(fa.get(family), fb.get(family), chain_order=_order_for(family))
        if d:
            families.append(FamilyDiff(family=family, only=_only(fa.get(family), fb.get(family)), tables=d))
    return HostDiff(host=host, a=a.host(host).engine.name, b=b.host(host).engine.name, families=tuple(families))


def diff_ruleset(a: Ruleset | None, b: Ruleset | None,
                 chain_order: Callable[[str, str], tuple] | None = None) -> tuple[TableDiff, ...]:
    """The tables that differ, in A's order and then B's own."""
    ta = {t.name: t for t in (a.tables if a else ())}
    tb = {t.name: t for t in (b.tables if b else ())}
    out = []
    for name in _union(ta, tb):
        chains = diff_table(ta.get(name), tb.get(name), chain_order)
        if chains or _only(ta.get(name), tb.get(name)):
            out.append(TableDiff(name=name, only=_only(ta.get(name), tb.get(name)), chains=chains))
    return tuple(out)


def diff_table(a: Table | None, b: Table | None,
               chain_order: Callable[[str, str], tuple] | None = None) -> tuple[ChainDiff, ...]:
    ca = {c.name: c for c in (a.chains if a else ())}
    cb = {c.name: c for c in (b.chains if b else ())}
    names = _union(ca, cb)
    if chain_order is not None:
        table = a.name if a is not None else b.name if b is not None else ""
        names = sorted(names, key=lambda n: chain_order(table, n))
    diffs = (diff_chain(ca.get(n), cb.get(n)) for n in names)
    return tuple(d for d in diffs if not d.same)


def diff_chain(a: Chain | None, b: Chain | None) -> ChainDiff:
    # a chain one side only has: `policy` holds that side's (its hook line, for nft)
    if b is None:
        if a is None:
            return ChainDiff(name="")
        return ChainDiff(name=a.name, only="a", policy=(a.policy, None) if a.policy else None, removed=a.rules)
    if a is None:
        return ChainDiff(name=b.name, only="b", policy=(None, b.policy) if b.policy else None, added=b.rules)
    name = a.name
    policy = (a.policy, b.policy) if a.policy != b.policy else None
    if name.startswith(("map ", "set ")):       # elements: a set, no order to keep
        return ChainDiff(name=name, policy=policy, removed=_minus(a.rules, b.rules), added=_minus(b.rules, a.rules))
    return ChainDiff(name=name, policy=policy, removed=_minus(a.rules, b.rules), added=_minus(b.rules, a.rules),
                     moved=moves(a.rules, b.rules))


def moves(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[Move, ...]:
    """The rules both write whose order differs: the shared rules (with their counts) in
    A's order and in B's, and those outside a longest common order of the two."""
    shared = Counter(a) & Counter(b)
    pa, pb = _kept(a, shared), _kept(b, shared)     # (rule, place in its chain)
    if [r for r, _ in pa] == [r for r, _ in pb]:
        return ()
    stay = _lcs([r for r, _ in pa], [r for r, _ in pb])
    left_a = [p for i, p in enumerate(pa) if i not in stay[0]]
    left_b = [p for i, p in enumerate(pb) if i not in stay[1]]
    # the k-th moved copy of a rule in A is its k-th moved copy in B
    places: dict[str, list[int]] = {}
    for rule, at in left_b:
        places.setdefault(rule, []).append(at)
    return tuple(Move(rule=rule, before=at, after=places[rule].pop(0)) for rule, at in left_a)


def _kept(rules: tuple[str, ...], shared: Counter) -> list[tuple[str, int]]:
    left = Counter(shared)
    out = []
    for i, rule in enumerate(rules, 1):
        if left[rule] > 0:
            left[rule] -= 1
            out.append((rule, i))
    return out


def _lcs(a: list[str], b: list[str]) -> tuple[set[int], set[int]]:
    """Indices of a and of b in one longest common subsequence. A common prefix and suffix
    are taken first, so the table is only as large as the part that differs."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    ma, mb = a[head:len(a) - tail], b[head:len(b) - tail]
    n, m = len(ma), len(mb)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best[i][j] = best[i + 1][j + 1] + 1 if ma[i] == mb[j] else max(best[i + 1][j], best[i][j + 1])
    keep_a = set(range(head)) | {len(a) - 1 - k for k in range(tail)}
    keep_b = set(range(head)) | {len(b) - 1 - k for k in range(tail)}
    i = j = 0
    while i < n and j < m:
        if ma[i] == mb[j]:
            keep_a.add(head + i)
            keep_b.add(head + j)
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return keep_a, keep_b


def _minus(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    """The rules of a (in a's order, with their counts) that b does not have as often."""
    extra = Counter(a) - Counter(b)
    out = []
    for rule in reversed(a):        # a rule written twice by A, once by B: A's later copy is the extra one
        if extra[rule] > 0:
            extra[rule] -= 1
            out.append(rule)
    return tuple(reversed(out))


def _union(a: Iterable[str], b: Iterable[str]) -> list[str]:
    seen = list(a)
    return seen + [n for n in b if n not in seen]


def _only(a: object | None, b: object | None) -> str | None:
    if a is None and b is not None:
        return "b"
    if b is None and a is not None:
        return "a"
    return None


def _order_for(family: str) -> Callable[[str, str], tuple] | None:
    """iptables-save's order (built-in chains in kernel order, then user chains by name), so
    a chain only B has stands where `iptables-save` would print it; nft keeps its own order."""
    if family == "nftables":
        return None

    def key(table: str, chain: str) -> tuple:
        builtin = BUILTIN_CHAINS.get(table, ())
        return (0, builtin.index(chain), "") if chain in builtin else (1, 0, chain)
    return key


# ---- JSON --------------------------------------------------------------------------------
def _host_dict(h: HostDiff) -> dict:
    return {"host": h.host, "a": h.a, "b": h.b, "identical": h.same, "families": [
        {"family": f.family, "only": f.only, "tables": [
            {"table": t.name, "only": t.only, "chains": [_chain_dict(c) for c in t.chains]}
            for t in f.tables]}
        for f in h.families]}


def _chain_dict(c: ChainDiff) -> dict:
    return {"chain": c.name, "only": c.only, "policy": list(c.policy) if c.policy else None,
            "removed": list(c.removed), "added": list(c.added),
            "moved": [{"rule": m.rule, "before": m.before, "after": m.after} for m in c.moved]}
