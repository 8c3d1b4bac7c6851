"""Evidence -> the observed Trace (pure: no kernel, no scapy).

Captures give the hops (ordered by kernel timestamp; copies of one skb share a timestamp,
so ties follow the predicted order), nftrace gives the rules (in arrival order per netns,
placed where the leg visits that netns: trace events carry no timestamps), conntrack gives
the NAT tuples, counters stand in for nftrace where it is blind. What no source saw but
the evidence implies is marked `inferred`."""
from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_address

from . import kdrops, nft_eval
from .evidence import (
    FAMILY_NAMES,
    NFPROTO_IPV6,
    NS,
    TABLE_PREFIX,
    Evidence,
    Frame,
    TraceEvent,
    flow_label,
    rule_text,
)
from .iptables import parse_rule
from .lookups import observed_lookups
from .model import (
    IN,
    INFERRED,
    OBSERVED,
    OUT,
    REPLY,
    REQUEST,
    Hop,
    NatRewrite,
    Outcome,
    PacketView,
    RuleHit,
    Trace,
)
from .outcome import observed_outcome
from .outcome import owner as _owner
from .wiring import RouteEntry, Wiring, engines_on

BRIDGED_DNAT = "bridged-dnat"      # a copy on the bridge device itself, see _via


def correlate(ev: Evidence, wiring: Wiring, predicted: Trace | None = None) -> Trace:
    order = _predicted_order(predicted)
    hops = _hops(ev, wiring, order)
    rules = _rules(ev, wiring, hops)
    notes: list[str] = []
    rules += _counter_rules(ev, wiring, rules, notes)
    nat = _nat(ev, wiring, hops, rules)
    outcome = observed_outcome(ev, wiring, hops, rules, predicted, _solicitation_drop(ev, wiring))
    outcome = _kernel_reason(ev, wiring, hops, outcome, notes)
    neighbours = observed_lookups(ev, wiring, hops)
    p = ev.probe
    probe_view = next((h.packet for h in hops if h.leg == REQUEST), None) or \
        (predicted.probe if predicted else PacketView(str(p.src_ip), str(p.dst_ip), ev.signature.proto))
    crossed = [p.netns, *(h.netns for h in hops), *(r.netns for r in rules), outcome.netns or ""]
    return Trace(lab=wiring.lab, src=p.src, dst=p.dst, proto=p.proto, port=p.dport, probe=probe_view, hops=tuple(hops),
                 rules=tuple(rules), nat=tuple(nat), neighbours=tuple(neighbours), outcome=outcome, source=OBSERVED,
                 notes=tuple(notes),
                 engines=engines_on(wiring, crossed))


def _kernel_reason(ev: Evidence, wiring: Wiring, hops: list[Hop], outcome: Outcome, notes: list[str]) -> Outcome:
    """The kernel's own reason for the drop (tracefs' skb:kfree_skb), beside the rule or
    route the outcome names; the route lookup that failed, when one did; and the table and
    route of each routing decision on the way."""
    if ev.kernel_missing is not None:
        notes.append(f"the kernel's drop reasons were not recorded: {ev.kernel_missing}")
        return outcome
    if not ev.kernel:
        return outcome
    drop, lookups = kdrops.observed_reason(ev, outcome)
    for leg in (REQUEST, REPLY):
        for hop, lookup in kdrops.routed(lookups, [h for h in hops if h.leg == leg], ev.ifnames):
            space = wiring.spaces.get(hop.netns)
            prefix = _route_prefix(space.routes if space else [], hop.packet.dst, lookup.dev)
            notes.append(f"{_owner(wiring, hop.netns)} routed the {leg} ({hop.packet.flow()}) by "
                         f"{kdrops.route_text(lookup, prefix)}")
    failed = [r for r in lookups if not r.found]
    if failed and outcome.reason == "no-route":
        notes.append(f"the kernel's route lookup: {failed[0].describe()}")
    if drop is None:
        return outcome
    notes.append(f"the kernel dropped it in {drop.location} ({drop.reason}) after {drop.ifname}")
    return replace(outcome, kernel_reason=drop.reason)


def _route_prefix(routes: list[RouteEntry], dst: str, dev: str) -> str | None:
    """The longest prefix of the plan's routes through `dev` holding `dst`."""
    address = ip_address(dst)
    held = [r.dst for r in routes if r.dev == dev and r.dst.version == address.version and address in r.dst]
    return str(max(held, key=lambda n: n.prefixlen)) if held else None


