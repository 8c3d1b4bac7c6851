"""Prediction against observation, fact by fact: hops (interface, direction, and the packet
as seen there), rules (table, chain, position, verdict), NAT rewrites, the outcome, and an
ICMP error about the probe (type, code, sender).
A field the prediction cannot know (a kernel-chosen IP id, a MAC) is not compared."""
from __future__ import annotations

from difflib import SequenceMatcher

from .icmp_errors import LATE_ERRORS, error_text, is_error
from .model import REPLY, REQUEST, Difference, Hop, PacketView, Resolution, RuleHit, Trace

PACKET_FIELDS = ("src", "dst", "proto", "sport", "dport", "ttl", "icmp_type", "vni")


VXLAN_PORT = 4789


def compare(predicted: Trace, observed: Trace, rules: bool = True) -> list[Difference]:
    """Every disagreement; `rules=False` where the observed rules are counter deltas (the
    legacy backend): unordered and summed over the whole exchange, they compare with nothing."""
    out: list[Difference] = []
    for leg in (REQUEST, REPLY):
        out += _hops(leg, [h for h in predicted.hops if h.leg == leg],
                     [h for h in observed.hops if h.leg == leg and h.via != "bridged-dnat"])
        if rules:
            out += _rules(leg, [r for r in predicted.rules if r.leg == leg and comparable(r)],
                          [r for r in observed.rules if r.leg == leg and comparable(r)])
    out += _resolution(predicted.resolution, observed.resolution)
    out += _nat(predicted, observed)
    out += _outcome(predicted, observed)
    out += _icmp_error(predicted, observed)
    return out


def first_error(t: Trace) -> Hop | None:
    """The ICMP error about the probe: the reply leg's first copy, where it is one."""
    back = t.leg(REPLY)
    return back[0] if back and is_error(back[0].packet) else None


def _icmp_error(predicted: Trace, observed: Trace) -> list[Difference]:
    """The error the kernel sent against the one predicted: type, code and sender (the
    hops compare its way back). A late one (a neighbour that never answered) the trace
    does not wait for: predicted, never walked, not compared."""
    p, o = first_error(predicted), first_error(observed)
    if p is None and o is None:
        return []
    want = error_text(p.packet, p.owner) if p else None
    got = error_text(o.packet, o.owner) if o else None
    if want == got or (o is None and predicted.outcome.reply in LATE_ERRORS):
        return []
    return [Difference("icmp-error", REPLY, want, got)]


def hop_text(h: Hop) -> str:
    return f"{h.node} {h.direction} {h.packet.summary()}"


def _hops(leg: str, pred: list[Hop], seen: list[Hop]) -> list[Difference]:
    out = []
    keys = lambda hs: [(h.netns, h.ifname, h.direction) for h in hs]   # noqa: E731
    for op, i1, i2, j1, j2 in SequenceMatcher(None, keys(pred), keys(seen), autojunk=False).get_opcodes():
        if op == "equal":
            for p, o in zip(pred[i1:i2], seen[j1:j2]):
                if not same_packet(p.packet, o.packet):
                    out.append(Difference("hop", leg, hop_text(p), hop_text(o)))
            continue
        for p in pred[i1:i2]:
            out.append(Difference("hop", leg, hop_text(p), None))
        for o in seen[j1:j2]:
            out.append(Difference("hop", leg, None, hop_text(o)))
    return out


def same_packet(p: PacketView, o: PacketView) -> bool:
    for name in PACKET_FIELDS:
        want = getattr(p, name)
        if want is not None and want != getattr(o, name):
            return False
    if p.proto == "tcp" and p.tcp_flags and o.tcp_flags and p.tcp_flags != o.tcp_flags:
        return False
    if p.outer is not None:
        return o.outer is not None and same_packet(p.outer, o.outer)
    return o.outer is None


