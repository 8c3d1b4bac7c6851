"""What makes the probe recognisable everywhere: at every hop, in every nftrace and
conntrack event, on the way out and back, before and after NAT.

NAT may rewrite addresses and the destination port, and VXLAN wraps the packet, but the
ICMP echo id and the TCP/UDP source port (the `key`) survive to the destination and come
back in the reply; the IP id of a crafted request survives too, inner header included.

IPv6 has no IP id: a crafted IPv6 request carries a random flow label instead (`flow_label`),
which the kernel forwards and NATs untouched (measured: a raw AF_INET6 send keeps it). It
is not a PacketView field (the prediction cannot know a reply's or an error's label, the
kernel picks those); correlate reads it from the frames' bytes, where it ties an ICMPv6
error's nftrace events to its captured copies as the IP id does for IPv4."""
from __future__ import annotations

import random
from dataclasses import dataclass

from .model import REPLY, REQUEST, PacketView

ICMP_ERRORS = (3, 11)
ICMP6_ERRORS = (1, 2, 3)        # destination unreachable, packet too big, time exceeded
ERRORS = {"icmp": ICMP_ERRORS, "icmp6": ICMP6_ERRORS}
_ECHO_LEGS: dict[str, dict[int | None, str]] = {"icmp": {8: REQUEST, 0: REPLY},
                                                "icmp6": {128: REQUEST, 129: REPLY}}
KEY_RANGE = (20000, 29999)      # below the kernel's ephemeral range, so no socket holds it


@dataclass(frozen=True)
class Signature:
    proto: str                  # icmp | icmp6 | tcp | udp
    key: int                    # icmp echo id, or the tcp/udp source port
    ip_id: int | None = None    # the crafted IPv4 request's IP id (None: the kernel picks it)
    family: int = 4
    flow_label: int | None = None   # the crafted IPv6 request's flow label
    ttl: int = 64               # the request's TTL (IPv6: hop limit) as sent: less runs out on the way

    @classmethod
    def fresh(cls, proto: str, family: int = 4) -> Signature:
        """Random values: a leftover conntrack entry of an earlier trace must not match.
        A `proto` of icmp in family 6 is ICMPv6 (`icmp6`)."""
        key = random.randint(*KEY_RANGE)
        if family == 6:
            proto = "icmp6" if proto in ("icmp", "icmp6") else proto
            return cls(proto, key, None, 6, None if proto == "tcp" else random.randint(1, 0xFFFFF))
        return cls(proto, key, None if proto == "tcp" else random.randint(1, 0xFFFF))

    @property
    def echo(self) -> bool:
        return self.proto in ("icmp", "icmp6")

    def leg(self, pkt: PacketView) -> str | None:
        """`request`, `reply`, or None for a packet that is not the probe's (or is the
        probe connection's handshake tail, which the trace does not follow). An underlay
        copy's own fields are the inner packet's, so VXLAN needs nothing special."""
        if pkt.proto in ERRORS and pkt.icmp_type in ERRORS[pkt.proto] and pkt.quoted is not None:
            return REPLY if self.leg(pkt.quoted) == REQUEST else None
        if pkt.proto != self.proto:
            return None
        if self.echo:
            if pkt.icmp_id != self.key:
                return None
            return _ECHO_LEGS[self.proto].get(pkt.icmp_type)
        if self.proto == "tcp":
            flags = pkt.tcp_flags or ""
            if pkt.sport == self.key and "S" in flags and "A" not in flags:
                return REQUEST
            if pkt.dport == self.key and ("S" in flags or "R" in flags):
                return REPLY
            return None
        if pkt.sport == self.key:
            return REQUEST
        if pkt.dport == self.key:
            return REPLY
        return None
