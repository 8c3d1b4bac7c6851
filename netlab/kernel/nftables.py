"""The tracer's nf_tables table (tracing.md §2.2, §6.4), and what it reads back of the
iptables-nft rules: a temporary table per namespace whose rules set `meta nftrace` on the
probe's packets only, written and removed over nfnetlink.

The table is created with NFT_TABLE_F_OWNER by the very socket that listens: the kernel
deletes it when that socket closes, so even a `kill -9` of the tracer leaves nothing."""
from __future__ import annotations

import struct

from .netlink import (
    NLM_F_ACK,
    NLM_F_APPEND,
    NLM_F_CREATE,
    NLM_F_REQUEST,
    attr,
    attr_list,
    attrs,
    be32,
    nest,
    strz,
    text,
    u64,
)
from .nfnetlink import NFNL_SUBSYS_NFTABLES, NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6, Requester, message

NFNLGRP_NFTRACE = 9
VXLAN_PORT = 4789
PRIORITY = -350         # before raw (-300), conntrack (-200) and DNAT (-100)

NFT_MSG_NEWTABLE, NFT_MSG_GETTABLE, NFT_MSG_DELTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_GETCHAIN = 0, 1, 2, 3, 4
NFT_MSG_NEWRULE, NFT_MSG_GETRULE, NFT_MSG_TRACE = 6, 7, 17
NFT_TABLE_F_OWNER = 2
HOOK_PREROUTING, HOOK_OUTPUT = 0, 3
NFT_META_NFTRACE, NFT_META_NFPROTO, NFT_META_L4PROTO = 12, 15, 16
BASE_NETWORK, BASE_TRANSPORT = 1, 2
CMP_EQ, CMP_NEQ = 0, 1
REG_1 = 1
L4 = {"icmp": 1, "tcp": 6, "udp": 17, "icmp6": 58}
TCP_SYN_RST = 0x06
# an IPv4 header without options, then the transport header: where an ICMP error quotes
# the original packet, and where VXLAN (UDP 8 + VXLAN 8 + Ethernet 14) puts the inner one;
# the same behind an IPv6 header (40 bytes, the probe has no extension headers)
QUOTE, INNER = 8 + 20, 8 + 8 + 14 + 20
QUOTE6, INNER6 = 8 + 40, 8 + 8 + 14 + 40
NFPROTO = {4: NFPROTO_IPV4, 6: NFPROTO_IPV6}
NDP_SOLICITATION = 135


def nft(kind: int) -> int:
    return (NFNL_SUBSYS_NFTABLES << 8) | kind


# ---- expressions ---------------------------------------------------------------------
def _expr(name: str, *data: bytes) -> bytes:
    return nest(1, attr(1, strz(name)), nest(2, *data))       # NFTA_LIST_ELEM{NAME, DATA}


def _meta(key: int) -> bytes:
    return _expr("meta", attr(1, be32(REG_1)), attr(2, be32(key)))


def _payload(base: int, offset: int, length: int) -> bytes:
    return _expr("payload", attr(1, be32(REG_1)), attr(2, be32(base)), attr(3, be32(offset)),
                 attr(4, be32(length)))


def _cmp(value: bytes, op: int = CMP_EQ) -> bytes:
    return _expr("cmp", attr(1, be32(REG_1)), attr(2, be32(op)), nest(3, attr(1, value)))


def _mask(mask: bytes) -> bytes:
    return _expr("bitwise", attr(1, be32(REG_1)), attr(2, be32(REG_1)), attr(3, be32(len(mask))),
                 nest(4, attr(1, mask)), nest(5, attr(1, b"\0" * len(mask))))


def _set_nftrace() -> bytes:
    return _expr("immediate", attr(1, be32(REG_1)), nest(2, attr(1, b"\x01"))) + \
        _expr("meta", attr(2, be32(NFT_META_NFTRACE)), attr(3, be32(REG_1)))


def _match(l4: str, offset: int, value: bytes, family: int = 4) -> bytes:
    return (_meta(NFT_META_NFPROTO) + _cmp(bytes([NFPROTO[family]])) + _meta(NFT_META_L4PROTO)
            + _cmp(bytes([L4[l4]])) + _payload(BASE_TRANSPORT, offset, len(value)) + _cmp(value))


