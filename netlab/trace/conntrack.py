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
PROTOS = {1: "icmp", 6: "tcp", 17: "udp"}


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
    if data is None:
        return None
    a = attrs(data)
    ip, proto = attrs(a.get(1, b"")), attrs(a.get(2, b""))
    if 1 not in ip or 2 not in ip or 1 not in proto:
        return None
    num = proto[1][0]
    name = PROTOS.get(num, str(num))
    if name == "icmp":
        ident = struct.unpack("!H", proto[4][:2])[0] if 4 in proto else None
        sport = dport = ident
    else:
        sport = struct.unpack("!H", proto[2][:2])[0] if 2 in proto else None
        dport = struct.unpack("!H", proto[3][:2])[0] if 3 in proto else None
    return Tuple(name, socket.inet_ntoa(ip[1][:4]), socket.inet_ntoa(ip[2][:4]), sport, dport)
