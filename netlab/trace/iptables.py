"""A small evaluator of the iptables rules Docker writes, for prediction without root.

It walks a table's chains as the kernel does for one packet — matches, jumps, RETURN, the
end of a user chain, the built-in chain's policy — and reports each decision the way
nftrace does (a matched rule, a user chain's end, a policy), so a prediction and an
observation compare fact by fact.

Matches understood: -i/-o/-s/-d/-p (each with `!`), --sport/--dport (ports and ranges),
-m addrtype --src-type/--dst-type LOCAL, -m conntrack --ctstate, -m comment. Targets:
ACCEPT, DROP, REJECT, RETURN, a user chain (-j, -g), DNAT, SNAT, MASQUERADE, and
non-terminating ones (CHECKSUM, MARK, LOG, ...). A rule with a match the evaluator does not
know is taken as not matching, and said so in a note."""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import TYPE_CHECKING

from ..plan.firewall.model import Ruleset
from .model import PacketView

if TYPE_CHECKING:
    from .nft_model import NftRule

TERMINAL = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "drop"}
NAT_TARGETS = ("DNAT", "SNAT", "MASQUERADE")
# the table order at each hook (by priority: raw -300, mangle -150, nat -100/+100, filter 0)
HOOK_TABLES = {
    "PREROUTING": ("raw", "mangle", "nat"),
    "INPUT": ("mangle", "filter", "security", "nat"),
    "FORWARD": ("mangle", "filter", "security"),
    "OUTPUT": ("raw", "mangle", "nat", "filter", "security"),
    "POSTROUTING": ("mangle", "nat"),
}


@dataclass(frozen=True, kw_only=True)
class Rule:
    chain: str
    position: int
    text: str                       # "-A CHAIN ..."
    conds: tuple                    # (negated, option, value) triples
    target: str | None
    goto: bool = False
    target_args: tuple[tuple[str, str], ...] = ()
    unknown: tuple[str, ...] = ()   # options the evaluator cannot judge


@dataclass(frozen=True)
class Context:
    """What the matches look at besides the packet itself."""

    iif: str | None
    oif: str | None
    local: frozenset[IPv4Address | IPv6Address]   # the netns' own addresses (addrtype LOCAL)
    ctstate: str = "NEW"            # NEW | ESTABLISHED | RELATED


@dataclass(frozen=True, kw_only=True)
class Decision:
    """One nftrace-like event: kind rule/return/policy, with the verdict."""

    table: str
    chain: str
    kind: str
    verdict: str
    rule: Rule | NftRule | None = None
    target: str | None = None


@dataclass
class HookResult:
    verdict: str = "accept"                         # accept | drop
    decisions: list[Decision] = field(default_factory=list)
    nat: tuple[str, str] | None = None              # (DNAT|SNAT|MASQUERADE, to: "addr[:port]" or "")
    nat_rule: Rule | NftRule | None = None
    notes: list[str] = field(default_factory=list)


KNOWN_MODULES = ("tcp", "udp", "sctp", "icmp", "icmp6", "addrtype", "conntrack", "comment", "state")
# `-p` names -> PacketView.proto (ip6tables says ipv6-icmp; numbers as /etc/protocols has them)
PROTO_NAMES = {"ipv6-icmp": "icmp6", "icmpv6": "icmp6", "58": "icmp6", "1": "icmp", "6": "tcp", "17": "udp"}
MATCHES = ("-i", "-o", "-s", "-d", "-p", "--sport", "--dport", "--dst-type", "--src-type", "--ctstate", "--state")


@lru_cache(maxsize=4096)
def parse_rule(chain: str, position: int, text: str) -> Rule:
    words = shlex.split(text)
    conds, unknown, args = [], [], []
    target, goto, neg, i = None, False, False, 0
    while i < len(words):
        w = words[i]
        value = words[i + 1] if i + 1 < len(words) else ""
        if w == "!":
            neg = True
            i += 1
            continue
        if w in ("-j", "-g"):
            target, goto = value, w == "-g"
            args = _options(words[i + 2:])
            break
        if w == "-m":
            if value not in KNOWN_MODULES:
                unknown.append(f"-m {value}")
            i += 2
        elif w in MATCHES:
            conds.append((neg, w, value))
            i += 2
        elif w == "--comment":
            i += 2
        else:
            # an option of a module the evaluator does not know: its values are the words
            # up to the next option
            if w.startswith("-") and not unknown:
                unknown.append(w)
            i += 1
            while i < len(words) and not words[i].startswith("-") and words[i] != "!":
                i += 1
        neg = False
    return Rule(chain=chain, position=position, text=f"-A {chain} {text}", conds=tuple(conds), target=target, goto=goto,
                target_args=tuple(args), unknown=tuple(unknown))


def _options(words: list[str]) -> list[tuple[str, str]]:
    """A target's own options: `--to-destination 172.17.0.2:80` -> [(option, value)]."""
    out, i = [], 0
    while i < len(words):
        if words[i].startswith("--"):
            value = words[i + 1] if i + 1 < len(words) and not words[i + 1].startswith("--") else ""
            out.append((words[i], value))
            i += 2 if value else 1
        else:
            i += 1
    return out


