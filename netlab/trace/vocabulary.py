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

from .model import DELIVERED, REPLY, REQUEST, Hop, NatRewrite, Trace

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
