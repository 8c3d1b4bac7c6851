"""A fingerprint of a namespace's IPv4 nftables state (what iptables-nft wrote), read in
process over NETLINK_NETFILTER: chains and rules with their handles and counters left out.

Equal fingerprints mean the rules are as they were when last written, so `up` need not run
`iptables-save` (a process per namespace, seconds for a 1000-container lab) to know it."""
from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator

from .netlink import NETLINK_NETFILTER, attrs, dump, open_socket

NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_NEWCHAIN, NFT_MSG_GETCHAIN, NFT_MSG_NEWRULE, NFT_MSG_GETRULE = 3, 4, 6, 7
NFPROTO_IPV4 = 2
# attributes that change without anyone touching the rules
CHAIN_VOLATILE = {2, 6, 8}     # NFTA_CHAIN_HANDLE, _USE, _COUNTERS
RULE_VOLATILE = {3, 6, 8}      # NFTA_RULE_HANDLE, _POSITION, _ID
NFTA_RULE_EXPRESSIONS, NFTA_EXPR_NAME, NFTA_EXPR_DATA = 4, 1, 2
NFGENMSG = struct.pack("=BBH", NFPROTO_IPV4, 0, 0)


def _nft(msg: int) -> int:
    return (NFNL_SUBSYS_NFTABLES << 8) | msg


def _bodies(replies: Iterable[tuple[int, bytes, int, int]]) -> Iterator[bytes]:
    for _, buf, start, end in replies:
        yield buf[start + 4:end]        # past the nfgenmsg


def read(ns: str) -> tuple[list[bytes], list[bytes]]:
    """The bodies (past nfgenmsg) of the IPv4 chains and rules nf_tables dumps in `ns`."""
    sock = open_socket(ns, NETLINK_NETFILTER)
    try:
        chains = list(_bodies(dump(sock, _nft(NFT_MSG_GETCHAIN), NFGENMSG, 1, bufsize=1 << 20)))
        rules = list(_bodies(dump(sock, _nft(NFT_MSG_GETRULE), NFGENMSG, 2, bufsize=1 << 20)))
        return chains, rules
    finally:
        sock.close()


def _stable(payload: bytes, volatile: set[int]) -> bytes:
    out = []
    for kind, value in sorted(attrs(payload).items()):
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
        a = attrs(elem)
        name = a.get(NFTA_EXPR_NAME, b"")
        out.append(name if name.startswith(b"counter") else elem)
        off += (length + 3) & ~3
    return b"|".join(out)


def fingerprint_of(chains: Iterable[bytes], rules: Iterable[bytes]) -> str:
    """The fingerprint of dumped chain and rule bodies (see `read`)."""
    h = hashlib.sha256()
    for payload in chains:
        h.update(b"C" + _stable(payload, CHAIN_VOLATILE))
    for payload in rules:
        h.update(b"R" + _stable(payload, RULE_VOLATILE))
    return h.hexdigest()[:24]


def fingerprint(ns: str) -> str:
    return fingerprint_of(*read(ns))
