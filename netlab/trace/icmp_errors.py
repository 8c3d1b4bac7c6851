"""The ICMP errors the kernel sends about a probe it cannot pass on (pure): which error a
drop makes, who sends it, from which address, and the reverse — the drop an error tells of.

What Linux does (net/ipv4/icmp.c `__icmp_send`, net/ipv6/icmp.c `icmp6_send`, and the
callers), for a packet it was forwarding:

- no route (`ip_error`, routing's RTN_UNREACHABLE: ENETUNREACH): ICMP net unreachable
  (3/0); IPv6 `ip6_pkt_discard`: destination unreachable, no route (1/0);
- TTL (hop limit) 1 at a router (`ip_forward`, `ip6_forward`): time exceeded (11/0; 3/0);
- ARP / NDP unanswered (`arp_error_report` -> `ipv4_link_failure`, `ndisc_error_report`
  -> `ip6_link_failure`): host unreachable (3/1; address unreachable 1/3), sent when the
  neighbour entry fails, about 3 s after the packet queued: later than a trace waits;
- a DF packet over the next link's MTU: fragmentation needed (3/4; packet too big 2/0);
- no listener on a UDP port at the destination: port unreachable (3/3; 1/4) — predict.py's
  `answer`, a reply like any other;
- a namespace that does not forward (`ip_forward=0`): nothing (ip_error only counts it),
  nor for a netfilter DROP; iptables' REJECT would send one, Docker never writes it.

The source address: the one routing picks for the way back to the packet's source
(`icmp_errors_use_inbound_ifaddr` is 0 by default, so not necessarily the interface the
packet came in on; IPv6 likewise). The error is rate limited per destination (1 s, a
burst of 6; frag-needed and packet-too-big are not) and by `icmp_msgs_per_sec`: a trace
sends one probe, so the limit is met only by a burst of traces to one sender."""
from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import ip_address

from .model import PacketView
from .nat import flow_text
from .wiring import Wiring

TTL = 64


@dataclass(frozen=True)
class ErrorKind:
    """One kind of error: the drop reason it tells of, its type/code in each family, its
    name (as the model's ICMP_NAMES), and whether it comes too late for a trace."""

    reason: str
    v4: tuple[int, int]
    v6: tuple[int, int]
    name4: str
    name6: str
    late: bool = False

    def of(self, family: int) -> tuple[int, int]:
        return self.v4 if family == 4 else self.v6

    def name(self, family: int) -> str:
        return self.name4 if family == 4 else self.name6


KINDS = (
    ErrorKind("no-route", (3, 0), (1, 0), "net-unreachable", "no-route"),
    ErrorKind("ttl-exceeded", (11, 0), (3, 0), "time-exceeded", "time-exceeded"),
    ErrorKind("no-neighbour", (3, 1), (1, 3), "host-unreachable", "address-unreachable", late=True),
    ErrorKind("too-big", (3, 4), (2, 0), "fragmentation-needed", "packet-too-big"),
)
BY_REASON = {k.reason: k for k in KINDS}
# the names of the errors a router sends (not the destination's port unreachable)
ROUTER_ERRORS = frozenset(k.name(f) for k in KINDS for f in (4, 6))
LATE_ERRORS = frozenset(k.name(f) for k in KINDS if k.late for f in (4, 6))
NAMES4 = {(3, 0): "net-unreachable", (3, 1): "host-unreachable", (3, 3): "port-unreachable",
          (3, 4): "fragmentation-needed", (3, 13): "admin-prohibited"}
NAMES6 = {(1, 0): "no-route", (1, 1): "admin-prohibited", (1, 3): "address-unreachable", (1, 4): "port-unreachable"}
ERROR_TYPES = {"icmp": (3, 11), "icmp6": (1, 2, 3)}


def is_error(view: PacketView) -> bool:
    return view.icmp_type in ERROR_TYPES.get(view.proto, ()) and view.quoted is not None


def router_error(wiring: Wiring, ns: str, arrived: PacketView, reason: str | None) -> PacketView | None:
    """The error namespace `ns` sends about `arrived` (the packet as it came in) when it
    drops it for `reason`; None when it sends none. Addressed to the packet's source, from
    the address `ns` routes that source back with."""
    kind = BY_REASON.get(reason or "")
    if kind is None or is_error(arrived):
        return None         # never an error about an error (RFC 1122 3.2.2)
    space = wiring.space(ns)
    back = space.route(ip_address(arrived.src))
    if back.kind not in ("unicast", "local") or back.src is None:
        return None         # no way back: icmp_send's route lookup fails, nothing is sent
    family = arrived.family
    icmp_type, icmp_code = kind.of(family)
    return PacketView(str(back.src), arrived.src, "icmp" if family == 4 else "icmp6", ttl=TTL,
                      icmp_type=icmp_type, icmp_code=icmp_code, quoted=replace(arrived, outer=None, vni=None))


def error_name(view: PacketView) -> str:
    """An error's name in the trace's words (model.ICMP_NAMES / ICMP6_NAMES)."""
    if view.proto == "icmp":
        if view.icmp_type == 11:
            return "time-exceeded"
        return NAMES4.get((view.icmp_type or 0, view.icmp_code or 0), "unreachable")
    if view.icmp_type in (2, 3):
        return {2: "packet-too-big", 3: "time-exceeded"}[view.icmp_type]
    return NAMES6.get((view.icmp_type or 0, view.icmp_code or 0), "unreachable")


def told_reason(view: PacketView) -> str | None:
    """The drop a router's error tells of (None: not a router's error)."""
    name, family = error_name(view), 4 if view.proto == "icmp" else 6
    return next((k.reason for k in KINDS if name == k.name(family)), None)


def error_text(view: PacketView, owner: str) -> str:
    """`icmp6 1/0 no-route from 2001:db8:a:101::254 (outside)`: what is compared."""
    return f"{view.proto} {view.icmp_type}/{view.icmp_code} {error_name(view)} from {view.src} ({owner})"


def conn_rewrite(orig: tuple, reply: tuple, kind: str) -> tuple[str, str]:
    """An error's de-NAT (`de-SNAT` / `de-DNAT`) as conntrack tells it, flow before and
    after: the connection's reply tuple, its destination, then its source, restored."""
    proto, rsrc, rsport, rdst, rdport = reply
    _, osrc, osport, odst, odport = orig
    if kind == "de-SNAT":
        return flow_text(reply), flow_text((proto, rsrc, rsport, osrc, osport))
    back = (proto, rsrc, rsport, osrc, osport) if (rdst, rdport) != (osrc, osport) else reply
    return flow_text(back), flow_text((proto, odst, odport, back[3], back[4]))
