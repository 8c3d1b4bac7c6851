"""The netfilter path of the probe: a temporary nf_tables trace table per namespace that
sets `meta nftrace` on the probe's packets only, and the NFT_MSG_TRACE events the kernel
then sends for every rule, user-chain end and policy those packets meet.

The table is created with NFT_TABLE_F_OWNER by the very socket that listens: the kernel
deletes it when that socket closes, so even a `kill -9` of the tracer leaves nothing. It is
also deleted explicitly when the trace ends (tracing.md §2.2, §6.4)."""
from __future__ import annotations

import os
import struct
from dataclasses import replace

from .evidence import TABLE_PREFIX, RuleRef, TraceEvent, rule_text  # noqa: F401 (re-exported)
from .model import PacketView
from .nfnetlink import (NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES, NFPROTO_INET, NFPROTO_IPV4, NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REQUEST, Requester, attr, attr_list, attrs, be32, message, nest, s32, strz, text, u32, u64)
from .signature import Signature

NFNLGRP_NFTRACE = 9
VXLAN_PORT = 4789
PRIORITY = -350         # before raw (-300), conntrack (-200) and DNAT (-100)

NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_GETCHAIN = 0, 2, 3, 4
NFT_MSG_NEWRULE, NFT_MSG_GETRULE, NFT_MSG_TRACE = 6, 7, 17
NFT_TABLE_F_OWNER = 2
HOOK_PREROUTING, HOOK_OUTPUT = 0, 3
NFT_META_NFTRACE, NFT_META_NFPROTO, NFT_META_L4PROTO = 12, 15, 16
BASE_NETWORK, BASE_TRANSPORT = 1, 2
CMP_EQ, CMP_NEQ = 0, 1
REG_1 = 1
TRACE_KINDS = {1: "policy", 2: "return", 3: "rule"}
VERDICTS = {0: "drop", 1: "accept", 2: "stolen", 3: "queue", 4: "repeat", 5: "stop",
            -1: "continue", -2: "break", -3: "jump", -4: "goto", -5: "return"}
L4 = {"icmp": 1, "tcp": 6, "udp": 17}
PROTOS = {1: "icmp", 6: "tcp", 17: "udp"}
TCP_SYN_RST = 0x06
# an IPv4 header without options, then the transport header: where an ICMP error quotes
# the original packet, and where VXLAN (UDP 8 + VXLAN 8 + Ethernet 14) puts the inner one
QUOTE, INNER = 8 + 20, 8 + 8 + 14 + 20


def nft(kind: int) -> int:
    return (NFNL_SUBSYS_NFTABLES << 8) | kind


def table_name() -> str:
    return f"{TABLE_PREFIX}{os.getpid()}"


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


def _match(l4: str, offset: int, value: bytes) -> bytes:
    return (_meta(NFT_META_NFPROTO) + _cmp(bytes([NFPROTO_IPV4])) + _meta(NFT_META_L4PROTO)
            + _cmp(bytes([L4[l4]])) + _payload(BASE_TRANSPORT, offset, len(value)) + _cmp(value))


def rule_matches(sig: Signature) -> list[bytes]:
    """One rule body per way the probe can look: itself (both directions), quoted in an
    ICMP error, and wrapped in VXLAN on the underlay (inner key at a fixed offset)."""
    key = struct.pack("!H", sig.key)
    if sig.proto == "icmp":
        fields = [(4, "icmp")]                       # echo id, request and reply alike
    else:
        fields = [(0, sig.proto), (2, sig.proto)]    # our port as source, or as destination
    rules = []
    for offset, l4 in fields:
        body = _match(l4, offset, key)
        if sig.proto == "tcp":
            # the SYN and what answers it (SYN-ACK or RST), not the rest of the connection
            body += _payload(BASE_TRANSPORT, 13, 1) + _mask(bytes([TCP_SYN_RST])) + _cmp(b"\0", CMP_NEQ)
        rules.append(body)
        rules.append(_match("icmp", QUOTE + offset, key))          # an ICMP error about it
        rules.append(_match("udp", 2, struct.pack("!H", VXLAN_PORT))
                     + _payload(BASE_TRANSPORT, INNER + offset, 2) + _cmp(key))
    return [body + _set_nftrace() for body in rules]


# ---- the table -----------------------------------------------------------------------
def install(req: Requester, sig: Signature, name: str) -> None:
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
        for body in rule_matches(sig):
            add(NFT_MSG_NEWRULE, attr(1, strz(name)) + attr(2, strz(chain)) + nest(4, body), NLM_F_APPEND)
    req.transact(_batch(req, parts), seqs, "adding the trace table")