def comparable(r: RuleHit) -> bool:
    """Not the NAT chains of a VXLAN outer packet: they run once per VTEP-to-VTEP flow, and
    whether this packet opened that flow depends on traffic before the trace. Nor a built-in
    chain's ACCEPT policy: it passes the packet on unchanged, and whether the kernel reports
    it (nat chains see only a connection's first packet) depends on conntrack state from
    before the trace."""
    p = r.packet
    if r.kind == "policy" and r.verdict == "accept":
        return False
    return not (r.table == "nat" and p is not None and p.proto == "udp" and VXLAN_PORT in (p.dport, p.sport))


def rule_text(r: RuleHit) -> str:
    return f"{r.owner or r.netns}: {r.describe()}"


def _rules(leg: str, pred: list[RuleHit], seen: list[RuleHit]) -> list[Difference]:
    out = []
    keys = lambda rs: [(r.netns, r.table, r.chain, r.kind, r.position, r.verdict) for r in rs]   # noqa: E731
    for op, i1, i2, j1, j2 in SequenceMatcher(None, keys(pred), keys(seen), autojunk=False).get_opcodes():
        if op == "equal":
            continue
        out += [Difference("rule", leg, rule_text(r), None) for r in pred[i1:i2]]
        out += [Difference("rule", leg, None, rule_text(r)) for r in seen[j1:j2]]
    return out


def _nat(predicted: Trace, observed: Trace) -> list[Difference]:
    key = lambda n: (n.leg, n.netns, n.kind, n.before, n.after)    # noqa: E731
    want, got = {key(n): n for n in predicted.nat}, {key(n): n for n in observed.nat}
    out = [Difference("nat", k[0], f"{k[1]}: {k[2]} {k[3]} -> {k[4]}", None) for k in want if k not in got]
    out += [Difference("nat", k[0], None, f"{k[1]}: {k[2]} {k[3]} -> {k[4]}") for k in got if k not in want]
    return out


def _outcome(predicted: Trace, observed: Trace) -> list[Difference]:
    p, o = predicted.outcome, observed.outcome
    out = []
    if (p.status, p.reason, p.netns) != (o.status, o.reason, o.netns):
        out.append(Difference("outcome", REQUEST, f"{p.status} {p.reason or ''} in {p.netns}".replace("  ", " "),
                              f"{o.status} {o.reason or ''} in {o.netns}".replace("  ", " ")))
    if o.kernel_reason is not None and p.kernel_reason != o.kernel_reason:
        # a reason the kernel names only seconds later (NEIGH_FAILED) or not at all (tracefs
        # missing) is not compared: the observed one is what can be missing
        out.append(Difference("outcome", REQUEST, f"kernel reason {p.kernel_reason or '-'}",
                              f"kernel reason {o.kernel_reason}"))
    alternatives = (p.reply or "").split(" or ")
    if o.reply is None and p.reply in LATE_ERRORS:
        pass        # sent seconds after the trace stops watching
    elif p.reply != o.reply and o.reply not in alternatives:
        out.append(Difference("outcome", REPLY, f"reply {p.reply}", f"reply {o.reply}"))
    elif p.reply_status != o.reply_status:
        out.append(Difference("outcome", REPLY, f"reply {p.reply_status}", f"reply {o.reply_status}"))
    return out


def resolution_text(r: Resolution) -> str:
    if r.resolved:
        server = f" from {r.queries[-1].server}" if r.via == "dns" and r.queries else ""
        return f"{r.name} {r.qtype} -> {', '.join(r.addresses)} ({r.via}{server})"
    return f"{r.name} {r.qtype}: {r.status}"


def same_resolution(p: Resolution, o: Resolution) -> bool:
    """Status, where the answer came from (/etc/hosts or which nameserver) and the addresses
    as a set: the embedded DNS answers a name's addresses in a random order."""
    def server(r: Resolution) -> str | None:
        return r.queries[-1].server if r.via == "dns" and r.queries else None
    return (p.status, p.via, server(p), set(p.addresses)) == (o.status, o.via, server(o), set(o.addresses))


def _resolution(p: Resolution | None, o: Resolution | None) -> list[Difference]:
    if p is None or o is None or same_resolution(p, o):
        return []       # a trace in the lab's own view resolves nothing live: nothing to compare
    return [Difference("resolution", None, resolution_text(p), resolution_text(o))]
