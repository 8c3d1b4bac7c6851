"""The numbers and words every view of a trace uses: the CLI report, the JSON, the HTML page,
the graph labels and the pcapng comments all take them from here, so hop 7 is the same
interface, and `routed` the same step, wherever a learner reads it.

Numbering: the hops are numbered once across the whole trace, the request's first, then the
reply's (a request of 6 hops and a reply of 6: 1-6, then 7-12). One number names one hop
in every view (a picture labels a link `2, 12 bridged` when both legs cross it, which a
per-leg numbering could not tell apart without a prefix); it stays a plain number in the
JSON and pcapng; and a reply's number tells it came after the request. Hop 0 is the step
before any packet: DST's name resolved from SRC (`Trace.resolution`).

Words: `how` a packet came to a hop from the one before it in its leg (`Hop.via`, the
machine's word, kept in the JSON, becomes the people's word here); the outcome's words are
the model's statuses (`delivered`, `dropped`, ...); a NAT rewrite is its kind and flows."""
from __future__ import annotations

from dataclasses import dataclass

from .model import DELIVERED, REPLY, REQUEST, Hop, NatRewrite, RuleHit, Trace

NAME_HOP = 0                    # DST's name resolved from SRC: before any packet

SENT = "sent"
BRIDGED = "bridged"
ROUTED = "routed"
ENCAPSULATED = "encapsulated"
DECAPSULATED = "decapsulated"
DROPPED = "dropped"             # the step from the last hop seen to the drop point (pictures)

# Hop.via -> how the packet came to the hop, in the words people read
HOW = {"send": SENT, "veth": "veth", "switch": BRIDGED, "up": BRIDGED, "down": BRIDGED,
       "hairpin": "hairpin", "route": ROUTED, "vxlan-encap": ENCAPSULATED, "vxlan-decap": DECAPSULATED,
       "macvlan": "macvlan", "loopback": "loopback", "bridged-dnat": "bridged-dnat"}
WORDS = tuple(dict.fromkeys(HOW.values()))


@dataclass(frozen=True)
class Step:
    """A hop with its number and the word for how the packet got there."""

    number: int
    hop: Hop
    how: str


def how(before: Hop | None, hop: Hop) -> str:
    """The word for the step from `before` (the previous hop of its leg) to `hop`. A VXLAN
    header appearing or going is told by the packet itself: an observed underlay copy may
    have come by a route."""
    if before is not None and hop.packet.outer is not None and before.packet.outer is None:
        return ENCAPSULATED
    if before is not None and hop.packet.outer is None and before.packet.outer is not None:
        return DECAPSULATED
    return HOW.get(hop.via, hop.via)


def steps(trace: Trace) -> list[Step]:
    """Every hop, numbered from 1 across the trace: the request's, then the reply's."""
    out: list[Step] = []
    last: dict[str, Hop] = {}
    for number, hop in enumerate((*trace.leg(REQUEST), *trace.leg(REPLY)), 1):
        out.append(Step(number, hop, how(last.get(hop.leg), hop)))
        last[hop.leg] = hop
    return out


# ---- the hop each netfilter decision and rewrite is told at -----------------------------
HOOKS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")
ON_ENTRY = ("PREROUTING", "INPUT")              # hooks that act where a packet comes in
NAT_ON_ENTRY = ("DNAT", "de-SNAT")              # rewrites made in PREROUTING

Stay = tuple[str, str, list[int]]               # leg, netns, the numbers of its hops there


def stays(numbered: list[Step]) -> list[Stay]:
    """Each stay of the packet in one namespace: its consecutive hops there."""
    out: list[Stay] = []
    for s in numbered:
        if out and out[-1][0] == s.hop.leg and out[-1][1] == s.hop.netns:
            out[-1][2].append(s.number)
        else:
            out.append((s.hop.leg, s.hop.netns, [s.number]))
    return out


