"""The kernel's own account of a probe (pure): tracefs text lines decoded, and the drops
among them matched to the probe.

A live trace records, in a private tracefs instance (kernel/tracefs.py), `skb:kfree_skb`
(a packet freed without being delivered, and the kernel's reason: `enum skb_drop_reason`
by name), `fib:fib_table_lookup` / `fib6:fib6_table_lookup` (route lookups: table, device,
gateway, error) and `net:net_dev_queue` / `net:netif_receive_skb` (a packet handed to, or
taken from, a device). tracefs has no netns field and sees the whole host, so a drop is the
probe's only through its socket buffer: the drop's `skbaddr` was last seen on a device the
probe's capture saw it cross, with the probe's length, shortly before.

The reason vocabulary is the kernel's (`NETFILTER_DROP`, `IP_INNOROUTES`, `NO_SOCKET`, ...);
`expected_reason` gives the one a prediction expects, measured on Linux 6.18 (see
docs/trace-json.md)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .evidence import Evidence
from .model import DELIVERED, DROPPED, NO_PATH, REQUEST, Hop, Outcome

ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
NEIGH_PATIENCE = 5.0        # a packet waits for its neighbour up to 3 s (3 ARP probes) before it is freed
GAP = 0.5                   # otherwise a drop follows the packet's last device within this
# frees that are no drop of a packet in flight: a queue emptied, no reason given
NOT_DROPS = ("NOT_SPECIFIED", "QUEUE_PURGE", "SKB_CONSUMED")
EVENTS = ("skb/kfree_skb", "fib/fib_table_lookup", "fib6/fib6_table_lookup", "net/net_dev_queue",
          "net/netif_receive_skb")

_LINE = re.compile(r"\s(\d+\.\d+): (\w+): (.*)$")
_KV = re.compile(r"(\w+)=(\S+)")
_FIB = re.compile(r"table\s+(\d+) oif (-?\d+) iif (-?\d+) proto (\d+) (\S+)/(\d+) -> (\S+)/(\d+) .*"
                  r"==> dev (\S+) gw (\S+?)(?:/(\S+))? err (-?\d+)$")


@dataclass(frozen=True)
class KernelDrop:
    """`skb:kfree_skb`: a socket buffer freed, why (`reason`) and where (`location`, the
    kernel function)."""

    time: float                 # seconds, the instance's clock (monotonic)
    skb: str
    protocol: int               # the ethertype: 2048 IPv4, 34525 IPv6
    location: str
    reason: str


@dataclass(frozen=True)
class DeviceEvent:
    """A packet handed to a device for transmit (`xmit`, its length with the link-layer
    header) or received from it (`recv`, its length from the network header on)."""

    time: float
    kind: str                   # xmit | recv
    dev: str
    skb: str
    length: int


@dataclass(frozen=True)
class RouteLookup:
    """One FIB lookup: the table consulted and what it answered (`dev` "-" and `err` < 0:
    no route)."""

    time: float
    table: int
    src: str
    dst: str
    sport: int
    dport: int
    proto: int
    iif: int
    oif: int
    dev: str
    gateway: str
    err: int

    @property
    def found(self) -> bool:
        return self.err == 0

    def describe(self) -> str:
        what = f"table {self.table}: {self.src} -> {self.dst}"
        if not self.found:
            return f"{what}: no route (err {self.err})"
        via = f" via {self.gateway}" if self.gateway not in ("0.0.0.0", "::") else ""
        return f"{what}: dev {self.dev}{via}"


@dataclass(frozen=True)
class Marker:
    """A line the tracer wrote itself (`trace_marker`): when the probe left (`SENT`), when
    collecting ended (`DONE`), in the events' clock."""

    time: float
    text: str


SENT, DONE = "netlab-sent", "netlab-done"
Record = KernelDrop | DeviceEvent | RouteLookup | Marker


def parse_line(line: str) -> Record | None:
    """One line of an instance's `trace` file, or None for a line of another event or
    one this decoder does not understand."""
    m = _LINE.search(line)
    if m is None:
        return None
    time, event, body = float(m.group(1)), m.group(2), m.group(3)
    if event == "tracing_mark_write":
        return Marker(time=time, text=body.strip())
    if event == "kfree_skb":
        head, _, reason = body.partition(" reason: ")
        kv = dict(_KV.findall(head))
        if "skbaddr" not in kv or not reason:
            return None
        return KernelDrop(time=time, skb=kv["skbaddr"], protocol=int(kv.get("protocol", "0")),
                          location=kv.get("location", "").split("+")[0], reason=reason.strip())
    if event in ("net_dev_queue", "netif_receive_skb"):
        kv = dict(_KV.findall(body))
        if not {"dev", "skbaddr", "len"} <= kv.keys():
            return None
        return DeviceEvent(time=time, kind="xmit" if event == "net_dev_queue" else "recv", dev=kv["dev"],
                           skb=kv["skbaddr"], length=int(kv["len"]))
    if event in ("fib_table_lookup", "fib6_table_lookup"):
        f = _FIB.search(body)
        if f is None:
            return None
        return RouteLookup(time=time, table=int(f.group(1)), oif=int(f.group(2)), iif=int(f.group(3)),
                           proto=int(f.group(4)), src=f.group(5), sport=int(f.group(6)), dst=f.group(7),
                           dport=int(f.group(8)), dev=f.group(9), gateway=_gateway(f.group(10), f.group(11)),
                           err=int(f.group(12)))
    return None


