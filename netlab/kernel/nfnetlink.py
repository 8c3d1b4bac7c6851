"""nfnetlink (NETLINK_NETFILTER) over the codec in netlink.py: messages with their nfgenmsg,
sequenced requests and batches for nf_tables, and sockets that hear trace and conntrack
events, opened inside lab namespaces."""
from __future__ import annotations

import errno
import os
import select
import socket
import struct
from collections.abc import Iterator

from ..errors import KernelError
from .netlink import NETLINK_NETFILTER, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, error_code, frames, request
from .netlink import open_socket as open_netlink

NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END = 0x10, 0x11
NFNL_SUBSYS_CTNETLINK, NFNL_SUBSYS_NFTABLES = 1, 10
NFPROTO_INET, NFPROTO_IPV4, NFPROTO_BRIDGE, NFPROTO_IPV6 = 1, 2, 7, 10

_GEN = struct.Struct("=BBH")            # nfgenmsg: family, version, res_id (big endian)


def message(kind: int, flags: int, seq: int, family: int, body: bytes = b"", res_id: int = 0) -> bytes:
    return request(kind, flags, seq, _GEN.pack(family, 0, socket.htons(res_id)) + body)


def messages(buf: bytes) -> Iterator[tuple[int, int, int, int, bytes]]:
    """(type, flags, seq, family, body) for each netlink message in one datagram."""
    for kind, flags, seq, start, end in frames(buf):
        if kind in (NLMSG_ERROR, NLMSG_DONE):
            yield kind, flags, seq, 0, buf[start:end]
        elif end - start >= _GEN.size:
            yield kind, flags, seq, buf[start], buf[start + _GEN.size:end]


def open_socket(ns: str, groups: tuple[int, ...] = ()) -> socket.socket:
    """A NETLINK_NETFILTER socket living in netns `ns`, joined to `groups`."""
    return open_netlink(ns, NETLINK_NETFILTER, groups, rcvbuf=1 << 20)


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

    def batch(self, parts: list[bytes], subsystem: int = NFNL_SUBSYS_NFTABLES) -> bytes:
        """`parts` (messages) as one transaction of `subsystem`."""
        begin = message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, self.next_seq(), 0, res_id=subsystem)
        end = message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, self.next_seq(), 0, res_id=subsystem)
        return begin + b"".join(parts) + end

    def dump(self, kind: int, family: int, body: bytes, what: str) -> list[tuple[int, bytes]]:
        seq = self.next_seq()
        self.sock.send(message(kind, NLM_F_REQUEST | NLM_F_DUMP, seq, family, body))
        return self._collect({seq}, what)

    def _collect(self, seqs: set[int], what: str) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        while seqs:
            if not select.select([self.sock], [], [], 2.0)[0]:
                raise KernelError(f"{self.ns}: no answer from the kernel to {what}")
            buf = self.sock.recv(1 << 20)
            mine = False
            for kind, _, mseq, _, body in messages(buf):
                if mseq not in seqs:
                    continue
                mine = True
                if kind == NLMSG_ERROR:
                    code = error_code(body, 0)
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
