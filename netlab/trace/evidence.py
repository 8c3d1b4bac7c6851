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
NFPROTO_IPV6 = 10                   # a trace event of an ip6 table (ip6tables-nft's, or native)
FAMILY_NAMES = {1: "inet", 2: "ip", 7: "bridge", 10: "ip6"}    # an event's nfgen_family, as nft names it

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


ETH_IPV4, ETH_IPV6, ETH_ARP = b"\x08\x00", b"\x86\xdd", b"\x08\x06"
ICMPV6, NS, NA = 58, 135, 136
ARP_REQUEST, ARP_REPLY = 1, 2       # the op a neighbour lookup is shown with, NDP's too


def is_ipv4(frame: Frame) -> bool:
    return frame.data[12:14] == ETH_IPV4


def is_ip(frame: Frame) -> bool:
    """An IPv4 or IPv6 frame (the ones dissected into PacketViews)."""
    return frame.data[12:14] in (ETH_IPV4, ETH_IPV6)


def flow_label(frame: Frame) -> int | None:
    """The IPv6 flow label of an IPv6 frame (None for anything else)."""
    d = frame.data
    if d[12:14] != ETH_IPV6 or len(d) < 18:
        return None
    return struct.unpack_from("!I", d, 14)[0] & 0xFFFFF


def arp_request(frame: Frame) -> tuple[str, str, int] | None:
    """(sender IP, target IP, op) of an ARP frame, without scapy."""
    d = frame.data
    if d[12:14] != ETH_ARP or len(d) < 42:
        return None
    op = struct.unpack_from("!H", d, 20)[0]
    return socket.inet_ntoa(d[28:32]), socket.inet_ntoa(d[38:42]), op


def ndp_request(frame: Frame) -> tuple[str, str, int] | None:
    """NDP as ARP's counterpart: (sender IP, target IP, op) of a neighbour solicitation
    (op 1, ARP's request: the target is the address asked for) or advertisement (op 2,
    ARP's reply: the sender is the address that answers, the NA's target), without scapy.
    The probe's header has no extension headers, and neither has NDP (RFC 4861: hop limit
    255, ICMPv6 right after the IPv6 header)."""
    d = frame.data
    if d[12:14] != ETH_IPV6 or len(d) < 14 + 40 + 24 or d[14 + 6] != ICMPV6:
        return None
    kind = d[14 + 40]
    if kind not in (NS, NA):
        return None
    sender = socket.inet_ntop(socket.AF_INET6, d[14 + 8:14 + 24])
    target = socket.inet_ntop(socket.AF_INET6, d[14 + 48:14 + 64])
    if kind == NS:
        # from :: it is duplicate address detection (a link-local address coming up): no lookup
        return (sender, target, ARP_REQUEST) if sender != "::" else None
    return target, socket.inet_ntop(socket.AF_INET6, d[14 + 24:14 + 40]), ARP_REPLY


def neighbour_request(frame: Frame) -> tuple[str, str, int] | None:
    """ARP or NDP, whichever the frame is: (sender, target, op) as `arp_request` gives."""
    return arp_request(frame) or ndp_request(frame)


def link_address(frame: Frame) -> str | None:
    """The frame's Ethernet source: the MAC an ARP reply or an NDP advertisement offers."""
    return ":".join(f"{b:02x}" for b in frame.data[6:12]) if len(frame.data) >= 12 else None


# ---- conntrack -----------------------------------------------------------------------
@dataclass(frozen=True)
class Tuple:
    proto: str                   # icmp | icmp6 | tcp | udp
    src: str
    dst: str
    sport: int | None = None     # or the ICMP id
    dport: int | None = None

    def flow(self) -> str:
        """As PacketView.flow() writes it (IPv6 with a port bracketed), so a rewrite seen
        in conntrack compares with a predicted one."""
        if self.proto in ("tcp", "udp"):
            return PacketView(self.src, self.dst, self.proto, sport=self.sport, dport=self.dport).flow()
        return PacketView(self.src, self.dst, self.proto).flow()

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
    family: int                     # the traced table's nf_tables family: 1 inet, 2 ip, 10 ip6
    table: str
    chain: str
    kind: str                       # rule | return | policy
    verdict: str
    target: str | None = None       # the chain of a jump or goto
    handle: int | None = None
    iif: int | None = None
    oif: int | None = None
    packet: PacketView | None = None
    flow_label: int | None = None   # an IPv6 header's: ties an ICMPv6 error to its captured copies


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
    rule_refs: dict[str, dict[tuple[str, str, int], RuleRef]] = field(default_factory=dict)   # family ip
    rule_refs6: dict[str, dict[tuple[str, str, int], RuleRef]] = field(default_factory=dict)  # family ip6
    nft: dict[str, NftRuleset] = field(default_factory=dict)       # native tables as the kernel lists them
    counters: dict[str, Snapshot] = field(default_factory=dict)     # deltas, per netns, the probe's family
    traced: set[str] = field(default_factory=set)                  # netns with a trace table
    send_error: int | None = None                                  # errno of the probe's send
    connect: str | None = None                                     # tcp: SA, RA, or an errno name
    table: str = ""                                                # our trace table's name
    flavour: str = "nft"
    kernel: list[str] = field(default_factory=list)                # tracefs lines (kdrops.py decodes them)
    kernel_missing: str | None = None                              # why tracefs recorded nothing

    def refs(self, ns: str, family: int) -> dict[tuple[str, str, int], RuleRef]:
        """The rule dump of `ns` for a trace event of nf_tables `family` (ip6: 10)."""
        return (self.rule_refs6 if family == NFPROTO_IPV6 else self.rule_refs).get(ns, {})

