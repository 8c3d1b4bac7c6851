"""What makes the probe recognisable everywhere: at every hop, in every nftrace and
conntrack event, on the way out and back, before and after NAT.

NAT may rewrite addresses and the destination port, and VXLAN wraps the packet, but the
ICMP echo id and the TCP/UDP source port (the `key`) survive to the destination and come
back in the reply; the IP id of a crafted request survives too, inner header included."""
from __future__ import annotations

import random
from dataclasses import dataclass

from .model import REPLY, REQUEST, PacketView

ICMP_ERRORS = (3, 11)
_ECHO_LEGS: dict[int | None, str] = {8: REQUEST, 0: REPLY}     # icmp_type of an echo -> leg
KEY_RANGE = (20000, 29999)      # below the kernel's ephemeral range, so no socket holds it


@dataclass(frozen=True)
class Signature:
    proto: str                  # icmp | tcp | udp
    key: int                    # icmp echo id, or the tcp/udp source port
    ip_id: int | None = None    # the crafted request's IP id (None: the kernel picks it)

    @classmethod
    def fresh(cls, proto: str) -> Signature:
        """Random values: a leftover conntrack entry of an earlier trace must not match."""
        key = random.randint(*KEY_RANGE)
        return cls(proto, key, None if proto == "tcp" else random.randint(1, 0xFFFF))

    def leg(self, pkt: PacketView) -> str | None:
        """`request`, `reply`, or None for a packet that is not the probe's (or is the
        probe connection's handshake tail, which the trace does not follow). An underlay
        copy's own fields are the inner packet's, so VXLAN needs nothing special."""
        if pkt.proto == "icmp" and pkt.icmp_type in ICMP_ERRORS and pkt.quoted is not None:
            return REPLY if self.leg(pkt.quoted) == REQUEST else None
        if pkt.proto != self.proto:
            return None
        if self.proto == "icmp":
            if pkt.icmp_id != self.key:
                return None
            return _ECHO_LEGS.get(pkt.icmp_type)
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

