"""Just enough nfnetlink (NETLINK_NETFILTER) to drive nf_tables and read its trace and
conntrack events, with sockets opened inside lab namespaces.

pyroute2 has no nftrace message class and its import alone costs more than a whole trace
setup, so the few messages needed are packed and parsed here with struct."""
from __future__ import annotations

import errno
import os
import select
import socket
import struct

from ..errors import KernelError
from ..kernel import netns

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF

NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP = 0x300
NLM_F_EXCL, NLM_F_CREATE, NLM_F_APPEND = 0x200, 0x400, 0x800
NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END = 0x10, 0x11

NFNL_SUBSYS_CTNETLINK, NFNL_SUBSYS_NFTABLES = 1, 10
NFPROTO_INET, NFPROTO_IPV4, NFPROTO_BRIDGE = 1, 2, 7

_HDR = struct.Struct("=IHHII")          # nlmsghdr: len, type, flags, seq, pid
_GEN = struct.Struct("=BBH")            # nfgenmsg: family, version, res_id (big endian)


# ---- attributes ----------------------------------------------------------------------
def attr(kind: int, payload: bytes) -> bytes:
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def nest(kind: int, *children: bytes) -> bytes:
    return attr(kind | NLA_F_NESTED, b"".join(children))


def strz(text: str) -> bytes:
    return text.encode() + b"\0"


def be32(value: int) -> bytes:
    return struct.pack("!I", value & 0xFFFFFFFF)


def attrs(data: bytes) -> dict[int, bytes]:
    """Attributes by type (the last of a repeated type wins; see attr_list for lists)."""
    return dict(attr_list(data))


def attr_list(data: bytes) -> list[tuple[int, bytes]]:
    out, i = [], 0
    while i + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, i)
        if length < 4:
            break
        out.append((kind & NLA_TYPE_MASK, data[i + 4:i + length]))
        i += (length + 3) & ~3
    return out


def text(value: bytes | None) -> str | None:
    return value.rstrip(b"\0").decode(errors="replace") if value is not None else None


def u32(value: bytes | None) -> int | None:
    return struct.unpack("!I", value[:4])[0] if value is not None else None


def s32(value: bytes | None) -> int | None:
    return struct.unpack("!i", value[:4])[0] if value is not None else None


def u64(value: bytes | None) -> int | None:
    return struct.unpack("!Q", value[:8])[0] if value is not None else None


# ---- messages ------------------------------------------------------------------------
def message(kind: int, flags: int, seq: int, family: int, body: bytes = b"", res_id: int = 0) -> bytes:
    payload = _GEN.pack(family, 0, socket.htons(res_id)) + body
    return _HDR.pack(_HDR.size + len(payload), kind, flags, seq, 0) + payload


def messages(buf: bytes):
    """(type, flags, seq, family, body) for each netlink message in one datagram."""
    i = 0
    while i + _HDR.size <= len(buf):
        length, kind, flags, seq, _ = _HDR.unpack_from(buf, i)
        if length < _HDR.size:
            break
        payload = buf[i + _HDR.size:i + length]
        if kind in (NLMSG_ERROR, NLMSG_DONE):
            yield kind, flags, seq, 0, payload
        elif len(payload) >= _GEN.size:
            yield kind, flags, seq, payload[0], payload[_GEN.size:]
        i += (length + 3) & ~3


def open_socket(ns: str, groups: tuple[int, ...] = ()) -> socket.socket:
    """A NETLINK_NETFILTER socket living in netns `ns`, joined to `groups`."""
    with netns.entered(ns):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((0, 0))
        for group in groups:
            sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    except OSError:
        sock.close()
        raise
    return sock


class Requester:
    """Sequenced requests on one socket; events that arrive meanwhile are kept for later."""

    def __init__(self, sock: socket.socket, ns: str):
        self.sock, self.ns, self.seq = sock, ns, int.from_bytes(os.urandom(2), "big") << 8
        self.pending: list[bytes] = []      # multicast datagrams read while waiting for a reply

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def transact(self, data: bytes, seqs: set[int], what: str) -> None:
        """Send `data` (one message or a batch, each message asking for an ack) and wait
        until every one in `seqs` is acknowledged; the first error fails the whole."""
        self.sock.send(data)
        self._collect(set(seqs), what)

    def dump(self, kind: int, family: int, body: bytes, what: str) -> list[tuple[int, bytes]]:
        seq = self.next_seq()
        self.sock.send(message(kind, NLM_F_REQUEST | NLM_F_DUMP, seq, family, body))
        return self._collect({seq}, what, dump=True)

    def _collect(self, seqs: set[int], what: str, dump: bool = False) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        while seqs:
            if not select.select([self.sock], [], [], 2.0)[0]:
                raise KernelError(f"{self.ns}: no answer from the kernel to {what}")
            buf = self.sock.recv(1 << 20)
            mine = False
            for kind, flags, mseq, family, body in messages(buf):
                if mseq not in seqs:
                    continue
                mine = True
                if kind == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", body)[0]
                    if code:
                        raise KernelError(f"{self.ns}: {what}: {os.strerror(code)}"
                                          + (" (nf_tables missing?)" if code == errno.EOPNOTSUPP else ""))
                    seqs.discard(mseq)
                elif kind == NLMSG_DONE:
                    seqs.discard(mseq)
                else:
                    out.append((kind, body))
            if not mine:
                self.pending.append(buf)
        return out
