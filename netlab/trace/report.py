"""A Trace as text for people: the hops of each leg with the packet as seen there, the
rules and NAT of each namespace where the packet passes it, the outcome; on a live trace
the prediction beside each observed hop, and every difference."""
from __future__ import annotations

from .compare import hop_text, same_packet, same_resolution
from .explain import why
from .model import (
    DELIVERED,
    PREDICTED,
    REPLY,
    REQUEST,
    DnsQuery,
    Hop,
    NatRewrite,
    NeighbourLookup,
    Outcome,
    RuleHit,
    Trace,
)
from .vocabulary import NAME_HOP, Step, outcome_at, rewrite, steps, told_at

Told = tuple[dict[int | None, list[RuleHit]], dict[int | None, list[NatRewrite]]]

SAME = "="


def render(t: Trace, all_rules: bool = False) -> str:
    lines = [_title(t)]
    engines = t.engines or (t.predicted.engines if t.predicted else ())
    if engines:
        lines.append(("engine: " if len(engines) == 1 else "engines: ") + ", ".join(e.describe() for e in engines))
    lines += _resolution(t)
    numbered = steps(t)
    told = told_at(t)
    for leg in (REQUEST, REPLY):
        hops = [s for s in numbered if s.hop.leg == leg]
        if not hops and not any(r.leg == leg for r in t.rules) and not any(n.leg == leg for n in t.neighbours):
            continue
        lines.append("")
        lines.append(f"{leg}:" if t.predicted is None else f"{leg}:  (observed | predicted)")
        lines += _leg(t, leg, hops, told, all_rules)
    lines.append("")
    lines.append("outcome: " + _outcome(t))
    if t.predicted is not None:
        lines.append("")
        lines += _differences(t)
    lines += [f"note: {n}" for n in t.notes + (t.predicted.notes if t.predicted else ())]
    lines.append(_sources(t))
    return "\n".join(lines) + "\n"


def _title(t: Trace) -> str:
    what = "predicted" if t.source == PREDICTED else "traced"
    port = f" port {t.port}" if t.port else ""
    return f"{what} in lab {t.project or t.lab}: {t.src} -> {t.dst} ({t.proto}{port})   probe {t.probe.summary()}"


def _leg(t: Trace, leg: str, hops: list[Step], told: Told, all_rules: bool) -> list[str]:
    """Each hop, then the neighbour lookup before it left, then the netfilter decisions and
    rewrites told at it (trace/vocabulary.py: where the packet came in for PREROUTING and
    INPUT, where it left for the others)."""
    out = []
    rules, nat = told
    predicted = {(h.netns, h.ifname, h.direction): h for h in t.predicted.leg(leg)} if t.predicted else {}
    lookups: dict[tuple[str, str], list[NeighbourLookup]] = {}
    for n in t.neighbours:
        if n.leg == leg:
            lookups.setdefault((n.netns, n.ifname), []).append(n)
    for step in hops:
        h = step.hop
        how = f"{step.how} {h.bridge}" if h.bridge else step.how
        when = f" +{h.time_us:.0f}us" if h.time_us is not None else ""
        line = f"  {step.number:2} {h.owner:12.12} {h.node:34} {h.direction:3} {how:24} {h.packet.summary()}{when}"
        if t.predicted is not None:
            p = predicted.get((h.netns, h.ifname, h.direction))
            line += "  | " + ("not predicted" if p is None else
                              SAME if same_packet(p.packet, h.packet) else p.packet.summary())
        out.append(line)
        for n in lookups.pop((h.netns, h.ifname), []) if h.direction == "out" else []:
            out.append(f"      {n.protocol}: {_asked(n)}")
        out += _netfilter(rules.get(step.number, []), nat.get(step.number, []), all_rules)
    for ns in dict.fromkeys(r.netns for r in rules.get(None, []) if r.leg == leg):     # a netns no copy left (a drop)
        out += _netfilter([r for r in rules[None] if r.leg == leg and r.netns == ns],
                          [x for x in nat.get(None, []) if x.leg == leg and x.netns == ns], all_rules)
    for n in (n for left in lookups.values() for n in left):        # asked, and no frame left
        out.append(f"      {n.protocol} in {n.owner or n.netns} {n.ifname}: {_asked(n)}")
    if t.predicted is not None:
        missing = [p for p in t.predicted.leg(leg) if (p.netns, p.ifname, p.direction) not in
                   {(s.hop.netns, s.hop.ifname, s.hop.direction) for s in hops}]
        out += [f"   - predicted, not seen: {hop_text(p)}" for p in missing]
    return out


