"""Conntrack events (ctnetlink NEW / UPDATE on NFNLGRP_CONNTRACK_*): the original and
reply tuples of the probe's connection in a namespace, and whether NAT changed them.

A packet dropped before conntrack confirms its entry makes no event (tracing.md §2.5), so
the absence of an event says nothing; NAT is read from the tuples only when one comes."""
from __future__ import annotations

import socket
import struct

from ..kernel.netlink import attrs, u32
from ..kernel.nfnetlink import NFNL_SUBSYS_CTNETLINK
from .evidence import IPS_DST_NAT, IPS_SRC_NAT, CtEvent, Tuple  # noqa: F401 (re-exported)

GROUPS = (1, 2)                 # NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_UPDATE
NLM_F_CREATE = 0x400
PROTOS = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6"}
CTA_IP_V4_SRC, CTA_IP_V4_DST, CTA_IP_V6_SRC, CTA_IP_V6_DST = 1, 2, 3, 4
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT, CTA_PROTO_ICMP_ID, CTA_PROTO_ICMPV6_ID = 1, 2, 3, 4, 7


def is_conntrack(msg_type: int) -> bool:
    return msg_type >> 8 == NFNL_SUBSYS_CTNETLINK and msg_type & 0xFF == 0     # IPCTNL_MSG_CT_NEW


def decode(ns: str, order: int, flags: int, body: bytes) -> CtEvent | None:
    a = attrs(body)
    orig, reply = _tuple(a.get(1)), _tuple(a.get(2))
    if orig is None or reply is None:
        return None
    return CtEvent(netns=ns, order=order, new=bool(flags & NLM_F_CREATE), orig=orig, reply=reply,
                   status=u32(a.get(3)) or 0)


def _tuple(data: bytes | None) -> Tuple | None:
    """CTA_TUPLE_IP (IPv4 or IPv6 addresses) and CTA_TUPLE_PROTO (ports, or the ICMP /
    ICMPv6 echo id as both)."""
    if data is None:
        return None
    a = attrs(data)
    ip, proto = attrs(a.get(1, b"")), attrs(a.get(2, b""))
    if CTA_PROTO_NUM not in proto:
        return None
    if CTA_IP_V4_SRC in ip and CTA_IP_V4_DST in ip:
        src, dst = socket.inet_ntoa(ip[CTA_IP_V4_SRC][:4]), socket.inet_ntoa(ip[CTA_IP_V4_DST][:4])
    elif CTA_IP_V6_SRC in ip and CTA_IP_V6_DST in ip:
        src, dst = (socket.inet_ntop(socket.AF_INET6, ip[k][:16]) for k in (CTA_IP_V6_SRC, CTA_IP_V6_DST))
    else:
        return None
    num = proto[CTA_PROTO_NUM][0]
    name = PROTOS.get(num, str(num))
    if name in ("icmp", "icmp6"):
        field = CTA_PROTO_ICMP_ID if name == "icmp" else CTA_PROTO_ICMPV6_ID
        sport = dport = _u16(proto.get(field))
    else:
        sport, dport = _u16(proto.get(CTA_PROTO_SRC_PORT)), _u16(proto.get(CTA_PROTO_DST_PORT))
    return Tuple(name, src, dst, sport, dport)


def _u16(data: bytes | None) -> int | None:
    return struct.unpack("!H", data[:2])[0] if data and len(data) >= 2 else None