# ---- hops ----------------------------------------------------------------------------
def _predicted_order(predicted: Trace | None) -> dict[tuple, int]:
    if predicted is None:
        return {}
    return {(h.leg, h.netns, h.ifname, h.direction): i for i, h in enumerate(predicted.hops)}


_Seen = tuple[Frame, PacketView, str]        # a captured copy of the probe or its reply, and its leg


def _hops(ev: Evidence, wiring: Wiring, order: dict[tuple, int]) -> list[Hop]:
    seen: list[_Seen] = []
    for frame, view in ev.frames:
        if view is None:
            continue
        leg = ev.signature.leg(view)
        if leg is not None:
            seen.append((frame, view, leg))
    if ev.probe.proto == "tcp":
        seen = _first_exchange(seen)
    # copies of one skb share a timestamp: the walk's order breaks the tie
    seen.sort(key=lambda s: (s[2] != REQUEST, s[0].time_ns,
                             order.get((s[2], s[0].netns, s[0].ifname, OUT if s[0].outgoing else IN), 1 << 30)))
    t0 = seen[0][0].time_ns if seen else 0
    hops: list[Hop] = []
    for frame, view, leg in seen:
        direction = OUT if frame.outgoing else IN
        if any(h.leg == leg and h.netns == frame.netns and h.ifname == frame.ifname and h.direction == direction
               for h in hops):
            continue        # a second copy (a retransmission): the trace follows the first
        prev = next((h for h in reversed(hops) if h.leg == leg and h.via != BRIDGED_DNAT), None)
        via, bridge = _via(wiring, prev, frame.netns, frame.ifname, direction, view)
        hops.append(Hop(netns=frame.netns, ifname=frame.ifname, direction=direction, packet=view, leg=leg, via=via,
                        bridge=bridge, owner=_owner(wiring, frame.netns), time_us=round((frame.time_ns - t0) / 1000, 1),
                        source=OBSERVED, evidence="capture"))
    return hops


def _first_exchange(seen: list[_Seen]) -> list[_Seen]:
    """TCP: the SYN and what first answers it; the rest of the connection is not the probe's."""
    out: list[_Seen] = []
    answered = False
    for frame, view, leg in sorted(seen, key=lambda s: s[0].time_ns):
        if leg == REPLY:
            first_reply = next((v for _, v, lg in out if lg == REPLY), None)
            if first_reply is not None and view.tcp_flags != first_reply.tcp_flags:
                continue
            answered = True
        elif answered:
            continue
        out.append((frame, view, leg))
    return out


def _via(wiring: Wiring, prev: Hop | None, ns: str, ifname: str, direction: str,
         view: PacketView) -> tuple[str, str | None]:
    """How the packet got from the previous hop of its leg to this one."""
    if prev is None:
        return "send", None
    if ifname == "lo" and prev.ifname == "lo" and prev.netns == ns:
        return "loopback", None
    iface = wiring.spaces[ns].ifaces.get(ifname) if ns in wiring.spaces else None
    here = iface.kind if iface else ""
    if view.outer is not None and prev.packet.outer is None:
        return "vxlan-encap", None
    if prev.netns != ns:
        if here == "vxlan" or (prev.packet.outer is not None and view.outer is None):
            return "vxlan-decap", None
        if here == "macvlan" or _macvlan_link(wiring, prev, ns, ifname):
            return "macvlan", None
        return "veth", None
    prev_iface = wiring.spaces[ns].ifaces.get(prev.ifname) if ns in wiring.spaces else None
    prev_master = prev_iface.master if prev_iface else None
    master = iface.master if iface else None
    if direction == OUT and prev.direction == IN and here == "bridge" and prev_master == ifname:
        # br_netfilter re-routed a DNATed frame back into its bridge and, the neighbour having
        # no cached header yet, sent it through the bridge device's own transmit
        return BRIDGED_DNAT, ifname
    if direction == OUT and prev.direction == IN and master and master == prev_master:
        return ("hairpin" if prev.ifname == ifname else "switch"), master
    if direction == IN and here == "bridge" and prev_master == ifname:
        return "up", ifname
    if direction == OUT and prev.direction == OUT and prev_iface and prev_iface.kind == "bridge" \
            and master == prev.ifname:
        return "down", prev.ifname
    if direction == OUT and here == "macvlan" or prev_iface and prev_iface.kind == "macvlan":
        return "macvlan", None
    if direction == IN and prev.direction == IN and here == "veth":
        return "macvlan", None
    return "route", None


