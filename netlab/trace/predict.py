"""Prediction without root: the probe's request walked through the plan (walk.py), then the
reply the destination would send, back through the conntrack entries the request left
(de-NAT), into the same Trace shape a live trace has."""
from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_address

from ..model import load_file
from ..model.targets import endpoint
from ..model.topology import Topology
from ..plan.plan import Plan
from ..plan.planner import build_plan
from ..plan.served import Proxy
from .icmp_errors import LATE_ERRORS, error_name, error_text, router_error
from .kdrops import expected_reason
from .listeners import listens, standin_notes
from .model import (
    DELIVERED,
    DROPPED,
    IN,
    PREDICTED,
    REPLY,
    REQUEST,
    UNRESOLVED,
    Outcome,
    PacketView,
    Resolution,
    Trace,
    with_port,
)
from .resolve import predict_resolution
from .target import Asked, Probe, asked, dst_name, resolve
from .walk import TTL, End, Walk
from .wiring import Wiring, engines_on, from_plan

ECHO = {"icmp": (8, 0), "icmp6": (128, 129)}     # (request, reply) types


# ---- the prediction ------------------------------------------------------------------
def answer(walk: Walk, ns: str, pkt: PacketView) -> tuple[PacketView | None, str]:
    """What the destination sends back for `pkt`, and its name."""
    if pkt.proto in ECHO:
        request, reply = ECHO[pkt.proto]
        if pkt.icmp_type != request:
            return None, "none"
        return replace(pkt, src=pkt.dst, dst=pkt.src, icmp_type=reply, ttl=TTL, ip_id=None), "echo-reply"
    heard = listens(walk.plan, ns, pkt.proto, pkt.dst, pkt.dport)
    if pkt.proto == "tcp":
        flags = None if heard is None else "SA" if heard else "RA"
        return replace(pkt, src=pkt.dst, dst=pkt.src, sport=pkt.dport, dport=pkt.sport, ttl=TTL,
                       ip_id=None, tcp_flags=flags), {True: "SA", False: "RA", None: "SA or RA"}[heard]
    if heard is False:
        proto, (kind, code) = ("icmp", (3, 3)) if pkt.family == 4 else ("icmp6", (1, 4))
        error = PacketView(pkt.dst, pkt.src, proto, ttl=TTL, icmp_type=kind, icmp_code=code,
                           quoted=replace(pkt, outer=None, vni=None))
        return error, "port-unreachable"
    udp = replace(pkt, src=pkt.dst, dst=pkt.src, sport=pkt.dport, dport=pkt.sport, ttl=TTL, ip_id=None)
    return udp, "udp" if heard else "udp or port-unreachable"


def predict_probe(topo: Topology, plan: Plan, wiring: Wiring, probe: Probe, key: int | None,
                  ip_id: int | None = None, ttl: int = TTL) -> Trace:
    """Walk request and reply; `key` is the echo id or source port the probe will use,
    `ttl` its TTL (hop limit)."""
    walk = Walk(wiring=wiring, plan=plan)
    view = request_view(probe, key, ip_id, ttl)
    outcome = _walk_leg(walk, probe.netns, view)
    reply, reply_status, reply_name = None, None, None
    if outcome.status == DELIVERED:
        assert outcome.packet is not None, "a delivered leg ends with the packet it delivered"
        walk.notes += proxy_notes(plan, outcome.ns, outcome.packet)
        walk.notes += standin_notes(plan, outcome.ns, outcome.packet.proto, outcome.packet.dport)
        reply, reply_name = answer(walk, outcome.ns, outcome.packet)
        if reply is not None:
            walk.leg = REPLY
            back = _walk_leg(walk, outcome.ns, reply)
            reply_status = back.status if back.status != DELIVERED or back.ns == probe.netns else "lost"
            if back.status != DELIVERED:
                walk.notes.append(f"the reply stops in {walk.owner(back.ns)}: {back.detail}")
    else:
        reply_name, reply_status = router_error_leg(walk, outcome, probe.netns)
    result = _outcome(walk, outcome, reply_name, reply_status)
    result = replace(result, kernel_reason=expected_reason(result, probe.netns))
    crossed = [probe.netns, *(h.netns for h in walk.hops), *(r.netns for r in walk.rules), result.netns or ""]
    return Trace(lab=topo.name, project=topo.project, src=probe.src, dst=probe.dst, proto=probe.proto,
                 port=probe.dport, probe=view,
                 hops=tuple(walk.hops), rules=tuple(walk.rules), nat=tuple(walk.nat),
                 neighbours=tuple(walk.neighbours), outcome=result,
                 source=PREDICTED, notes=tuple(walk.notes), engines=engines_on(wiring, crossed))


