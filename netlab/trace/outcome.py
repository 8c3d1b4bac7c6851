"""What became of the probe in a live trace (correlate's last step, pure): delivered, dropped
by a rule or a policy, never sent, or lost — from the hops and rules already correlated, and,
where the kernel said nothing, an unanswered ARP request (NDP solicitation) or the plan's
reason (`inferred`)."""
from __future__ import annotations

import errno
from dataclasses import replace
from ipaddress import ip_address

from . import explain
from .evidence import ARP_REPLY, ARP_REQUEST, Evidence, Frame, neighbour_request
from .icmp_errors import error_name, is_error, told_reason
from .model import (
    DELIVERED,
    DROPPED,
    IN,
    INFERRED,
    LOST,
    NO_PATH,
    OBSERVED,
    REPLY,
    REQUEST,
    Hop,
    Outcome,
    PacketView,
    RuleHit,
    Trace,
)
from .wiring import Wiring

REPLY_NAMES: dict[int | None, str] = {0: "echo-reply", 3: "unreachable", 11: "time-exceeded"}
# ICMPv6 as the model's ICMP6_NAMES and the prediction name them
REPLY6_NAMES: dict[tuple[int | None, int | None], str] = {
    (129, None): "echo-reply", (1, 0): "no-route", (1, 1): "admin-prohibited", (1, 3): "address-unreachable",
    (1, 4): "port-unreachable", (1, None): "unreachable", (2, None): "packet-too-big", (3, None): "time-exceeded"}


def _reply_name(view: PacketView) -> str:
    if is_error(view):
        return error_name(view)
    if view.proto == "tcp":
        return view.tcp_flags or "tcp"
    if view.proto == "icmp6":
        return REPLY6_NAMES.get((view.icmp_type, view.icmp_code), REPLY6_NAMES.get(
            (view.icmp_type, None), f"icmp6 {view.icmp_type}"))
    if view.proto == "icmp":
        if view.icmp_type == 3 and view.icmp_code == 3:
            return "port-unreachable"
        if view.icmp_type == 3 and view.icmp_code in (0, 1):
            return {0: "net-unreachable", 1: "host-unreachable"}[view.icmp_code]
        return REPLY_NAMES.get(view.icmp_type, f"icmp {view.icmp_type}")
    return view.proto


def observed_outcome(ev: Evidence, wiring: Wiring, hops: list[Hop], rules: list[RuleHit],
                     predicted: Trace | None, solicitation: RuleHit | None = None) -> Outcome:
    src_ns = ev.probe.netns
    request = [h for h in hops if h.leg == REQUEST]
    reply = [h for h in hops if h.leg == REPLY]
    reply_name = _reply_name(reply[0].packet) if reply else (ev.connect if ev.connect in ("SA", "RA") else None)
    back = [h for h in reply if h.netns == src_ns and h.direction == IN]
    reply_status = DELIVERED if back else (None if reply_name is None else _leg_fate(rules, REPLY))
    if ev.send_error is not None:
        reason = {errno.ENETUNREACH: "no-route", errno.EHOSTUNREACH: "no-route",
                  errno.EPERM: "rule"}.get(ev.send_error, "unknown")
        drop = _drop(rules, REQUEST)
        why = errno.errorcode.get(ev.send_error, ev.send_error)
        return _with_drop(Outcome(status=NO_PATH, reason=reason, netns=src_ns, ifname=None, reply=None,
                                  owner=owner(wiring, src_ns), detail=f"the probe could not be sent: {why}",
                                  source=OBSERVED, evidence="socket"), drop, wiring)
    drop = _drop(rules, REQUEST)
    if drop is not None:
        reason = explain.drop_reason(drop.table, drop.chain, drop.kind, drop.rule)
        return _with_drop(Outcome(status=DROPPED, reason=reason, netns=drop.netns,
                                  ifname=drop.oif or drop.iif, reply=reply_name, reply_status=reply_status,
                                  owner=drop.owner, source=OBSERVED, evidence=drop.evidence), drop, wiring)
    arrived = _arrival(wiring, request)
    error = _router_error(wiring, request, reply, arrived, reply_status)
    if error is not None:
        return error
    if arrived is not None or reply:
        where = arrived or request[-1] if request else None
        ns = where.netns if where else reply[0].netns
        detail = f"delivered to {owner(wiring, ns)}" + (f" ({where.node})" if where else "")
        if reply and not back:
            detail += f"; its {reply_name} was lost after {reply[-1].node}"
        return Outcome(status=DELIVERED, reason=None, netns=ns, ifname=where.ifname if where else None,
                       reply=reply_name, reply_status=reply_status, detail=detail, owner=owner(wiring, ns),
                       source=OBSERVED, evidence="capture")
    return _unexplained(ev, wiring, request, predicted, solicitation)