def _gateway(first: str, second: str | None) -> str:
    """fib prints an IPv4 lookup's gateway as `gw4/gw6` (an IPv6 next hop for an IPv4 route
    is possible), an IPv6 one's as one address."""
    return second if first == "0.0.0.0" and second not in (None, "::") else first


def parse(lines: Iterable[str]) -> list[Record]:
    return [r for r in map(parse_line, lines) if r is not None]


@dataclass(frozen=True)
class Crossing:
    """A copy of the probe (or its reply) the capture saw: the device, its direction, its
    IP length (IPv4 total length; IPv6 payload length + 40) and its leg."""

    ifname: str
    outgoing: bool
    ip_length: int
    leg: str
    netns: str = ""


@dataclass(frozen=True)
class MatchedDrop:
    leg: str
    reason: str
    location: str
    ifname: str                 # the device the packet was last seen on
    time: float
    netns: tuple[str, ...] = ()  # the namespaces that device may be in (tracefs names no netns)


def match(records: Iterable[Record], crossings: Iterable[Crossing], family: int, start: float,
          end: float) -> list[MatchedDrop]:
    """The drops of the probe's packets, in time order. A device event is the probe's when
    its device, direction and length match a copy the capture saw (a transmit counts the
    14-byte Ethernet header). A socket buffer keeps its address from device to device (veth,
    bridge), so the copies it was seen as narrow down its leg and namespace: `eth0` is every
    container's, a host's veth one container's. A drop is the probe's when its buffer was
    the probe's at its last device event, not long before (NEIGH_PATIENCE for a packet that
    waited for a neighbour), and nothing else used that buffer in between."""
    known: dict[tuple[str, str, int], list[Crossing]] = {}
    for c in crossings:
        key = (c.ifname, "xmit", c.ip_length + 14) if c.outgoing else (c.ifname, "recv", c.ip_length)
        known.setdefault(key, []).append(c)
    protocol = ETH_P_IPV6 if family == 6 else ETH_P_IP
    seen: dict[str, _Buffer | None] = {}                 # skb -> the probe's so far, or None: another's
    out = []
    for r in sorted((r for r in records if start <= r.time <= end and isinstance(r, (DeviceEvent, KernelDrop))),
                    key=lambda r: r.time):
        if isinstance(r, DeviceEvent):
            found = known.get((r.dev, r.kind, r.length))
            before = seen.get(r.skb)
            if not found:
                seen[r.skb] = None
            elif before is not None and r.time - before.time <= GAP and before.legs & {c.leg for c in found}:
                seen[r.skb] = before.on(r, found)
            else:
                seen[r.skb] = _Buffer(legs=frozenset(c.leg for c in found), dev=r.dev, time=r.time, found=found)
            continue
        last = seen.pop(r.skb, None)
        if last is None or r.reason in NOT_DROPS or r.protocol != protocol:
            continue
        patience = NEIGH_PATIENCE if r.reason.startswith("NEIGH_") else GAP
        if r.time - last.time <= patience:
            leg = next(iter(last.legs)) if len(last.legs) == 1 else ""
            out.append(MatchedDrop(leg=leg, reason=r.reason, location=r.location, ifname=last.dev, time=r.time,
                                   netns=tuple(sorted({c.netns for c in last.found if c.leg in last.legs}))))
    return out


@dataclass(frozen=True)
class _Buffer:
    """A socket buffer of the probe's, as far as its device events tell: the legs it can
    be, and the copies its last device event can be."""

    legs: frozenset[str]
    dev: str
    time: float
    found: list[Crossing]

    def on(self, event: DeviceEvent, found: list[Crossing]) -> _Buffer:
        legs = self.legs & {c.leg for c in found}
        return _Buffer(legs=legs, dev=event.dev, time=event.time, found=[c for c in found if c.leg in legs])


def crossings(ev: Evidence) -> list[Crossing]:
    """Every copy of the probe and its reply the capture saw, as `match` takes them."""
    out = []
    for frame, view in ev.frames:
        leg = ev.signature.leg(view) if view is not None else None
        length = _ip_length(frame.data)
        if leg is not None and length is not None:
            out.append(Crossing(ifname=frame.ifname, outgoing=frame.outgoing, ip_length=length, leg=leg,
                                netns=frame.netns))
    return out


def _ip_length(data: bytes) -> int | None:
    if len(data) >= 18 and data[12:14] == b"\x08\x00":
        return int.from_bytes(data[16:18], "big")
    if len(data) >= 20 and data[12:14] == b"\x86\xdd":
        return int.from_bytes(data[18:20], "big") + 40
    return None