def router_error_leg(walk: Walk, end: End, source_ns: str) -> tuple[str | None, str | None]:
    """The ICMP error a router sends back about the request it dropped (icmp_errors.py),
    walked as the reply leg: its name and fate. One that comes only seconds later (a
    neighbour that never answered) is named, not walked."""
    if end.status != DROPPED:
        return None, None
    arrived = next((h.packet for h in reversed(walk.hops)
                    if h.leg == REQUEST and h.netns == end.ns and h.direction == IN), None)
    if end.reason == "no-neighbour":
        # the packet waited for its neighbour after POSTROUTING: the error quotes it SNATed
        # (and goes to that address, this namespace's own, whence conntrack sends it on)
        arrived = end.packet if arrived is not None else None
    if arrived is None or arrived.outer is not None:
        return None, None       # an underlay copy's error would go to the VTEP, not to SRC
    error = router_error(walk.wiring, end.ns, arrived, end.reason)
    if error is None:
        return None, None
    name = error_name(error)
    if name in LATE_ERRORS:
        walk.notes.append(f"{walk.owner(end.ns)} sends {error_text(error, walk.owner(end.ns))} to {error.dst} "
                          "when its neighbour entry fails, about 3 s later: after the trace stops watching")
        return name, None
    walk.leg = REPLY
    back = _walk_leg(walk, end.ns, error)
    if back.status != DELIVERED:
        walk.notes.append(f"the {name} stops in {walk.owner(back.ns)}: {back.detail}")
    return name, back.status if back.status != DELIVERED or back.ns == source_ns else "lost"


def proxy_notes(plan: Plan, ns: str, pkt: PacketView) -> list[str]:
    """Delivered to a published port's docker-proxy: say where the proxy goes on."""
    for item in plan.items:
        if isinstance(item, Proxy) and item.netns == ns and item.mode == "proxy" and item.proto == pkt.proto \
                and item.host_port == pkt.dport and item.host_ip in ("0.0.0.0", "::", pkt.dst):
            return [f"{with_port(pkt.dst, pkt.dport)} is served by docker-proxy (the userland proxy), which opens "
                    f"its own connection to {with_port(str(item.container_ip), item.container_port)}: a second flow, "
                    "not this trace's"]
    return []


def request_view(probe: Probe, key: int | None, ip_id: int | None, ttl: int = TTL) -> PacketView:
    """The probe as sent. An IPv6 header has no IP id: `ip_id` is IPv4's only."""
    src = str(probe.src_ip) if probe.src_ip else ("0.0.0.0" if probe.family == 4 else "::")
    ip_id = ip_id if probe.family == 4 else None
    if probe.proto == "icmp":
        proto = "icmp" if probe.family == 4 else "icmp6"
        return PacketView(src, str(probe.dst_ip), proto, ttl=ttl, ip_id=ip_id, icmp_type=ECHO[proto][0],
                          icmp_code=0, icmp_id=key)
    return PacketView(src, str(probe.dst_ip), probe.proto, sport=key, dport=probe.dport, ttl=ttl, ip_id=ip_id,
                      tcp_flags="S" if probe.proto == "tcp" else None)


def _walk_leg(walk: Walk, ns: str, pkt: PacketView) -> End:
    try:
        walk.send(ns, pkt)
    except End as end:
        walk.inner = walk.vni = None
        return end
    raise AssertionError("a walk ends with End")


