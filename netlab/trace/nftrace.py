"""The netfilter path of the probe: the tracer's nf_tables table in each namespace
(kernel/nftables.py writes and removes it: it sets `meta nftrace` on the probe's packets
only) and the NFT_MSG_TRACE events the kernel then sends for every rule, user-chain end and
policy those packets meet, decoded here into TraceEvents (tracing.md §2.2, §6.4)."""
from __future__ import annotations

import os
import socket
import struct
from dataclasses import replace

from ..errors import KernelError
from ..kernel import nft_list, nftables
from ..kernel.netlink import attrs, s32, text, u32, u64
from ..kernel.nfnetlink import Requester
from ..kernel.nftables import NFNLGRP_NFTRACE, NFT_MSG_TRACE, list_tables, nft  # noqa: F401 (re-exported)
from .evidence import FAMILY_NAMES, TABLE_PREFIX, RuleRef, TraceEvent, rule_text  # noqa: F401 (re-exported)
from .model import PacketView
from .nft_model import NftRuleset, NftTextError, parse
from .signature import Signature

TRACE_KINDS = {1: "policy", 2: "return", 3: "rule"}
VERDICTS = {0: "drop", 1: "accept", 2: "stolen", 3: "queue", 4: "repeat", 5: "stop",
            -1: "continue", -2: "break", -3: "jump", -4: "goto", -5: "return"}
PROTOS = {1: "icmp", 6: "tcp", 17: "udp"}
PROTOS6 = {58: "icmp6", 6: "tcp", 17: "udp"}
ICMP6_ECHO, ICMP6_ERRORS = (128, 129), (1, 2, 3)


def table_name() -> str:
    return f"{TABLE_PREFIX}{os.getpid()}"


def rule_matches(sig: Signature, solicited: tuple[str, ...] = ()) -> list[bytes]:
    """The trace table's rule bodies for the probe `sig` (kernel/nftables.trace_rules). The
    table is of family inet: its chains see IPv4 and IPv6 packets alike, and each rule
    names the family it marks. `solicited`: IPv6 next hops whose NDP solicitations are
    traced too."""
    return nftables.trace_rules(sig.proto, sig.key, sig.family, _packed(solicited))


def install(req: Requester, sig: Signature, name: str, solicited: tuple[str, ...] = ()) -> None:
    nftables.install_trace(req, name, sig.proto, sig.key, sig.family, _packed(solicited))


def _packed(addresses: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(socket.inet_pton(socket.AF_INET6, a) for a in addresses)


def remove(req: Requester, name: str) -> None:
    nftables.remove_table(req, name)


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
    return TraceEvent(netns=ns, order=order, id=u32(a.get(6)) or 0, family=family, table=text(a.get(1)) or "",
                      chain=text(a.get(2)) or "", kind=kind, verdict=verdict, target=target,
                      handle=u64(a.get(3)), iif=u32(a.get(10)), oif=u32(a.get(12)),
                      packet=header_view(a.get(8), a.get(9)), flow_label=flow_label(a.get(8)))


def flow_label(network: bytes | None) -> int | None:
    """An IPv6 header's flow label (None for IPv4)."""
    if not network or len(network) < 4 or network[0] >> 4 != 6:
        return None
    return struct.unpack_from("!I", network)[0] & 0xFFFFF


def header_view(network: bytes | None, transport: bytes | None) -> PacketView | None:
    """The IP header (IPv4 or IPv6) and the start of the transport header a trace event
    carries (the kernel sends 40 bytes of the one, 20 of the other)."""
    if network and len(network) >= 40 and network[0] >> 4 == 6:
        return header_view6(network, transport)
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


def header_view6(network: bytes, transport: bytes | None) -> PacketView:
    """An IPv6 header without extension headers (the probe has none; nor have ICMPv6 errors
    and NDP). The 20 transport bytes cannot hold an ICMPv6 error's quoted header (40 bytes
    and more): `quoted` stays None and correlate ties the error to its captured copies."""
    hop_limit, next_header = network[7], network[6]
    src = socket.inet_ntop(socket.AF_INET6, network[8:24])
    dst = socket.inet_ntop(socket.AF_INET6, network[24:40])
    name = PROTOS6.get(next_header, "other")
    t = transport or b""
    view = PacketView(src, dst, name, ttl=hop_limit)
    if name in ("tcp", "udp") and len(t) >= 4:
        sport, dport = struct.unpack_from("!HH", t)
        flags = tcp_flags(t[13]) if name == "tcp" and len(t) >= 14 else None
        return replace(view, sport=sport, dport=dport, tcp_flags=flags)
    if name == "icmp6" and len(t) >= 2:
        icmp_id = struct.unpack_from("!H", t, 4)[0] if len(t) >= 6 and t[0] in ICMP6_ECHO else None
        quoted = header_view6(t[8:48], t[48:]) if t[0] in ICMP6_ERRORS and len(t) >= 48 else None
        return replace(view, icmp_type=t[0], icmp_code=t[1], icmp_id=icmp_id, quoted=quoted)
    return view


def tcp_flags(bits: int) -> str:
    """scapy's letters, in its order: F S R P A U E C."""
    return "".join(letter for bit, letter in enumerate("FSRPAUEC") if bits & (1 << bit))


# ---- rule handles -> iptables-save text ----------------------------------------------
def dump_rules(req: Requester, family: int = 4) -> tuple[dict[tuple[str, str, int], RuleRef],
                                                         dict[tuple[str, str], int]]:
    """Every iptables-nft rule of `family` (4: nf_tables family ip; 6: ip6, ip6tables-nft's)
    by (table, chain, handle), and the policy counter of every built-in chain by (table,
    chain). The two families' tables share names (filter, nat, docker-bridges): a handle
    is looked up in the dump of the event's family."""
    counts, policies = nftables.dump_rules(req, family)
    rules = {(table, chain, handle): RuleRef(table, chain, position, packets)
             for (table, chain, handle), (position, packets) in counts.items()}
    return rules, policies


# ---- native nftables tables: handles -> rule text ----------------------------------------
def native_rules(ns: str, planned: NftRuleset) -> NftRuleset:
    """The native tables the plan puts in `ns`, as the kernel holds them now (`nft -a list
    table`); a trace event's handle finds its rule there through the rule dump's positions."""
    tables = []
    for t in planned.tables:
        text = nft_list.list_table(ns, t.family, t.name)
        try:
            tables += parse(text).tables
        except NftTextError as e:
            raise KernelError(f"{ns}: nft -a list table {t.family} {t.name}: {e}") from None
    return NftRuleset(tuple(tables))
