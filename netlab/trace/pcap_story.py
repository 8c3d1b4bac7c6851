"""What each packet of a trace's pcapng says in its comment (pure: frames and a Trace in,
(frame, comment) pairs out; capture.write_pcapng writes them).

A comment is one JSON object, so that Wireshark shows the story beside the bytes and a
script can read it back (`tshark -T fields -e frame.comment`):

    {"leg": "request", "hop": 3, "netns": "demo-node1", "ifname": "veth1a2b3c4", "direction": "out",
     "via": "route", "how": "routed", "rules": [{"table": "filter", "chain": "FORWARD",
     "verdict": "accept", "rule": "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT"}],
     "nat": [{"kind": "DNAT", "before": "...", "after": "...", "rule": "..."}],
     "drop": {"status": "dropped", "reason": "rule", "kernel_reason": "NETFILTER_DROP", ...}}

`hop` and `how` are the CLI report's (trace/vocabulary.py): hops numbered from 1 across
the trace, the request's then the reply's, and the word for how the packet got there. Rules
and rewrites ride on the hop the report lists them under (where the packet came into the
namespace for PREROUTING and INPUT, where it left for the others); the rules of a namespace
no capture saw, and the outcome of a leg that ends short, ride on the leg's last hop, with
the kernel's own reason where it gave one. A copy no hop accounts for says so (`"hop":
null`). The ARP / NDP frames of the trace's neighbour lookups are in the file too
(`"neighbour": {...}`, no hop): a request that died for want of a neighbour never made a
hop, and its unanswered question then carries the drop."""
from __future__ import annotations

import json

from .evidence import ARP_REQUEST, Evidence, Frame, neighbour_request
from .model import DELIVERED, IN, OUT, REPLY, REQUEST, NatRewrite, NeighbourLookup, RuleHit, Trace
from .vocabulary import steps, told_at

Key = tuple[str, str, str, str]         # leg, netns, ifname, direction


def pcap_frames(ev: Evidence, trace: Trace) -> list[tuple[Frame, str]]:
    """The probe's copies (and its reply's), and the ARP / NDP frames of the neighbour
    lookups the trace names, in time order, each with its story as a comment."""
    notes = hop_notes(trace)
    asked = {n.target: n for n in trace.neighbours}
    out = []
    for frame, view in ev.frames:
        leg = ev.signature.leg(view) if view is not None else None
        direction = OUT if frame.outgoing else IN
        if leg is None:
            note = _neighbour(frame, asked, trace)
        else:
            note = notes.get((leg, frame.netns, frame.ifname, direction)) or \
                {"leg": leg, "hop": None, "netns": frame.netns, "ifname": frame.ifname, "direction": direction}
        if note is not None:
            out.append((frame, json.dumps(note, separators=(",", ":"))))
    return sorted(out, key=lambda x: x[0].time_ns)


def _neighbour(frame: Frame, asked: dict[str, NeighbourLookup], trace: Trace) -> dict | None:
    """An ARP request / NDP solicitation for a next hop the trace looked up, or its answer;
    the unanswered question of a request that died for want of a neighbour carries the drop."""
    found = neighbour_request(frame)
    if found is None:
        return None
    sender, target, op = found
    lookup = asked.get(target if op == ARP_REQUEST else sender)
    if lookup is None:
        return None
    question = op == ARP_REQUEST
    what = {"protocol": lookup.protocol,
            "op": ("who-has" if question else "is-at") if lookup.protocol == "arp" else
                  ("neighbour-solicitation" if question else "neighbour-advertisement"),
            "target": lookup.target, "asked_by": lookup.owner or lookup.netns,
            "answered_by": lookup.answered_by}
    note = {"leg": lookup.leg, "hop": None, "netns": frame.netns, "ifname": frame.ifname,
            "direction": OUT if frame.outgoing else IN, "neighbour": what}
    if question and lookup.answered_by is None and trace.outcome.reason == "no-neighbour" and \
            frame.netns == lookup.netns and lookup.leg == REQUEST:
        drop = _drop(trace, REQUEST)
        if drop:
            note["drop"] = drop
    return note


def hop_notes(trace: Trace) -> dict[Key, dict]:
    """Each hop's comment, by (leg, netns, ifname, direction)."""
    notes: dict[Key, dict] = {}
    rules, nat = told_at(trace)
    for leg in (REQUEST, REPLY):
        mine = [s for s in steps(trace) if s.hop.leg == leg]
        for i, step in enumerate(mine, 1):
            h = step.hop
            note = {"leg": leg, "hop": step.number, "netns": h.netns, "ifname": h.ifname,
                    "direction": h.direction, "via": h.via, "how": step.how}
            _add(note, rules.get(step.number, []), nat.get(step.number, []))
            if i == len(mine):              # and what no hop of the leg can tell: a drop before any copy left
                _add(note, [r for r in rules.get(None, []) if r.leg == leg],
                     [x for x in nat.get(None, []) if x.leg == leg])
                drop = _drop(trace, leg)
                if drop:
                    note["drop"] = drop
            notes[(leg, h.netns, h.ifname, h.direction)] = note
    return notes


def _add(note: dict, rules: list[RuleHit], nat: list[NatRewrite]) -> None:
    if rules:
        note["rules"] = note.get("rules", []) + [_rule(r) for r in rules]
    if nat:
        note["nat"] = note.get("nat", []) + [_nat(n) for n in nat]


def _rule(r: RuleHit) -> dict:
    text = r.rule if r.kind == "rule" else f"policy {r.verdict.upper()}" if r.kind == "policy" else "return"
    out = {"netns": r.netns, "table": r.table, "chain": r.chain, "verdict": r.verdict, "rule": text}
    if r.target and r.verdict in ("jump", "goto"):
        out["target"] = r.target
    if r.evidence != "nftrace":
        out["evidence"] = r.evidence
    return out


def _nat(n: NatRewrite) -> dict:
    out = {"netns": n.netns, "kind": n.kind, "before": n.before, "after": n.after}
    if n.rule:
        out["rule"] = n.rule
    return out


def _drop(trace: Trace, leg: str) -> dict | None:
    """The leg's fate where it ends short: the outcome's every field that says where and why
    (the request; a delivered one too when the kernel freed it there, e.g. NO_SOCKET: no
    listener), or the reply's status."""
    o = trace.outcome
    if leg == REQUEST:
        if o.status == DELIVERED and not o.kernel_reason:
            return None
        skip = ("reply", "reply_status", "owner")
        return {k: v for k, v in o.to_dict().items() if k not in skip and v not in (None, "")}
    if o.reply_status and o.reply_status != DELIVERED:
        return {"status": o.reply_status}
    return None