def _router_error(wiring: Wiring, request: list[Hop], reply: list[Hop], arrived: Hop | None,
                  reply_status: str | None) -> Outcome | None:
    """The request died where an ICMP error about it came from: a namespace that is not
    where it arrived sent no-route, time-exceeded, host-unreachable or too-big."""
    if not reply or not is_error(reply[0].packet) or (arrived is not None and arrived.netns == reply[0].netns):
        return None
    error, ns = reply[0].packet, reply[0].netns
    reason = told_reason(error)
    if reason is None:
        return None
    came = next((h for h in reversed(request) if h.netns == ns and h.direction == IN), None)
    who = owner(wiring, ns)
    return Outcome(status=DROPPED, reason=reason, netns=ns, ifname=came.ifname if came else None,
                   reply=error_name(error), reply_status=reply_status, owner=who, source=OBSERVED,
                   evidence="capture", detail=f"{who} sent {error.proto} {error.icmp_type}/{error.icmp_code} "
                                                f"{error_name(error)} from {error.src} back to {error.dst}")


def _arrival(wiring: Wiring, request: list[Hop]) -> Hop | None:
    """Where the request arrived for good: the last interface it came in through in a
    namespace that owns its destination (a DNAT on the way moves that destination on)."""
    found = None
    for h in request:
        space = wiring.spaces.get(h.netns)
        if h.direction == IN and space and ip_address(h.packet.dst) in space.local and h.packet.outer is None:
            found = h
    return found


def _drop(rules: list[RuleHit], leg: str) -> RuleHit | None:
    return next((r for r in rules if r.leg == leg and r.verdict == "drop"), None)


def _leg_fate(rules: list[RuleHit], leg: str) -> str:
    return DROPPED if _drop(rules, leg) else LOST


def _with_drop(outcome: Outcome, drop: RuleHit | None, wiring: Wiring) -> Outcome:
    if drop is None:
        return outcome
    return replace(outcome, table=drop.table, chain=drop.chain, rule=drop.rule,
                   detail=explain.drop_detail(drop.table, drop.chain, drop.kind, drop.rule, drop.owner))


def _unexplained(ev: Evidence, wiring: Wiring, request: list[Hop], predicted: Trace | None,
                 solicitation: RuleHit | None = None) -> Outcome:
    """No delivery and no netfilter drop: an unanswered ARP (NDP), or a loss the plan
    explains. `solicitation`: the rule that dropped the probe's NDP solicitation, which
    says why nobody answered (bridged ICMPv6 meets ip6tables, as ARP never meets iptables)."""
    src_ns = ev.probe.netns
    asked = _unanswered_arp(ev, {src_ns} | {h.netns for h in request})
    last = request[-1] if request else None
    status = DROPPED if last is not None else NO_PATH
    if asked is not None:
        frame, target = asked
        reason = "no-neighbour"
        detail = f"no neighbour answers for {target} on {owner(wiring, frame.netns)}'s {frame.ifname}"
        if predicted is not None and predicted.outcome.reason == "macvlan-host-isolation":
            reason, detail = predicted.outcome.reason, predicted.outcome.detail
        out = Outcome(status=status, reason=reason, netns=frame.netns, ifname=frame.ifname,
                      owner=owner(wiring, frame.netns), detail=detail, source=OBSERVED, evidence="capture")
        if solicitation is not None and frame.data[12:14] == b"\x86\xdd":
            out = replace(out, table=solicitation.table, chain=solicitation.chain, rule=solicitation.rule,
                          detail=f"{detail}: its neighbour solicitation was dropped in {solicitation.owner} by "
                                 f"{solicitation.describe()}", evidence="nftrace")
        return out
    if predicted is not None and predicted.outcome.status in (DROPPED, NO_PATH) and predicted.outcome.reason \
            in ("forwarding-disabled", "no-route", "no-neighbour", "macvlan-host-isolation", "unknown"):
        p = predicted.outcome
        return Outcome(status=status, reason=p.reason, netns=p.netns, ifname=p.ifname, owner=p.owner,
                       detail=p.detail + " (from the plan: nothing in the kernel said why)", source=INFERRED,
                       evidence="plan")
    where = last.netns if last else src_ns
    return Outcome(status=LOST if last else NO_PATH, reason="unknown", netns=where,
                   ifname=last.ifname if last else None, owner=owner(wiring, where),
                   detail=(f"lost after {last.node}: no netfilter verdict, no ICMP error" if last
                           else "the probe was never seen on any interface"), source=OBSERVED, evidence="capture")


def _unanswered_arp(ev: Evidence, path: set[str]) -> tuple[Frame, str] | None:
    """An ARP request, or an NDP neighbour solicitation, whose target never answered, sent
    from a namespace on the probe's `path` (elsewhere it is another packet's: a namespace
    may still be retrying for an earlier trace's probe)."""
    asked: dict[str, Frame] = {}
    answered: set[str] = set()
    for frame, _ in sorted(ev.frames, key=lambda f: f[0].time_ns):      # the first asker: the sender
        arp = neighbour_request(frame)
        if arp is None:
            continue
        sender, target, op = arp
        if op == ARP_REQUEST and frame.outgoing and frame.netns in path:
            asked.setdefault(target, frame)
        elif op == ARP_REPLY:
            answered.add(sender)
    for target, frame in asked.items():
        if target not in answered:
            return frame, target
    return None


def owner(wiring: Wiring, ns: str) -> str:
    return wiring.spaces[ns].owner if ns in wiring.spaces else ns