def _macvlan_link(wiring: Wiring, prev: Hop, ns: str, ifname: str) -> bool:
    return any(m.netns in (prev.netns, ns) and m.name in (prev.ifname, ifname)
               for m in wiring.macvlans_on(ns, ifname) + wiring.macvlans_on(prev.netns, prev.ifname))


# ---- rules ---------------------------------------------------------------------------
def _rules(ev: Evidence, wiring: Wiring, hops: list[Hop]) -> list[RuleHit]:
    header: dict[tuple[str, int], PacketView] = {}
    labels: dict[tuple[str, int], int] = {}
    out: list[tuple[tuple, RuleHit]] = []
    for e in ev.events:
        if e.table.startswith(TABLE_PREFIX):
            continue                                    # ours, or a concurrent trace's
        if e.packet is not None:
            header[(e.netns, e.id)] = e.packet
        if e.flow_label is not None:
            labels[(e.netns, e.id)] = e.flow_label
        pkt = header.get((e.netns, e.id))
        leg = _event_leg(ev, pkt, labels.get((e.netns, e.id))) if pkt is not None else None
        if pkt is None or leg is None:
            continue
        hit = _hit(ev, wiring, e, pkt, leg)
        if hit is None:
            continue
        out.append(((leg != REQUEST, _visit(hops, leg, e.netns), e.order), hit))
    out.sort(key=lambda x: x[0])
    return [h for _, h in out]


def _solicitation_drop(ev: Evidence, wiring: Wiring) -> RuleHit | None:
    """The rule that dropped an NDP solicitation for one of the probe's next hops (the trace
    table marks those too): not one of the probe's rules, the reason nobody answered."""
    header: dict[tuple[str, int], PacketView] = {}
    for e in ev.events:
        if e.table.startswith(TABLE_PREFIX):
            continue
        if e.packet is not None:
            header[(e.netns, e.id)] = e.packet
        pkt = header.get((e.netns, e.id))
        if pkt is not None and pkt.proto == "icmp6" and pkt.icmp_type == NS and e.verdict == "drop":
            return _hit(ev, wiring, e, pkt, REQUEST)
    return None


def _event_leg(ev: Evidence, pkt: PacketView, label: int | None = None) -> str | None:
    leg = ev.signature.leg(pkt)
    if leg is not None:
        return leg
    # a header that cannot show the key (an ICMP error, whose quote the event cuts off; a
    # VXLAN outer header): ours if a captured copy with the same IP header is ours. The IP
    # id tells IPv4 headers apart; IPv6 has the flow label instead (`label`, the event's)
    for frame, view in ev.frames:
        if view is None:
            continue
        for copy in (view, view.outer):
            if copy is None or (copy.src, copy.dst, copy.proto) != (pkt.src, pkt.dst, pkt.proto):
                continue
            same = copy.ip_id == pkt.ip_id if ":" not in pkt.dst else \
                copy is view and label is not None and flow_label(frame) == label
            if same and (leg := ev.signature.leg(view)) is not None:
                return leg
    return None


def _visit(hops: list[Hop], leg: str, ns: str) -> int:
    """Where in the leg the packet was in `ns` (its first hop there), for ordering."""
    return next((i for i, h in enumerate(hops) if h.leg == leg and h.netns == ns), 1 << 30)