def remove(req: Requester, name: str) -> None:
    seq = req.next_seq()
    msg = message(nft(NFT_MSG_DELTABLE), NLM_F_REQUEST | NLM_F_ACK, seq, NFPROTO_INET, attr(1, strz(name)))
    req.transact(_batch(req, [msg]), {seq}, "removing the trace table")


def _batch(req: Requester, parts: list[bytes]) -> bytes:
    begin = message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, req.next_seq(), 0, res_id=NFNL_SUBSYS_NFTABLES)
    end = message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, req.next_seq(), 0, res_id=NFNL_SUBSYS_NFTABLES)
    return begin + b"".join(parts) + end


def list_tables(req: Requester) -> list[str]:
    """Names of every nf_tables table in the namespace (any family)."""
    return [text(attrs(body).get(1)) for _, body in req.dump(nft(1), 0, b"", "listing tables")]


# ---- events --------------------------------------------------------------------------
def is_trace(msg_type: int) -> bool:
    return msg_type == nft(NFT_MSG_TRACE)


def decode(ns: str, order: int, family: int, body: bytes) -> TraceEvent:
    a = attrs(body)
    kind = TRACE_KINDS.get(u32(a.get(4)), "rule")
    verdict, target = "continue", None
    if 5 in a:
        v = attrs(a[5])
        code = s32(v.get(1))
        verdict = VERDICTS.get(code if code is None or code < 0 else code & 0xFF, str(code))
        target = text(v.get(2))
    if kind == "policy" and 16 in a:
        verdict = VERDICTS.get(u32(a[16]) & 0xFF, verdict)
    return TraceEvent(ns, order, u32(a.get(6)) or 0, family, text(a.get(1)) or "", text(a.get(2)) or "",
                      kind, verdict, target, u64(a.get(3)), u32(a.get(10)), u32(a.get(12)),
                      header_view(a.get(8), a.get(9)))


def header_view(network: bytes | None, transport: bytes | None) -> PacketView | None:
    """The IPv4 header and the start of the transport header a trace event carries."""
    if not network or len(network) < 20 or network[0] >> 4 != 4:
        return None
    ip_id, ttl, proto = struct.unpack_from("!H", network, 4)[0], network[8], network[9]
    src, dst = (".".join(map(str, network[i:i + 4])) for i in (12, 16))
    name = PROTOS.get(proto, "other")
    t = transport or b""
    view = PacketView(src, dst, name, ttl=ttl, ip_id=ip_id)
    if name in ("tcp", "udp") and len(t) >= 4:
        sport, dport = struct.unpack_from("!HH", t)
        flags = tcp_flags(t[13]) if name == "tcp" and len(t) >= 14 else None
        return replace(view, sport=sport, dport=dport, tcp_flags=flags)
    if name == "icmp" and len(t) >= 2:
        icmp_id = struct.unpack_from("!H", t, 4)[0] if len(t) >= 6 and t[0] in (0, 8) else None
        quoted = header_view(t[8:], t[8 + 4 * (t[8] & 0xF):]) if t[0] in (3, 11) and len(t) >= 28 else None
        return replace(view, icmp_type=t[0], icmp_code=t[1], icmp_id=icmp_id, quoted=quoted)
    return view


def tcp_flags(bits: int) -> str:
    """scapy's letters, in its order: F S R P A U E C."""
    return "".join(letter for bit, letter in enumerate("FSRPAUEC") if bits & (1 << bit))


# ---- rule handles -> iptables-save text ----------------------------------------------
def dump_rules(req: Requester) -> tuple[dict[tuple[str, str, int], RuleRef], dict[tuple[str, str], int]]:
    """Every iptables-nft (family ip) rule by (table, chain, handle), and the policy
    counter of every built-in chain by (table, chain)."""
    rules: dict[tuple[str, str, int], RuleRef] = {}
    count: dict[tuple[str, str], int] = {}
    for _, body in req.dump(nft(NFT_MSG_GETRULE), NFPROTO_IPV4, b"", "listing rules"):
        a = attrs(body)
        table, chain, handle = text(a.get(1)), text(a.get(2)), u64(a.get(3))
        count[(table, chain)] = count.get((table, chain), 0) + 1
        rules[(table, chain, handle)] = RuleRef(table, chain, count[(table, chain)], _counter(a.get(4)))
    policies: dict[tuple[str, str], int] = {}
    for _, body in req.dump(nft(NFT_MSG_GETCHAIN), NFPROTO_IPV4, b"", "listing chains"):
        a = attrs(body)
        if 8 in a:
            policies[(text(a.get(1)), text(a.get(3)))] = u64(attrs(a[8]).get(2)) or 0
    return rules, policies


def _counter(expressions: bytes | None) -> int | None:
    for _, elem in attr_list(expressions or b""):
        e = attrs(elem)
        if text(e.get(1)) == "counter":
            return u64(attrs(e.get(2, b"")).get(2))
    return None
