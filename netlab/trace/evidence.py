"""The evidence a live trace gathers, as plain records (pure: no kernel, no sockets).

The kernel-touching modules fill them — capture.py (frames), nftrace.py (trace events, rule
handles), conntrack.py (NAT tuples), counters.py (rule counters) — and correlate.py reads
them; so correlating, and testing it, loads no socket, ctypes or netns code."""
from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

from ..plan.firewall.model import Ruleset
from .model import PacketView
from .nft_model import NftRuleset
from .signature import Signature
from .target import Probe

TABLE_PREFIX = "netlab_trace_"      # the tracer's own nf_tables tables (nftrace.py)
IPS_SRC_NAT, IPS_DST_NAT = 0x10, 0x20

# (table, chain, position) -> packets; position None is the chain's policy (counters.py)
Snapshot = dict[tuple[str, str, int | None], int]


# ---- captures ------------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    """One captured copy of a frame on one interface."""

    netns: str
    ifname: str
    outgoing: bool
    time_ns: int                # kernel receive/transmit timestamp
    data: bytes

    @property
    def node(self) -> str:
        return f"{self.netns}/{self.ifname}"


def is_ipv4(frame: Frame) -> bool:
    return frame.data[12:14] == b"\x08\x00"


def arp_request(frame: Frame) -> tuple[str, str, int] | None:
    """(sender IP, target IP, op) of an ARP frame, without scapy."""
    d = frame.data
    if d[12:14] != b"\x08\x06" or len(d) < 42:
        return None
    op = struct.unpack_from("!H", d, 20)[0]
    return socket.inet_ntoa(d[28:32]), socket.inet_ntoa(d[38:42]), op


# ---- conntrack -----------------------------------------------------------------------
@dataclass(frozen=True)
class Tuple:
    proto: str
    src: str
    dst: str
    sport: int | None = None     # or the ICMP id
    dport: int | None = None

    def flow(self) -> str:
        if self.proto in ("tcp", "udp"):
            return f"{self.src}:{self.sport} > {self.dst}:{self.dport}"
        return f"{self.src} > {self.dst}"

    def reverse(self) -> Tuple:
        return Tuple(self.proto, self.dst, self.src, self.dport, self.sport)


@dataclass(frozen=True, kw_only=True)
class CtEvent:
    netns: str
    order: int
    new: bool
    orig: Tuple
    reply: Tuple
    status: int

    @property
    def snat(self) -> bool:
        return bool(self.status & IPS_SRC_NAT)

    @property
    def dnat(self) -> bool:
        return bool(self.status & IPS_DST_NAT)

    def key(self) -> int | None:
        """The probe's key as this entry shows it: the echo id, or the original source port."""
        return self.orig.sport


# ---- nftrace -------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class TraceEvent:
    netns: str
    order: int                      # arrival order in this netns
    id: int
    family: int
    table: str
    chain: str
    kind: str                       # rule | return | policy
    verdict: str
    target: str | None = None       # the chain of a jump or goto
    handle: int | None = None
    iif: int | None = None
    oif: int | None = None
    packet: PacketView | None = None


@dataclass(frozen=True)
class RuleRef:
    table: str
    chain: str
    position: int                   # 1-based, in iptables-save order
    packets: int | None             # the rule's counter, when it has one


def rule_text(ruleset: Ruleset, table: str, chain: str, position: int) -> str | None:
    """`-A CHAIN <rule>` as iptables-save prints it, from the lab's rule set."""
    t = ruleset.table(table)
    c = t.chain(chain) if t else None
    if c is None or not 1 <= position <= len(c.rules):
        return None
    return f"-A {chain} {c.rules[position - 1]}"


# ---- all of it -----------------------------------------------------------------------
@dataclass(kw_only=True)
class Evidence:
    probe: Probe
    signature: Signature
    frames: list[tuple[Frame, PacketView | None]] = field(default_factory=list)
    events: list[TraceEvent] = field(default_factory=list)
    conntrack: list[CtEvent] = field(default_factory=list)
    ifnames: dict[str, dict[int, str]] = field(default_factory=dict)
    rule_refs: dict[str, dict[tuple[str, str, int], RuleRef]] = field(default_factory=dict)
    nft: dict[str, NftRuleset] = field(default_factory=dict)       # native tables as the kernel lists them
    counters: dict[str, Snapshot] = field(default_factory=dict)     # deltas, per netns
    traced: set[str] = field(default_factory=set)                  # netns with a trace table
    send_error: int | None = None                                  # errno of the probe's send
    connect: str | None = None                                     # tcp: SA, RA, or an errno name
    table: str = ""                                                # our trace table's name
    flavour: str = "nft"
