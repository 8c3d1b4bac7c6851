"""A fingerprint of a namespace's nf_tables state (what iptables-nft and ip6tables-nft wrote,
and an engine's own nftables tables), read in process over NETLINK_NETFILTER: chains, rules,
sets and their elements, with handles and counters left out. The tracer's own table, there
only while a trace runs, is left out too.

Equal fingerprints mean the rules are as they were when last written, so `up` need not run
`iptables-save`, `ip6tables-save` or `nft list table` (a process per namespace and rule set,
seconds for a 1000-container lab) to know it."""
from __future__ import annotations

import hashlib
import socket
import struct
from collections.abc import Iterable, Iterator

from .netlink import NETLINK_NETFILTER, attr, attr_list, attrs, dump, open_socket, strz, text

NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_GETTABLE, NFT_MSG_GETCHAIN, NFT_MSG_GETRULE, NFT_MSG_GETSET, NFT_MSG_GETSETELEM = 1, 4, 7, 10, 13
NFPROTO_UNSPEC, NFPROTO_IPV4 = 0, 2
FAMILIES = {1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"}
# attributes that change without anyone touching the rules
CHAIN_VOLATILE = {2, 6, 8, 9, 11}   # NFTA_CHAIN_HANDLE, _USE, _COUNTERS, _PAD, _ID
RULE_VOLATILE = {3, 6, 8, 9}        # NFTA_RULE_HANDLE, _POSITION, _PAD, _ID
SET_VOLATILE = {10, 14, 16}         # NFTA_SET_ID, _PAD, _HANDLE
ELEM_VOLATILE = {5}                 # NFTA_SET_ELEM_EXPIRATION
NFTA_RULE_EXPRESSIONS, NFTA_EXPR_NAME, NFTA_EXPR_DATA = 4, 1, 2
NFTA_TABLE_FLAGS, NFTA_SET_ELEM_LIST_ELEMENTS = 2, 3
# the tracer's tables (trace/evidence.py TABLE_PREFIX; tests/unit/test_nft_tables.py keeps them equal)
TRACER_TABLES = b"netlab_trace_"

Body = tuple[int, bytes]            # (family, payload past the nfgenmsg)


def _nft(msg: int) -> int:
    return (NFNL_SUBSYS_NFTABLES << 8) | msg


def _genmsg(family: int) -> bytes:
    return struct.pack("=BBH", family, 0, 0)


def _bodies(replies: Iterable[tuple[int, bytes, int, int]]) -> Iterator[Body]:
    for _, buf, start, end in replies:
        if not attrs(buf, start + 4, end).get(1, b"").startswith(TRACER_TABLES):
            yield buf[start], buf[start + 4:end]        # the family, and what follows the nfgenmsg


def _dump(sock: socket.socket, msg: int, body: bytes, seq: int) -> list[Body]:
    return list(_bodies(dump(sock, _nft(msg), body, seq, bufsize=1 << 20)))


def read(ns: str) -> tuple[list[bytes], list[bytes]]:
    """The bodies (past nfgenmsg) of the IPv4 chains and rules nf_tables dumps in `ns`."""
    sock = open_socket(ns, NETLINK_NETFILTER)
    try:
        chains = _dump(sock, NFT_MSG_GETCHAIN, _genmsg(NFPROTO_IPV4), 1)
        rules = _dump(sock, NFT_MSG_GETRULE, _genmsg(NFPROTO_IPV4), 2)
        return [b for _, b in chains], [b for _, b in rules]
    finally:
        sock.close()


def read_all(ns: str) -> dict[str, list[Body]]:
    """Every family's tables, chains, rules, sets and set elements in `ns` (the tracer's aside)."""
    sock = open_socket(ns, NETLINK_NETFILTER)
    try:
        every = _genmsg(NFPROTO_UNSPEC)
        got = {"tables": _dump(sock, NFT_MSG_GETTABLE, every, 1), "chains": _dump(sock, NFT_MSG_GETCHAIN, every, 2),
               "rules": _dump(sock, NFT_MSG_GETRULE, every, 3), "sets": _dump(sock, NFT_MSG_GETSET, every, 4)}
        got["elements"] = []
        for seq, (family, body) in enumerate(got["sets"], 5):
            a = attrs(body)     # NFTA_SET_TABLE, NFTA_SET_NAME: which set's elements
            which = attr(1, strz(text(a.get(1)) or "")) + attr(2, strz(text(a.get(2)) or ""))
            got["elements"] += _dump(sock, NFT_MSG_GETSETELEM, _genmsg(family) + which, seq)
        return got
    finally:
        sock.close()


def tables(ns: str) -> set[str]:
    """The namespace's nf_tables tables, as "family name" ("ip filter", "ip6 docker-bridges")."""
    sock = open_socket(ns, NETLINK_NETFILTER)
    try:
        return {f"{FAMILIES.get(family, family)} {text(attrs(body).get(1))}"
                for family, body in _dump(sock, NFT_MSG_GETTABLE, _genmsg(NFPROTO_UNSPEC), 1)}
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


def fingerprint_of(chains: Iterable[bytes], rules: Iterable[bytes], more: Iterable[bytes] = ()) -> str:
    """The fingerprint of dumped IPv4 chain and rule bodies (see `read`), and `more`: the
    stable bytes of the rest (see `fingerprint`)."""
    h = hashlib.sha256()
    for payload in chains:
        h.update(b"C" + _stable(payload, CHAIN_VOLATILE))
    for payload in rules:
        h.update(b"R" + _stable(payload, RULE_VOLATILE))
    for part in more:
        h.update(part)
    return h.hexdigest()[:24]


def _elements(payload: bytes) -> bytes:
    """A set's elements in a stable order (a hash set dumps them in its hash order)."""
    a = attrs(payload)
    head = a.get(1, b"") + b"/" + a.get(2, b"")
    elems = [_stable(elem, ELEM_VOLATILE) for _, elem in attr_list(a.get(NFTA_SET_ELEM_LIST_ELEMENTS, b""))]
    return head + b"|".join(sorted(elems))


def _rest(dumped: dict[str, list[Body]]) -> Iterator[bytes]:
    """What beside the IPv4 chains and rules counts: other families' chains and rules (tagged
    with their family), sets, elements, and a table's flags when set (a dormant table)."""
    for family, body in dumped["chains"]:
        if family != NFPROTO_IPV4:
            yield b"C%d" % family + _stable(body, CHAIN_VOLATILE)
    for family, body in dumped["rules"]:
        if family != NFPROTO_IPV4:
            yield b"R%d" % family + _stable(body, RULE_VOLATILE)
    for family, body in dumped["sets"]:
        yield b"S%d" % family + _stable(body, SET_VOLATILE)
    for family, body in sorted(dumped["elements"]):
        yield b"E%d" % family + _elements(body)
    for family, body in dumped["tables"]:
        a = attrs(body)
        if a.get(NFTA_TABLE_FLAGS, b"\0\0\0\0") != b"\0\0\0\0":
            yield b"T%d" % family + a.get(1, b"") + a[NFTA_TABLE_FLAGS]


def fingerprint(ns: str) -> str:
    """Of IPv4's chains and rules alone the same as `fingerprint_of` of `read`'s; anything
    else the namespace holds is hashed in after."""
    dumped = read_all(ns)
    chains = [b for f, b in dumped["chains"] if f == NFPROTO_IPV4]
    rules = [b for f, b in dumped["rules"] if f == NFPROTO_IPV4]
    return fingerprint_of(chains, rules, _rest(dumped))
