"""The neighbour lookups a live trace saw (pure): ARP requests and replies, NDP neighbour
solicitations and advertisements, as NeighbourLookups beside the hops.

A lookup is the probe's when the namespace that asked is one the probe (or its reply)
went through. The asker is the first outgoing copy of the request: the bridge floods
the same frame out of its other ports later, and those copies are not lookups of the
bridge's namespace. Whoever answers is the namespace the first copy of the reply left."""
from __future__ import annotations

from .evidence import ARP_REPLY, ARP_REQUEST, Evidence, Frame, link_address, neighbour_request
from .model import OBSERVED, REPLY, REQUEST, Hop, NeighbourLookup
from .outcome import owner
from .wiring import Wiring


def observed_lookups(ev: Evidence, wiring: Wiring, hops: list[Hop]) -> list[NeighbourLookup]:
    visited = {ev.probe.netns} | {h.netns for h in hops}
    # a lookup after the request's last copy, when a reply came, is the reply's next hop
    legs = [(f.time_ns, leg) for f, view in ev.frames if view is not None and (leg := ev.signature.leg(view))]
    answered = any(leg == REPLY for _, leg in legs)
    reply_from = max((t for t, leg in legs if leg == REQUEST), default=None) if answered else None
    asked: dict[tuple[str, str], Frame] = {}            # (sender, target) -> its first request
    answers: dict[str, Frame] = {}                      # target -> the first copy of its answer
    for frame, _ in sorted(ev.frames, key=lambda f: f[0].time_ns):
        found = neighbour_request(frame)
        if found is None or not frame.outgoing:
            continue
        sender, target, op = found
        if op == ARP_REQUEST:
            asked.setdefault((sender, target), frame)
        elif op == ARP_REPLY:
            answers.setdefault(sender, frame)
    out = []
    for (_, target), frame in sorted(asked.items(), key=lambda x: x[1].time_ns):
        if frame.netns not in visited:
            continue
        answer = answers.get(target)
        protocol = "arp" if frame.data[12:14] == b"\x08\x06" else "ndp"
        leg = REPLY if reply_from is not None and frame.time_ns > reply_from else REQUEST
        out.append(NeighbourLookup(netns=frame.netns, ifname=frame.ifname, target=target, protocol=protocol,
                                   answered_by=owner(wiring, answer.netns) if answer else None,
                                   mac=link_address(answer) if answer else None, leg=leg,
                                   owner=owner(wiring, frame.netns), source=OBSERVED, evidence="capture"))
    return out

