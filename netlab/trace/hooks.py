"""One netfilter hook in one namespace, whoever wrote its rules: iptables tables (iptables.py)
and native nftables base chains (nft_eval.py) registered at the same hook run in priority
order, as the kernel runs them, until one drops. Pure.

At equal priority the kernel runs hooks in the order they were registered; the lab writes
its iptables rules before its nftables tables, so iptables goes first here."""
from __future__ import annotations

from dataclasses import dataclass

from ..plan.firewall.model import Ruleset
from . import nft_eval
from .iptables import HOOK_TABLES, Context, Decision, HookResult, run_table
from .model import PacketView
from .nft_model import NftRuleset, NftTable

# iptables' tables register at fixed priorities; nat's depends on the hook (dstnat or srcnat)
IPT_PRIORITY = {"raw": -300, "mangle": -150, "filter": 0, "security": 50}
NAT_PRIORITY = {"PREROUTING": -100, "OUTPUT": -100, "INPUT": 100, "POSTROUTING": 100}
EVERY = (-(1 << 31), 1 << 31)       # a span of priorities: lo <= priority < hi


@dataclass(frozen=True)
class Rules:
    """A namespace's netfilter rules: its iptables rule set and its native nftables tables."""

    iptables: Ruleset | None = None
    nft: NftRuleset | None = None
    family: int = 4                 # the packets these rules see: 4 or 6

    def __bool__(self) -> bool:
        return self.iptables is not None or self.nft is not None


@dataclass(frozen=True)
class _Entry:
    priority: int
    order: int                      # iptables before nftables at equal priority, then listing order
    table: str
    nat: bool
    nft: NftTable | None = None     # None: the iptables table `table`
    chain: str = ""


def entries(rules: Rules, hook: str) -> list[_Entry]:
    """Everything registered at `hook` (PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING), in
    the order the kernel runs it."""
    out: list[_Entry] = []
    if rules.iptables is not None:
        for name in HOOK_TABLES[hook]:
            table = rules.iptables.table(name)
            if table is not None and table.chain(hook) is not None:
                prio = NAT_PRIORITY[hook] if name == "nat" else IPT_PRIORITY[name]
                out.append(_Entry(prio, 0, name, name == "nat"))
    if rules.nft is not None:
        for t in rules.nft.tables:
            for c in t.chains:
                if c.hook == hook.lower() and c.type in ("filter", "nat", "route") and c.priority is not None:
                    out.append(_Entry(c.priority, 1, t.name, c.type == "nat", t, c.name))
    return sorted(out, key=lambda e: (e.priority, e.order))


def run_hook(rules: Rules, hook: str, pkt: PacketView, ctx: Context, nat: bool = True,
             span: tuple[int, int] = EVERY) -> HookResult:
    """Every base chain of `hook` whose priority is in `span`, in priority order, until one
    drops. NAT chains run for a connection's first packet only, and only until one of them
    has chosen the mapping."""
    result = HookResult()
    for e in entries(rules, hook):
        if not span[0] <= e.priority < span[1]:
            continue
        if e.nat and (not nat or ctx.ctstate != "NEW" or result.nat is not None):
            continue
        if e.nft is None:
            assert rules.iptables is not None, "an iptables entry comes from an iptables rule set"
            verdict = run_table(rules.iptables, e.table, hook, pkt, ctx, result)
        else:
            verdict = _base_chain(e.nft, e.chain, pkt, ctx, result)
        if verdict == "drop":
            result.verdict = "drop"
            return result
    return result


def _base_chain(table: NftTable, chain: str, pkt: PacketView, ctx: Context, result: HookResult) -> str:
    verdict = nft_eval.run_chain(table, chain, pkt, ctx, result)
    if verdict is None:
        c = table.chain(chain)
        verdict = c.policy if c and c.policy else "accept"
        result.decisions.append(Decision(table=table.name, chain=chain, kind="policy", verdict=verdict))
    return verdict