def trace_rules(proto: str, key: int, family: int = 4, solicited: tuple[bytes, ...] = ()) -> list[bytes]:
    """One rule body per way the probe (`proto`, its port or ICMP id `key`) can look: itself
    (both directions), quoted in an ICMP error, and wrapped in VXLAN on the underlay (inner
    key at a fixed offset). An IPv6 probe (`family` 6: ICMPv6, its errors, an IPv6 inner
    header) may be wrapped by an IPv4 or an IPv6 underlay. `solicited`: IPv6 addresses (16
    bytes) whose NDP neighbour solicitations are marked too: ICMPv6, unlike ARP, meets the
    ip6 tables (bridged, through br_netfilter), and a rule there can drop the probe's lookup."""
    packed = struct.pack("!H", key)
    error, quote, inner = ("icmp6", QUOTE6, INNER6) if family == 6 else ("icmp", QUOTE, INNER)
    if proto in ("icmp", "icmp6"):
        fields = [(4, error)]                    # echo id, request and reply alike
    else:
        fields = [(0, proto), (2, proto)]        # our port as source, or as destination
    rules = []
    for offset, l4 in fields:
        body = _match(l4, offset, packed, family)
        if proto == "tcp":
            # the SYN and what answers it (SYN-ACK or RST), not the rest of the connection
            body += _payload(BASE_TRANSPORT, 13, 1) + _mask(bytes([TCP_SYN_RST])) + _cmp(b"\0", CMP_NEQ)
        rules.append(body)
        rules.append(_match(error, quote + offset, packed, family))      # an ICMP error about it
        for underlay in ((4,) if family == 4 else (4, 6)):
            rules.append(_match("udp", 2, struct.pack("!H", VXLAN_PORT), underlay)
                         + _payload(BASE_TRANSPORT, inner + offset, 2) + _cmp(packed))
    for target in solicited:
        rules.append(_match("icmp6", 0, bytes([NDP_SOLICITATION]), 6) + _payload(BASE_TRANSPORT, 8, 16) + _cmp(target))
    return [body + _set_nftrace() for body in rules]


# ---- the table -----------------------------------------------------------------------
def install_trace(req: Requester, name: str, proto: str, key: int, family: int = 4,
                  solicited: tuple[bytes, ...] = ()) -> None:
    """One batch: the owner table, a prerouting and an output chain, the matching rules."""
    flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE
    seqs, parts = set(), []

    def add(kind: int, body: bytes, extra: int = 0) -> None:
        seq = req.next_seq()
        seqs.add(seq)
        parts.append(message(nft(kind), flags | extra, seq, NFPROTO_INET, body))

    add(NFT_MSG_NEWTABLE, attr(1, strz(name)) + attr(2, be32(NFT_TABLE_F_OWNER)))
    for chain, hook in (("pre", HOOK_PREROUTING), ("out", HOOK_OUTPUT)):
        add(NFT_MSG_NEWCHAIN, attr(1, strz(name)) + attr(3, strz(chain))
            + nest(4, attr(1, be32(hook)), attr(2, be32(PRIORITY))) + attr(5, be32(1))
            + attr(7, strz("filter")))
        for body in trace_rules(proto, key, family, solicited):
            add(NFT_MSG_NEWRULE, attr(1, strz(name)) + attr(2, strz(chain)) + nest(4, body), NLM_F_APPEND)
    req.transact(req.batch(parts), seqs, "adding the trace table")


def remove_table(req: Requester, name: str) -> None:
    seq = req.next_seq()
    msg = message(nft(NFT_MSG_DELTABLE), NLM_F_REQUEST | NLM_F_ACK, seq, NFPROTO_INET, attr(1, strz(name)))
    req.transact(req.batch([msg]), {seq}, "removing the trace table")


def list_tables(req: Requester) -> list[str]:
    """Names of every nf_tables table in the namespace (any family)."""
    return [text(attrs(body).get(1)) or "" for _, body in req.dump(nft(NFT_MSG_GETTABLE), 0, b"", "listing tables")]


# ---- the iptables-nft rules, by handle -----------------------------------------------
RuleCounts = dict[tuple[str, str, int], tuple[int, int | None]]


def dump_rules(req: Requester, family: int = 4) -> tuple[RuleCounts, dict[tuple[str, str], int]]:
    """Every iptables-nft rule of `family` (nf_tables family ip, or ip6 for ip6tables-nft)
    by (table, chain, handle) -> (its position in its chain from 1, its counter's packets),
    and the policy counter of every built-in chain by (table, chain)."""
    rules: RuleCounts = {}
    count: dict[tuple[str, str], int] = {}
    for _, body in req.dump(nft(NFT_MSG_GETRULE), NFPROTO[family], b"", "listing rules"):
        a = attrs(body)
        table, chain, handle = text(a.get(1)) or "", text(a.get(2)) or "", u64(a.get(3)) or 0
        count[(table, chain)] = count.get((table, chain), 0) + 1
        rules[(table, chain, handle)] = (count[(table, chain)], _counter(a.get(4)))
    policies: dict[tuple[str, str], int] = {}
    for _, body in req.dump(nft(NFT_MSG_GETCHAIN), NFPROTO[family], b"", "listing chains"):
        a = attrs(body)
        if 8 in a:
            policies[(text(a.get(1)) or "", text(a.get(3)) or "")] = u64(attrs(a[8]).get(2)) or 0
    return rules, policies


def _counter(expressions: bytes | None) -> int | None:
    for _, elem in attr_list(expressions or b""):
        e = attrs(elem)
        if text(e.get(1)) == "counter":
            return u64(attrs(e.get(2, b"")).get(2))
    return None
