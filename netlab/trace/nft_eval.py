"""A small evaluator of the nftables rules Docker's nftables backend writes (table ip
docker-bridges), for prediction without root: the nftables twin of iptables.py, reporting
the same decisions (a matched rule, a user chain's end, a base chain's policy) that nftrace
reports for those rules.

Matches understood: `iifname`/`oifname` (and `meta iifname`, `iif`, `oif`; `"br-*"`
wildcards), `ip saddr|daddr` and `ip6 saddr|daddr` (addresses, prefixes, sets), `ip protocol`,
`ip6 nexthdr`, `meta l4proto`, `meta nfproto`, `tcp|udp|th sport|dport` (ports, ranges,
sets), `ct state`, `fib saddr|daddr type`, `icmp type`, `icmpv6 type`, each with `!=`;
`vmap` on a named or an anonymous map. Statements: `counter`,
`accept`, `drop`, `reject`, `return`, `continue`, `jump`, `goto`, `dnat to`, `snat to`,
`masquerade`, `comment`, `log`, `notrack`. A rule with anything else is taken as not
matching, and said so in a note."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import ip_address

from .iptables import PROTO_NAMES, Context, Decision, HookResult, network
from .model import PacketView
from .nft_model import NftRule, NftTable

VERDICTS = {"accept": "accept", "drop": "drop", "reject": "drop", "return": "return", "continue": "continue"}
NAT = {"dnat": "DNAT", "snat": "SNAT", "masquerade": "MASQUERADE"}
ICMP_TYPES = {"echo-reply": 0, "destination-unreachable": 3, "echo-request": 8, "time-exceeded": 11}
ICMP6_TYPES = {"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "echo-request": 128,
               "echo-reply": 129, "nd-neighbor-solicit": 135, "nd-neighbor-advert": 136}
ADDRESSES = {"ip saddr": (4, "src"), "ip daddr": (4, "dst"), "ip6 saddr": (6, "src"), "ip6 daddr": (6, "dst")}
_TOKEN = re.compile(r'"[^"]*"|!=|==|[{}]|[^\s{}"]+')
MAX_DEPTH = 16


@dataclass(frozen=True)
class Cond:
    """One match: `selector op values`; `vmap` holds a verdict map instead of values."""

    selector: str                   # iifname | oifname | ip saddr | tcp dport | ct state | fib daddr type | ...
    negated: bool
    values: tuple[str, ...] = ()
    lookup: str | None = None       # @set
    vmap: tuple[tuple[str, str], ...] | None = None     # anonymous verdict map
    vmap_name: str | None = None    # @map


@dataclass(frozen=True)
class Parsed:
    conds: tuple[Cond, ...]
    verdict: str | None = None      # accept | drop | return | continue | jump | goto
    target: str | None = None       # the chain of a jump/goto
    nat: tuple[str, str] | None = None      # (DNAT | SNAT | MASQUERADE, the address[:port] or "")
    comment: str | None = None
    unknown: str | None = None      # the first word the evaluator cannot judge


SELECTORS = {"iifname", "oifname", "iif", "oif"}
TWO_WORD = {"ip": ("saddr", "daddr", "protocol"), "ip6": ("saddr", "daddr", "nexthdr"),
            "meta": ("l4proto", "iifname", "oifname", "iif", "oif", "nfproto"),
            "tcp": ("sport", "dport"), "udp": ("sport", "dport"), "th": ("sport", "dport"),
            "ct": ("state",), "icmp": ("type",), "icmpv6": ("type",)}


@lru_cache(maxsize=4096)
def parse_rule(text: str) -> Parsed:
    words = _TOKEN.findall(text)
    conds: list[Cond] = []
    verdict = target = comment = None
    nat: tuple[str, str] | None = None
    i = 0
    while i < len(words):
        w = words[i]
        selector, step = _selector(words, i)
        if selector is not None:
            cond, i = _cond(selector, words, i + step)
            if cond is None:
                return Parsed(tuple(conds), unknown=" ".join(words[i - step:i + 1]))
            conds.append(cond)
        elif w == "counter":
            i += 5 if words[i + 1:i + 2] == ["packets"] else 1
        elif w in VERDICTS:
            verdict = VERDICTS[w]
            i += 1
            if w == "reject" and words[i:i + 1] == ["with"]:
                i += 4 if words[i + 1:i + 2] == ["icmp"] else 3
        elif w in ("jump", "goto") and i + 1 < len(words):
            verdict, target = w, words[i + 1]
            i += 2
        elif w in NAT:
            nat, i = _nat(w, words, i + 1)
            verdict = "accept"
        elif w == "comment" and i + 1 < len(words):
            comment = words[i + 1].strip('"')
            i += 2
        elif w == "log":
            i += 1
            while i + 1 < len(words) and words[i] in ("prefix", "level", "group", "flags"):
                i += 2
        elif w == "notrack":
            i += 1
        else:
            return Parsed(tuple(conds), unknown=w)
    return Parsed(tuple(conds), verdict=verdict, target=target, nat=nat, comment=comment)


def _selector(words: list[str], i: int) -> tuple[str | None, int]:
    w = words[i]
    if w in SELECTORS:
        return w, 1
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if w in TWO_WORD and nxt in TWO_WORD[w]:
        name = f"{w} {nxt}"
        return {"meta iifname": "iifname", "meta oifname": "oifname", "meta iif": "iif",
                "meta oif": "oif"}.get(name, name), 2
    if w == "fib" and nxt in ("saddr", "daddr") and words[i + 2:i + 3] == ["type"]:
        return f"fib {nxt} type", 3
    return None, 0


def _cond(selector: str, words: list[str], i: int) -> tuple[Cond | None, int]:
    negated = False
    if i < len(words) and words[i] in ("!=", "=="):
        negated = words[i] == "!="
        i += 1
    if i >= len(words):
        return None, i
    if words[i] == "vmap":
        if i + 1 < len(words) and words[i + 1].startswith("@"):
            return Cond(selector, negated, vmap_name=words[i + 1][1:]), i + 2
        elements, i = _braced(words, i + 1)
        if elements is None:
            return None, i
        pairs = tuple((k.strip().strip('"'), v.strip()) for k, _, v in (e.partition(" : ") for e in elements))
        return Cond(selector, negated, vmap=pairs), i
    if words[i].startswith("@"):
        return Cond(selector, negated, lookup=words[i][1:]), i + 1
    if words[i] == "{":
        elements, i = _braced(words, i)
        return (None, i) if elements is None else (Cond(selector, negated, tuple(e.strip('"') for e in elements)), i)
    return Cond(selector, negated, tuple(v.strip('"') for v in words[i].split(","))), i + 1


def _braced(words: list[str], i: int) -> tuple[list[str] | None, int]:
    """`{ a, b : jump c }` from words[i] == "{" -> ["a", "b : jump c"]."""
    if i >= len(words) or words[i] != "{":
        return None, i
    end = i + 1
    while end < len(words) and words[end] != "}":
        end += 1
    if end >= len(words):
        return None, end
    return split_elements(" ".join(words[i + 1:end])), end + 1


def split_elements(body: str) -> list[str]:
    """`"a" : jump x, "b" : jump y` -> its elements (a comma inside quotes is kept)."""
    out: list[str] = []
    current, quoted = "", False
    for ch in body:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(current)
            current = ""
        else:
            current += ch
    out.append(current)
    return [" ".join(item.split()) for item in out if item.strip()]


def _nat(kind: str, words: list[str], i: int) -> tuple[tuple[str, str], int]:
    if words[i:i + 1] in (["ip"], ["ip6"]):
        i += 1
    to = ""
    if words[i:i + 1] == ["to"] and i + 1 < len(words):
        to, i = words[i + 1], i + 2
    while i < len(words) and words[i] in ("random", "fully-random", "persistent"):
        i += 1
    return (NAT[kind], to), i


# ---- matching ----------------------------------------------------------------------------
def matches(rule: Parsed, table: NftTable, pkt: PacketView, ctx: Context) -> tuple[bool, str | None, str | None]:
    """(matched, the verdict a vmap gave, its chain) for one rule."""
    verdict = target = None
    for cond in rule.conds:
        value = _subject(cond.selector, pkt, ctx)
        if cond.vmap is not None or cond.vmap_name is not None:
            found = _vmap(cond, table, value)
            if found is None:
                return False, None, None
            verdict, _, target = found.partition(" ")
            continue
        if value is None and cond.selector not in ("iifname", "oifname"):
            # no such device (the index lookup breaks the rule), or a header this packet has
            # not: nft's implied dependency (`ip saddr` needs IPv4, `tcp dport` tcp) fails
            # first, so not even `!=` matches
            return False, None, None
        values = cond.values
        if cond.lookup is not None:
            s = table.set(cond.lookup)
            values = tuple(k for k, _ in s.elements) if s else ()
        if _one_of(cond.selector, value, values) == cond.negated:
            return False, None, None
    return True, verdict, target or None


def _subject(selector: str, pkt: PacketView, ctx: Context) -> str | None:
    """What the selector reads from this packet; None where it has nothing (no input device
    in OUTPUT: `iifname` then reads "", which `!=` any name matches, as iptables' `! -i`)."""
    if selector in ("iifname", "iif"):
        return ctx.iif
    if selector in ("oifname", "oif"):
        return ctx.oif
    if selector in ADDRESSES:
        # in an inet table, `ip saddr` does not match an IPv6 packet (nor `ip6 saddr` an IPv4 one)
        family, side = ADDRESSES[selector]
        return None if pkt.family != family else pkt.src if side == "src" else pkt.dst
    if selector in ("ip protocol", "meta l4proto", "ip6 nexthdr"):
        if selector == "ip protocol" and pkt.family != 4 or selector == "ip6 nexthdr" and pkt.family != 6:
            return None
        return pkt.proto
    if selector == "meta nfproto":
        return f"ipv{pkt.family}"
    if selector in ("tcp dport", "tcp sport", "udp dport", "udp sport", "th dport", "th sport"):
        proto, field = selector.split()
        if proto != "th" and pkt.proto != proto or pkt.proto not in ("tcp", "udp"):
            return None
        port = pkt.dport if field == "dport" else pkt.sport
        return None if port is None else str(port)
    if selector == "ct state":
        return ctx.ctstate.lower()
    if selector in ("fib daddr type", "fib saddr type"):
        addr = ip_address(pkt.dst if selector == "fib daddr type" else pkt.src)
        return "local" if addr in ctx.local or addr.is_loopback else "unicast"
    if selector in ("icmp type", "icmpv6 type"):
        wanted = "icmp" if selector == "icmp type" else "icmp6"
        return None if pkt.proto != wanted or pkt.icmp_type is None else str(pkt.icmp_type)
    return None


def _one_of(selector: str, value: str | None, values: tuple[str, ...]) -> bool:
    if value is None:
        return False
    for v in values:
        if selector in ("iifname", "oifname", "iif", "oif"):
            if v.endswith("*") and value.startswith(v[:-1]) or v == value:
                return True
        elif selector in ADDRESSES:
            if ip_address(value) in network(v):
                return True
        elif selector in ("ip protocol", "meta l4proto", "ip6 nexthdr"):
            if PROTO_NAMES.get(v, v) == value:
                return True
        elif selector.endswith("port"):
            lo, _, hi = v.partition("-")
            if int(lo) <= int(value) <= int(hi or lo):
                return True
        elif selector in ("icmp type", "icmpv6 type"):
            if str((ICMP_TYPES if selector == "icmp type" else ICMP6_TYPES).get(v, v)) == value:
                return True
        elif v == value:
            return True
    return False



def _vmap(cond: Cond, table: NftTable, value: str | None) -> str | None:
    """The verdict (`jump chain`, `accept`, ...) the map holds for `value`."""
    if cond.vmap is not None:
        pairs: tuple[tuple[str, str | None], ...] = cond.vmap
    else:
        s = table.set(cond.vmap_name or "")
        pairs = s.elements if s else ()
    for key, verdict in pairs:
        if verdict and _one_of(cond.selector, value, (key,)):
            return verdict
    return None


# ---- chains ------------------------------------------------------------------------------
def run_chain(table: NftTable, chain: str, pkt: PacketView, ctx: Context, result: HookResult,
              depth: int = 0) -> str | None:
    """accept | drop, or None when the chain ran out (or returned)."""
    if depth > MAX_DEPTH:
        result.notes.append(f"{table.name} {chain}: jumps nest deeper than {MAX_DEPTH}; stopped there")
        return "drop"
    c = table.chain(chain)
    for rule in c.rules if c else ():
        parsed = parse_rule(rule.text)
        if parsed.unknown is not None:
            note = f"{table.name} {chain}: {rule.text}: the predictor cannot evaluate {parsed.unknown!r}; " \
                   "taken as not matching"
            if note not in result.notes:
                result.notes.append(note)
            continue
        hit, verdict, target = matches(parsed, table, pkt, ctx)
        if not hit:
            continue
        verdict, target = (verdict, target) if verdict else (parsed.verdict, parsed.target)
        outcome = _apply(table, chain, rule, parsed, verdict, target, pkt, ctx, result, depth)
        if outcome != "next":
            return outcome
    if depth > 0:
        result.decisions.append(Decision(table=table.name, chain=chain, kind="return", verdict="return"))
    return None


def _apply(table: NftTable, chain: str, rule: NftRule, parsed: Parsed, verdict: str | None, target: str | None,
           pkt: PacketView, ctx: Context, result: HookResult, depth: int) -> str | None:
    """One matched rule's verdict: accept | drop | None (return), or "next" to go on."""
    def decide(v: str, to: str | None = None) -> None:
        result.decisions.append(Decision(table=table.name, chain=chain, kind="rule", verdict=v, rule=rule, target=to))

    if parsed.nat is not None and verdict == "accept":
        decide("accept", parsed.nat[0])
        result.nat, result.nat_rule = parsed.nat, rule
        return "accept"
    if verdict in ("accept", "drop"):
        decide(verdict)
        return verdict
    if verdict == "return":
        decide("return")
        return None
    if verdict in ("jump", "goto") and target is not None and table.chain(target) is not None:
        decide(verdict, target)
        inner = run_chain(table, target, pkt, ctx, result, depth + 1)
        if inner is not None or verdict == "goto":
            return inner
        return "next"
    decide("continue")
    return "next"