def _hit(ev: Evidence, wiring: Wiring, e: TraceEvent, pkt: PacketView, leg: str) -> RuleHit | None:
    """The rule an event names. The event's nf_tables family picks the rules: ip6tables'
    for an ip6 table (its tables have the iptables tables' names), a native table by
    family and name."""
    space = wiring.spaces.get(e.netns)
    ruleset = (space.ruleset6 if e.family == NFPROTO_IPV6 else space.ruleset) if space else None
    native = ev.nft.get(e.netns)
    nft_table = native.table(e.table, FAMILY_NAMES.get(e.family)) if native is not None else None
    table = ruleset.table(e.table) if ruleset and nft_table is None else None
    chain = nft_table.chain(e.chain) if nft_table else table.chain(e.chain) if table else None
    kind, verdict, text, position, handle = e.kind, e.verdict, None, None, None
    if kind in ("rule", "return") and e.handle is None:
        # the kernel's note that a chain ran out of rules: a built-in chain's policy
        # event follows; a user chain returns to its caller
        if chain is None or chain.builtin:
            return None
        kind, verdict = "return", "return"
    elif kind in ("rule", "return") and nft_table is not None:
        # the kernel's rule dump gives the handle's place in its chain, the listing its text
        kind, handle = "rule", e.handle
        ref = ev.refs(e.netns, e.family).get((e.table, e.chain, e.handle or 0))
        nft_chain = nft_table.chain(e.chain)
        if ref is not None and nft_chain is not None and 1 <= ref.position <= len(nft_chain.rules):
            text, position = nft_chain.rules[ref.position - 1].text, ref.position
    elif kind in ("rule", "return"):
        kind = "rule"
        ref = ev.refs(e.netns, e.family).get((e.table, e.chain, e.handle or 0))
        if ref is not None:
            position = ref.position
            text = rule_text(ruleset, e.table, e.chain, position) if ruleset else None
    names = ev.ifnames.get(e.netns, {})
    target = e.target
    if text and verdict == "accept":
        target = nat_target(text, e.chain, position or 0) or target
    return RuleHit(netns=e.netns, table=e.table, chain=e.chain, kind=kind, verdict=verdict, rule=text,
                   position=position, target=target, leg=leg, iif=names.get(e.iif) if e.iif else None,
                   oif=names.get(e.oif) if e.oif else None, packet=pkt, owner=_owner(wiring, e.netns), source=OBSERVED,
                   evidence="nftrace", handle=handle)


def nat_target(text: str, chain: str, position: int) -> str | None:
    """DNAT, SNAT or MASQUERADE for a NAT rule's text (iptables-save's or nft's), else None."""
    if text.startswith("-A "):
        target = parse_rule(chain, position, text.split(" ", 2)[2]).target
    else:
        nat = nft_eval.parse_rule(text).nat
        target = nat[0] if nat else None
    return target if target in ("DNAT", "SNAT", "MASQUERADE") else None


_COUNTED_VERDICTS: dict[str | None, str] = {
    "ACCEPT": "accept", "DROP": "drop", "REJECT": "drop", "RETURN": "return",
    "DNAT": "accept", "SNAT": "accept", "MASQUERADE": "accept"}


def _counter_rules(ev: Evidence, wiring: Wiring, rules: list[RuleHit], notes: list[str]) -> list[RuleHit]:
    """Where nftrace saw nothing (legacy backend) but counters moved: those rules, unordered.
    Only where nftrace is blind: elsewhere a counter that moved in a namespace the probe never
    reached counts someone else's packets (a container's DNS query at that moment)."""
    if ev.flavour != "legacy":
        return []
    out = []
    for ns, moved in sorted(ev.counters.items()):
        if not moved or any(r.netns == ns for r in rules):
            continue
        space = wiring.spaces.get(ns)
        ruleset = (space.ruleset6 if ev.probe.family == 6 else space.ruleset) if space else None
        for (table, chain, position), _ in sorted(moved.items(), key=lambda x: (x[0][0], x[0][1], x[0][2] or 1 << 20)):
            if position is None:
                t = ruleset.table(table) if ruleset else None
                c = t.chain(chain) if t else None
                out.append(RuleHit(netns=ns, table=table, chain=chain, kind="policy",
                                   verdict=(c.policy or "ACCEPT").lower() if c else "accept", leg=REQUEST,
                                   owner=_owner(wiring, ns), evidence="counters"))
                continue
            text = rule_text(ruleset, table, chain, position) if ruleset else None
            target = parse_rule(chain, position, text.split(" ", 2)[2]).target if text else None
            verdict = _COUNTED_VERDICTS.get(target, "jump")
            out.append(RuleHit(netns=ns, table=table, chain=chain, kind="rule", verdict=verdict, rule=text,
                               position=position, target=target, leg=REQUEST, owner=_owner(wiring, ns),
                               evidence="counters"))
        notes.append(f"{_owner(wiring, ns)}: rules from counter deltas; their order and leg are not known")
    return out