def _resolution(t: Trace) -> list[str]:
    """Step 0: DST's name, resolved from SRC (each question asked), beside the prediction."""
    r = t.resolution
    if r is None:
        return []
    p = t.predicted.resolution if t.predicted is not None else None
    beside = "" if p is None else "  | " + (SAME if same_resolution(p, r) else p.detail)
    out = ["", f"name: {r.detail}{beside}"]
    if r.via == "hosts":
        out.append(f"  {NAME_HOP:2} {r.owner:12.12} /etc/hosts: {r.name} {', '.join(r.addresses)}")
    out += [f"  {NAME_HOP:2} {r.owner:12.12} {_question(q)}" for q in r.queries]
    return out


def _question(q: DnsQuery) -> str:
    answer = " ".join(q.addresses) if q.addresses else ""
    who = f"  ({q.answered_by})" if q.answered_by else ""
    return f"dns {q.qtype} {q.qname}? to {q.server}: {q.rcode} {answer}".rstrip() + who


def _asked(n: NeighbourLookup) -> str:
    """ARP's and NDP's question and answer in their own words."""
    question = f"who-has {n.target}" if n.protocol == "arp" else f"neighbour solicitation for {n.target}"
    if n.answered_by is None:
        return f"{question}: no answer"
    return f"{question}: {n.answered_by} answers" + (f" {n.mac}" if n.mac else "")


def _netfilter(rules: list[RuleHit], nat: list[NatRewrite], all_rules: bool) -> list[str]:
    out = []
    boring = [r for r in rules if r.kind == "policy" and r.verdict == "accept"]
    for r in rules:
        if r in boring and not all_rules:
            continue
        mark = " (counters)" if r.evidence == "counters" else ""
        out.append(f"        {r.describe()}{mark}")
        gloss = why(r.table, r.chain, r.rule, r.verdict)
        if gloss and r.verdict in ("accept", "drop"):
            out.append(f"          = {gloss}")
    if boring and not all_rules:
        out.append(f"        policy ACCEPT: {', '.join(dict.fromkeys(f'{r.table} {r.chain}' for r in boring))}")
    for n in nat:
        rule = f"  ({n.rule})" if n.rule else ""
        out.append(f"        NAT {rewrite(n)}{rule}")
    if out:
        first = rules[0] if rules else nat[0]
        out.insert(0, f"      netfilter in {first.owner or first.netns}:")
    return out


def _outcome(t: Trace) -> str:
    o = t.outcome
    at = outcome_at(t)
    text = o.detail or o.status
    if o.status != DELIVERED and o.reason:
        text = f"{o.status} ({o.reason}): {text}"
    if at:
        text += f", {at}"
    if o.kernel_reason:
        text += f" [kernel: {o.kernel_reason}]"
    if o.reply:
        text += f"; reply {o.reply}: {o.reply_status or 'not seen back'}"
    elif o.status == DELIVERED:
        text += "; no reply"
    return text


def _differences(t: Trace) -> list[str]:
    if not t.differences:
        return ["prediction: agrees with the observation (hops, rules, NAT, outcome)"]
    out = [f"prediction: {len(t.differences)} difference(s)"]
    for d in t.differences:
        out.append(f"  ! {d.what} ({d.leg}): predicted {d.predicted or '-'}  |  observed {d.observed or '-'}")
    return out


def _sources(t: Trace) -> str:
    counts: dict[str, int] = {}
    facts: list[Hop | RuleHit | NatRewrite | Outcome] = [*t.hops, *t.rules, *t.nat, t.outcome]
    for f in facts:
        key = f"{f.source} ({f.evidence})" if f.evidence else f.source
        counts[key] = counts.get(key, 0) + 1
    return "facts: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
