"""netlab's one netlink codec: message headers, attributes, raw sockets opened inside a lab
namespace. rtnl_dump (links, addresses, routes), nft_dump (rule fingerprints), nfnetlink
(nf_tables requests, trace and conntrack events) all pack and parse through it.

pyroute2 does the rtnetlink writes; it has no nftrace message class, and its import and
request path cost more than a whole trace set-up or a 1000-namespace observation, so the
few messages read and written here are packed and parsed with struct."""
from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

from . import netns

NETLINK_ROUTE, NETLINK_NETFILTER = 0, 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP = 0x300
NLM_F_EXCL, NLM_F_CREATE, NLM_F_APPEND = 0x200, 0x400, 0x800
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF        # drops the nested / byte-order flag bits

HEADER = struct.Struct("=IHHII")          # nlmsghdr: len, type, flags, seq, pid
_ATTR = struct.Struct("=HH")


# ---- attributes ----------------------------------------------------------------------
def attr(kind: int, payload: bytes) -> bytes:
    data = _ATTR.pack(4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def nest(kind: int, *children: bytes) -> bytes:
    return attr(kind | NLA_F_NESTED, b"".join(children))


def strz(text: str) -> bytes:
    return text.encode() + b"\0"


def be32(value: int) -> bytes:
    return struct.pack("!I", value & 0xFFFFFFFF)


def attr_list(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, bytes]]:
    """(type, payload) of each attribute in data[start:end], in order (offsets, so that a
    reader of a big datagram copies only the attributes)."""
    end = len(data) if end is None else end
    out, i = [], start
    while i + 4 <= end:
        length, kind = _ATTR.unpack_from(data, i)
        if length < 4:
            break
        out.append((kind & NLA_TYPE_MASK, data[i + 4:i + length]))
        i += (length + 3) & ~3
    return out


def attrs(data: bytes, start: int = 0, end: int | None = None) -> dict[int, bytes]:
    """Attributes by type (the last of a repeated type wins; see attr_list for lists)."""
    return dict(attr_list(data, start, end))


def text(value: bytes | None) -> str | None:
    """A NUL-terminated string attribute."""
    return value.split(b"\0", 1)[0].decode(errors="replace") if value is not None else None


def u32(value: bytes | None) -> int | None:
    """Network byte order (nfnetlink's numbers)."""
    return struct.unpack("!I", value[:4])[0] if value is not None else None


def s32(value: bytes | None) -> int | None:
    return struct.unpack("!i", value[:4])[0] if value is not None else None


def u64(value: bytes | None) -> int | None:
    return struct.unpack("!Q", value[:8])[0] if value is not None else None


def host_u32(value: bytes | None) -> int | None:
    """Host byte order (rtnetlink's numbers); None for a missing or empty attribute."""
    return struct.unpack("=I", value[:4])[0] if value else None


# ---- messages ------------------------------------------------------------------------
def request(kind: int, flags: int, seq: int, body: bytes) -> bytes:
    return HEADER.pack(HEADER.size + len(body), kind, flags, seq, 0) + body


def frames(buf: bytes) -> Iterator[tuple[int, int, int, int, int]]:
    """(type, flags, seq, start, end) of each message in one datagram: its payload is
    buf[start:end] (past the header)."""
    i = 0
    while i + HEADER.size <= len(buf):
        length, kind, flags, seq, _ = HEADER.unpack_from(buf, i)
        if length < HEADER.size:
            break
        yield kind, flags, seq, i + HEADER.size, i + length
        i += (length + 3) & ~3


def error_code(buf: bytes, start: int) -> int:
    """The errno of an NLMSG_ERROR payload (0: an acknowledgement)."""
    return -struct.unpack_from("=i", buf, start)[0]


def dump(sock: socket.socket, kind: int, body: bytes, seq: int,
         bufsize: int = 1 << 16) -> Iterator[tuple[int, bytes, int, int]]:
    """Send a dump request; yield (type, datagram, start, end) of each reply message until
    NLMSG_DONE. An error reply raises OSError (an acknowledgement ends the dump)."""
    sock.send(request(kind, NLM_F_REQUEST | NLM_F_DUMP, seq, body))
    while True:
        data = sock.recv(bufsize)
        for mtype, _, mseq, start, end in frames(data):
            if mtype == NLMSG_DONE:
                return
            if mtype == NLMSG_ERROR:
                code = error_code(data, start)
                if code:
                    raise OSError(code, f"netlink dump {kind} failed")
                return
            if mseq == seq:
                yield mtype, data, start, end


def open_socket(ns: str, protocol: int, groups: tuple[int, ...] = (), rcvbuf: int | None = None) -> socket.socket:
    """A raw netlink socket living in netns `ns` (it stays there), bound, joined to `groups`."""
    with netns.entered(ns):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol)
    try:
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.bind((0, 0))
        for group in groups:
            sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    except OSError:
        sock.close()
        raise
    return sock