# ---- NAT -----------------------------------------------------------------------------
def _nat(ev: Evidence, wiring: Wiring, hops: list[Hop], rules: list[RuleHit]) -> list[NatRewrite]:
    out: list[NatRewrite] = []
    done: set[tuple[str, str]] = set()
    key = ev.signature.key
    for ct in ev.conntrack:
        if ct.orig.proto != ev.signature.proto or key not in (ct.orig.sport, ct.orig.dport):
            continue
        if not (ct.snat or ct.dnat) or (ct.netns, "request") in done:
            continue
        done.add((ct.netns, "request"))
        owner = _owner(wiring, ct.netns)
        nat_rules = [r for r in rules if r.netns == ct.netns and r.leg == REQUEST
                     and r.target in ("DNAT", "SNAT", "MASQUERADE")]
        flow = ct.orig
        if ct.dnat:
            new = replace(flow, dst=ct.reply.src, dport=ct.reply.sport)
            rule = next((r.rule for r in nat_rules if r.target == "DNAT"), None)
            out.append(NatRewrite(netns=ct.netns, kind="DNAT", before=flow.flow(), after=new.flow(), leg=REQUEST,
                                  rule=rule, original=ct.orig.flow(), reply=ct.reply.flow(), owner=owner,
                                  source=OBSERVED, evidence="conntrack"))
            flow = new
        if ct.snat:
            new = replace(flow, src=ct.reply.dst, sport=ct.reply.dport)
            hit = next((r for r in nat_rules if r.target in ("SNAT", "MASQUERADE")), None)
            out.append(NatRewrite(netns=ct.netns, kind=hit.target if hit and hit.target else "SNAT", before=flow.flow(),
                                  after=new.flow(), leg=REQUEST, rule=hit.rule if hit else None,
                                  original=ct.orig.flow(), reply=ct.reply.flow(), owner=owner, source=OBSERVED,
                                  evidence="conntrack"))
        if any(h.leg == REPLY and h.netns == ct.netns for h in hops):
            seen = any(h.leg == REPLY and h.netns == ct.netns and h.direction == OUT for h in hops)
            back = ct.reply
            if ct.snat:
                new = replace(back, dst=ct.orig.src, dport=ct.orig.sport)
                out.append(NatRewrite(netns=ct.netns, kind="de-SNAT", before=back.flow(), after=new.flow(), leg=REPLY,
                                      rule=None, original=ct.orig.flow(), reply=ct.reply.flow(), owner=owner,
                                      source=OBSERVED if seen else INFERRED, evidence="conntrack"))
                back = new
            if ct.dnat:
                new = replace(back, src=ct.orig.dst, sport=ct.orig.dport)
                out.append(NatRewrite(netns=ct.netns, kind="de-DNAT", before=back.flow(), after=new.flow(), leg=REPLY,
                                      rule=None, original=ct.orig.flow(), reply=ct.reply.flow(), owner=owner,
                                      source=OBSERVED if seen else INFERRED, evidence="conntrack"))
    out += _nat_from_captures(wiring, hops, {ns for ns, _ in done})
    out.sort(key=lambda n: (n.leg != REQUEST, _visit(hops, n.leg, n.netns)))
    return out


def _nat_from_captures(wiring: Wiring, hops: list[Hop], known: set[str]) -> list[NatRewrite]:
    """A rewrite conntrack did not report (no event, or legacy): ingress vs egress copy."""
    out = []
    for leg in (REQUEST, REPLY):
        legs = [h for h in hops if h.leg == leg]
        for a, b in zip(legs, legs[1:]):
            if a.netns != b.netns or a.netns in known or a.packet.flow() == b.packet.flow():
                continue
            if a.packet.outer is not None or b.packet.outer is not None:
                continue
            before, after = a.packet, b.packet
            kinds = []
            if (before.dst, before.dport) != (after.dst, after.dport):
                kinds.append("DNAT" if leg == REQUEST else "de-SNAT")
            if (before.src, before.sport) != (after.src, after.sport):
                kinds.append("SNAT" if leg == REQUEST else "de-DNAT")
            for kind in kinds:
                out.append(NatRewrite(netns=a.netns, kind=kind, before=before.flow(), after=after.flow(), leg=leg,
                                      rule=None, original=None, reply=None, owner=_owner(wiring, a.netns),
                                      source=OBSERVED, evidence="capture"))
    return out