def _stay(found: list[Stay], hops: dict[int, Hop], leg: str, ns: str, names: tuple) -> list[int] | None:
    """The stay in `ns` a decision belongs to: the one crossing the interfaces it names."""
    mine = [numbers for stay_leg, stay_ns, numbers in found if stay_leg == leg and stay_ns == ns]
    for numbers in mine:
        if any(hops[n].ifname in names for n in numbers):
            return numbers
    return mine[0] if mine else None


def _at(numbers: list[int] | None, on_entry: bool) -> int | None:
    """Where the packet came in for PREROUTING and INPUT (and their rewrites), where it went
    out or was last seen for the others; None: the packet made no hop there (a drop before
    it left the namespace)."""
    if not numbers:
        return None
    return numbers[0] if on_entry else numbers[-1]


def rule_hops(trace: Trace) -> list[tuple[int | None, str]]:
    """For each of trace.rules, in order: the number of the hop it is told at, and its hook
    (the built-in chain it was reached from)."""
    numbered = steps(trace)
    hops = {s.number: s.hop for s in numbered}
    found = stays(numbered)
    hook: dict[tuple[str, str], str] = {}
    out = []
    for rule in trace.rules:
        if rule.chain in HOOKS:
            hook[(rule.leg, rule.netns)] = rule.chain
        where = hook.get((rule.leg, rule.netns), rule.chain)
        out.append((_at(_stay(found, hops, rule.leg, rule.netns, (rule.iif, rule.oif)), where in ON_ENTRY), where))
    return out


def nat_hops(trace: Trace) -> list[int | None]:
    """For each of trace.nat, in order: the number of the hop it is told at."""
    numbered = steps(trace)
    hops = {s.number: s.hop for s in numbered}
    found = stays(numbered)
    return [_at(_stay(found, hops, n.leg, n.netns, ()), n.kind in NAT_ON_ENTRY) for n in trace.nat]


def told_at(trace: Trace) -> tuple[dict[int | None, list[RuleHit]], dict[int | None, list[NatRewrite]]]:
    """The rules and rewrites by the hop number they are told at (None: at no hop)."""
    rules: dict[int | None, list[RuleHit]] = {}
    nat: dict[int | None, list[NatRewrite]] = {}
    for r, (n, _) in zip(trace.rules, rule_hops(trace), strict=True):
        rules.setdefault(n, []).append(r)
    for x, n in zip(trace.nat, nat_hops(trace), strict=True):
        nat.setdefault(n, []).append(x)
    return rules, nat


def outcome_hop(trace: Trace) -> int | None:
    """The hop the outcome is told at: the request's last (where it was delivered, or last
    seen before it was dropped); None when it made no hop."""
    n = len(trace.leg(REQUEST))
    return n or None


def outcome_at(trace: Trace) -> str:
    """Where the outcome is told, in words: `at hop 6` (delivered there), `after hop 4` (last
    seen there, then dropped or lost); empty when the request made no hop."""
    n = outcome_hop(trace)
    if n is None:
        return ""
    return f"{'at' if trace.outcome.status == DELIVERED else 'after'} hop {n}"


def rewrite(n: NatRewrite) -> str:
    """A NAT rewrite in words: `MASQUERADE: 192.168.0.2 > 203.0.113.10 -> 10.10.101.105 > 203.0.113.10`."""
    return f"{n.kind}: {n.before} -> {n.after}"


def numbered_dict(trace: Trace, d: dict) -> dict:
    """Trace.to_dict's numbers and words: each hop's `hop` and `how`, the outcome's `hop`,
    the resolution's 0. Changes `d` and returns it."""
    told = {id(s.hop): s for s in steps(trace)}
    for hop, item in zip(trace.hops, d["hops"], strict=True):
        s = told[id(hop)]
        item["hop"], item["how"] = s.number, s.how
    d["outcome"]["hop"] = outcome_hop(trace)
    if d.get("resolution") is not None:
        d["resolution"]["hop"] = NAME_HOP
    return d