def _outcome(walk: Walk, end: End, reply: str | None, reply_status: str | None) -> Outcome:
    d = end.decision
    detail = end.detail
    if end.status == DELIVERED:
        detail = f"delivered to {walk.owner(end.ns)} ({end.ns}/{end.ifname})"
    return Outcome(status=end.status, reason=end.reason, netns=end.ns, ifname=end.ifname, table=d.table if d else None,
                   chain=d.chain if d else None, rule=d.rule.text if d and d.rule else None, reply=reply,
                   reply_status=reply_status, detail=detail, owner=walk.owner(end.ns), source=PREDICTED,
                   evidence="plan")


def predict_trace(file_or_topology: str | Topology, src: str, dst: str, proto: str | None = None,
                  port: int | None = None, key: int | None = None, family: int | None = None,
                  by_name: bool = True, ttl: int = TTL) -> Trace:
    """The prediction alone; `key` (echo id or source port) is left unknown unless given;
    `ttl`: the probe's TTL (hop limit);
    `family` 6 traces to a name's IPv6 address (an IPv6 DST needs none). `by_name` (the
    default): DST's name is resolved as SRC would, and the probe goes to the answer (none:
    no probe); False: the lab's own view (`--no-resolve`)."""
    topo = load_file(file_or_topology) if isinstance(file_or_topology, str) else file_or_topology
    plan = build_plan(topo)
    wiring = from_plan(topo, plan)
    step = name_step(topo, plan, wiring, src, dst, family, by_name)
    if by_name and step is not None:
        a = asked(topo, src, dst, proto, port, family)
        if not step.resolved:
            return unresolved(topo, wiring, src, a, step)
        probe = resolve(topo, wiring, src, dst, proto, port, family, dst_ip=ip_address(step.addresses[0]))
    else:
        probe = resolve(topo, wiring, src, dst, proto, port, family)
    return with_resolution(predict_probe(topo, plan, wiring, probe, key, ttl=ttl), step, probe, by_name)


def name_step(topo: Topology, plan: Plan, wiring: Wiring, src: str, dst: str, family: int | None,
              by_name: bool) -> Resolution | None:
    """DST's name resolved from SRC as the plan says, by name or (a note) in the lab's own
    view. None for an address, and for a host's name or `outside`: those are the lab's
    names for its machines, not names a resolver knows, so they are always taken as the
    lab knows them."""
    name = dst_name(dst)
    if name is None or name == "outside" or any(h.name == name for h in topo.hosts):
        return None
    return predict_resolution(topo, plan, wiring, endpoint(topo, src).netns, src, name, family or 4)


def with_resolution(t: Trace, step: Resolution | None, probe: Probe, by_name: bool) -> Trace:
    """The step on the trace; in the lab's view (`--no-resolve`), a note where SRC itself
    would not reach the address traced by that name."""
    if step is None:
        return t
    t = replace(t, resolution=step)
    if by_name or (step.resolved and str(probe.dst_ip) in step.addresses):
        return t
    other = "" if not step.resolved else f"; {probe.src} would use {step.addresses[0]}"
    return replace(t, notes=(f"{step.detail}{other}: traced to {probe.dst_ip}, the address lab {t.project or t.lab} "
                             f"gives it (--no-resolve); without --no-resolve the trace goes as {probe.src} "
                             "would by name",) + t.notes)


def unresolved(topo: Topology, wiring: Wiring, src: str, a: Asked, step: Resolution) -> Trace:
    """A name SRC cannot resolve: an outcome of its own, and no probe."""
    nowhere = "0.0.0.0" if a.family == 4 else "::"
    proto = "icmp" if a.proto == "icmp" and a.family == 4 else "icmp6" if a.proto == "icmp" else a.proto
    outcome = Outcome(status=UNRESOLVED, reason=step.status, netns=a.netns, detail=step.detail + "; no probe sent",
                      owner=wiring.space(a.netns).owner, source=step.source, evidence=step.evidence)
    return Trace(lab=topo.name, project=topo.project, src=src, dst=a.shown, proto=a.proto, port=a.port,
                 probe=PacketView(nowhere, nowhere, proto, dport=a.port), outcome=outcome, source=step.source,
                 resolution=step)