def _port_in(spec: str, port: int | None) -> bool:
    if port is None:
        return False
    lo, _, hi = spec.partition(":")
    return int(lo or 0) <= port <= int(hi or lo or 65535)


def _iface(pattern: str, name: str | None) -> bool:
    if name is None:
        return False
    return name.startswith(pattern[:-1]) if pattern.endswith("+") else name == pattern


def matches(rule: Rule, pkt: PacketView, ctx: Context) -> bool:
    if rule.unknown:
        return False
    for neg, opt, value in rule.conds:
        if opt == "-i":
            ok = _iface(value, ctx.iif)
        elif opt == "-o":
            ok = _iface(value, ctx.oif)
        elif opt in ("-s", "-d"):
            addr = pkt.src if opt == "-s" else pkt.dst
            ok = ip_address(addr) in network(value)
        elif opt == "-p":
            ok = value == "all" or pkt.proto == PROTO_NAMES.get(value, value)
        elif opt in ("--sport", "--dport"):
            ok = _port_in(value, pkt.sport if opt == "--sport" else pkt.dport)
        elif opt in ("--dst-type", "--src-type"):
            ok = "LOCAL" in value.split(",") and ip_address(pkt.dst if opt == "--dst-type" else pkt.src) in ctx.local
        elif opt in ("--ctstate", "--state"):
            ok = ctx.ctstate in value.split(",")
        else:
            ok = False
        if ok == neg:
            return False
    return True


@lru_cache(maxsize=1024)
def network(text: str) -> IPv4Network | IPv6Network:
    """A rule's address or prefix, parsed once (rules are evaluated over and over); nft's
    `[2001:db8::2]` brackets are taken off."""
    return ip_network(text.strip("[]"), strict=False)


def run_hook(ruleset: Ruleset, hook: str, pkt: PacketView, ctx: Context,
             tables: tuple[str, ...] | None = None) -> HookResult:
    """Every table's chain for this hook, in priority order, until one drops."""
    result = HookResult()
    for name in tables or HOOK_TABLES[hook]:
        if name == "nat" and ctx.ctstate != "NEW":
            continue            # NAT chains see only a connection's first packet
        if run_table(ruleset, name, hook, pkt, ctx, result) == "drop":
            result.verdict = "drop"
            return result
    return result


def run_table(ruleset: Ruleset, name: str, hook: str, pkt: PacketView, ctx: Context,
              result: HookResult) -> str | None:
    """One table's built-in chain of `hook`: accept | drop (its policy when no rule decided),
    None when the table has no such chain."""
    table = ruleset.table(name)
    builtin = table.chain(hook) if table is not None else None
    if builtin is None:
        return None
    verdict = _chain(ruleset, name, hook, pkt, ctx, result, depth=0)
    if verdict is None:
        verdict = (builtin.policy or "ACCEPT").lower()
        result.decisions.append(Decision(table=name, chain=hook, kind="policy", verdict=verdict))
    return verdict


def _chain(ruleset: Ruleset, table: str, chain: str, pkt: PacketView, ctx: Context,
           result: HookResult, depth: int) -> str | None:
    """accept | drop, or None when the chain ran out (or returned)."""
    if depth > 16:
        result.notes.append(f"{table} {chain}: jumps nest deeper than 16; stopped there")
        return "drop"
    tbl = ruleset.table(table)
    c = tbl.chain(chain) if tbl is not None else None
    for position, text in enumerate(c.rules if c else (), 1):
        rule = parse_rule(chain, position, text)
        if rule.unknown and rule.text not in result.notes:
            result.notes.append(f"{table} {rule.text}: the predictor cannot evaluate "
                                f"{', '.join(rule.unknown)}; taken as not matching")
        if not matches(rule, pkt, ctx):
            continue
        t = rule.target
        if t in TERMINAL:
            result.decisions.append(Decision(table=table, chain=chain, kind="rule", verdict=TERMINAL[t], rule=rule))
            return TERMINAL[t]
        if t == "RETURN":
            result.decisions.append(Decision(table=table, chain=chain, kind="rule", verdict="return", rule=rule))
            return None
        if t in NAT_TARGETS:
            result.decisions.append(Decision(table=table, chain=chain, kind="rule", verdict="accept", rule=rule,
                                             target=t))
            args = dict(rule.target_args)
            result.nat, result.nat_rule = (t, args.get("--to-destination") or args.get("--to-source") or ""), rule
            return "accept"
        if t is not None and tbl is not None and tbl.chain(t) is not None:
            result.decisions.append(Decision(table=table, chain=chain, kind="rule",
                                             verdict="goto" if rule.goto else "jump", rule=rule, target=t))
            verdict = _chain(ruleset, table, t, pkt, ctx, result, depth + 1)
            if verdict is not None or rule.goto:
                return verdict
            continue
        result.decisions.append(Decision(table=table, chain=chain, kind="rule", verdict="continue", rule=rule,
                                         target=t))
    if depth > 0:
        result.decisions.append(Decision(table=table, chain=chain, kind="return", verdict="return"))
    return None