def observed_reason(ev: Evidence, outcome: Outcome) -> tuple[MatchedDrop | None, list[RouteLookup]]:
    """The drop of the probe's request the kernel recorded where the outcome says it ended
    (another drop of a copy, e.g. a flooded frame another host refused as OTHERHOST, is
    not the outcome's), and the route lookups the probe's packets met."""
    records = parse(ev.kernel)
    start, end = window(records)
    drops = [d for d in match(records, crossings(ev), ev.probe.family, start, end) if d.leg == REQUEST]
    here = [d for d in drops if outcome.netns in d.netns]
    chosen = here[0] if here else (drops[-1] if drops and outcome.status != DELIVERED else None)
    p = ev.probe
    addresses = {str(p.src_ip), str(p.dst_ip)} | {str(c.orig.dst) for c in ev.conntrack} | \
        {str(c.reply.src) for c in ev.conntrack}
    return chosen, route_lookups(records, addresses, start, end)


def window(records: Iterable[Record]) -> tuple[float, float]:
    """From the probe's leaving to the end of collection, by the tracer's markers (without
    them, nothing is the probe's)."""
    marks = {r.text: r.time for r in records if isinstance(r, Marker)}
    if SENT not in marks:
        return 0.0, -1.0
    return marks[SENT], marks.get(DONE, float("inf"))


def reason_numbers(format_text: str) -> dict[str, int]:
    """`enum skb_drop_reason` by name, from the event's format file (`{ 2, "NOT_SPECIFIED" }`):
    the numbering changes between kernels, the names do not."""
    return {name: int(number) for number, name in re.findall(r'\{ (\d+), "(\w+)" \}', format_text)}


def drop_filter(format_text: str, family: int) -> str:
    """The tracefs filter for `skb:kfree_skb`: the probe's protocol, and no free that is
    not a drop (a purged queue, a reason not given)."""
    numbers = reason_numbers(format_text)
    skipped = [f"reason != {numbers[n]}" for n in NOT_DROPS if n in numbers]
    return " && ".join([f"protocol == {ETH_P_IPV6 if family == 6 else ETH_P_IP}", *skipped])


def route_lookups(records: Iterable[Record], addresses: set[str], start: float, end: float) -> list[RouteLookup]:
    """The route lookups for the probe's packets: both ends among `addresses` (the probe's
    source and destination, before and after NAT)."""
    return [r for r in records if isinstance(r, RouteLookup) and start <= r.time <= end
            and r.dst in addresses and (r.src in addresses or r.src in ("0.0.0.0", "::"))]


# ---- the prediction's side -------------------------------------------------------------
# Outcome.reason -> the kernel's reason for the drop, where the kernel frees the packet
PREDICTED_REASONS = {
    "rule": "NETFILTER_DROP", "policy": "NETFILTER_DROP", "isolation": "NETFILTER_DROP",
    "forwarding-disabled": "IP_INADDRERRORS", "no-neighbour": "NEIGH_FAILED", "ttl-exceeded": "IP_INHDR",
}
NO_LISTENER_REPLIES = ("port-unreachable", "RA")


def expected_reason(outcome: Outcome, source_netns: str) -> str | None:
    """The kernel's reason a drop of this outcome is freed with, as measured (None: the
    kernel frees nothing, e.g. a send with no route fails in the socket, no packet made)."""
    if outcome.status == DELIVERED:
        return "NO_SOCKET" if outcome.reply in NO_LISTENER_REPLIES else None
    if outcome.status not in (DROPPED, NO_PATH):
        return None
    if outcome.reason == "no-route":
        return None if outcome.netns == source_netns else "IP_INNOROUTES"
    return PREDICTED_REASONS.get(outcome.reason or "")


# ---- routing decisions -----------------------------------------------------------------
TABLE_NAMES = {253: "default", 254: "main", 255: "local"}


def routed(lookups: Iterable[RouteLookup], hops: Sequence[Hop], ifnames: dict[str, dict[int, str]]) \
        -> list[tuple[Hop, RouteLookup]]:
    """Each hop the IP stack routed out (`via` route), with the kernel's lookup that sent it
    there: the same namespace's input interface (by ifindex, which is per namespace), the
    hop's device and the packet's destination as the hop shows it."""
    out = []
    for prev, hop in zip(hops, hops[1:]):
        if hop.via != "route" or prev.netns != hop.netns or prev.leg != hop.leg:
            continue
        names = ifnames.get(hop.netns, {})
        found = next((r for r in lookups if r.found and r.dev == hop.ifname and r.dst == hop.packet.dst
                      and names.get(r.iif) == prev.ifname), None)
        if found is not None:
            out.append((hop, found))
    return out


def route_text(r: RouteLookup, prefix: str | None) -> str:
    """`table 254 (main): 0.0.0.0/0 via 10.10.101.254 dev eth0`: the table the kernel says,
    the route of the plan that table holds for that device."""
    table = f"table {r.table}" + (f" ({TABLE_NAMES[r.table]})" if r.table in TABLE_NAMES else "")
    via = f" via {r.gateway}" if r.gateway not in ("0.0.0.0", "::") else ""
    return f"{table}: {prefix or r.dst}{via} dev {r.dev}"
