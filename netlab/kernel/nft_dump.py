"""A fingerprint of a namespace's IPv4 nftables state (what iptables-nft wrote), read in
process over NETLINK_NETFILTER: chains and rules with their handles and counters left out.

Equal fingerprints mean the rules are as they were when last written, so `up` need not run
`iptables-save` (a process per namespace, seconds for a 1000-container lab) to know it."""
from __future__ import annotations

import hashlib
import socket
import struct

from . import netns
from .rtnl_dump import NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, _attrs

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_NEWCHAIN, NFT_MSG_GETCHAIN, NFT_MSG_NEWRULE, NFT_MSG_GETRULE = 3, 4, 6, 7
NFPROTO_IPV4 = 2
# attributes that change without anyone touching the rules
CHAIN_VOLATILE = {2, 6, 8}     # NFTA_CHAIN_HANDLE, _USE, _COUNTERS
RULE_VOLATILE = {3, 6, 8}      # NFTA_RULE_HANDLE, _POSITION, _ID
NFTA_RULE_EXPRESSIONS, NFTA_EXPR_NAME, NFTA_EXPR_DATA = 4, 1, 2


def _dump(sock: socket.socket, msg: int):
    kind = (NFNL_SUBSYS_NFTABLES << 8) | msg
    sock.send(struct.pack("=LHHLL", 20, kind, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) +
              struct.pack("=BBH", NFPROTO_IPV4, 0, 0))
    while True:
        data = sock.recv(1 << 20)
        off = 0
        while off + 16 <= len(data):
            length, mtype = struct.unpack_from("=LH", data, off)
            if mtype == NLMSG_DONE:
                return
            if mtype == NLMSG_ERROR:
                err = struct.unpack_from("=i", data, off + 16)[0]
                if err:
                    raise OSError(-err, "nftables dump failed")
                return
            yield data[off + 20:off + length]       # past nlmsghdr and nfgenmsg
            off += (length + 3) & ~3


def _stable(payload: bytes, volatile: set[int]) -> bytes:
    out = []
    for kind, value in sorted(_attrs(payload, 0, len(payload)).items()):
        if kind in volatile:
            continue
        if volatile is RULE_VOLATILE and kind == NFTA_RULE_EXPRESSIONS:
            value = _without_counters(value)
        out.append(struct.pack("=HI", kind, len(value)) + value)
    return b"".join(out)


def _without_counters(exprs: bytes) -> bytes:
    """Expression list with each `counter`'s packets and bytes dropped."""
    out, off = [], 0
    while off + 4 <= len(exprs):
        length = struct.unpack_from("=H", exprs, off)[0]
        elem = exprs[off + 4:off + length]
        a = _attrs(elem, 0, len(elem))
        name = a.get(NFTA_EXPR_NAME, b"")
        out.append(name if name.startswith(b"counter") else elem)
        off += (length + 3) & ~3
    return b"|".join(out)


def fingerprint(ns: str) -> str:
    with netns.entered(ns):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        h = hashlib.sha256()
        for payload in _dump(sock, NFT_MSG_GETCHAIN):
            h.update(b"C" + _stable(payload, CHAIN_VOLATILE))
        for payload in _dump(sock, NFT_MSG_GETRULE):
            h.update(b"R" + _stable(payload, RULE_VOLATILE))
        return h.hexdigest()[:24]
    finally:
        sock.close()
