"""The walk's model of conntrack and NAT: a connection's tuples, the rewrites DNAT, SNAT and
MASQUERADE make and their undoing on the reply; and how a netfilter drop is worded (the walk
and the correlation of a live trace say it the same way). Pure."""
from __future__ import annotations

from dataclasses import dataclass, replace

from . import explain
from .iptables import Decision
from .model import PacketView


# ---- conntrack -------------------------------------------------------------------------
@dataclass
class Conn:
    """A conntrack entry: the tuple as first seen, and the one replies will carry."""

    orig: tuple
    reply: tuple


ERRORS = {"icmp": (3, 11), "icmp6": (1, 2, 3)}     # the ICMP types that quote a packet


def flow_key(pkt: PacketView) -> tuple:
    if pkt.proto in ("tcp", "udp"):
        return (pkt.proto, pkt.src, pkt.sport, pkt.dst, pkt.dport)
    return (pkt.proto, pkt.src, pkt.icmp_id, pkt.dst, pkt.icmp_id)


def reverse(key: tuple) -> tuple:
    return (key[0], key[3], key[4], key[1], key[2])


def error_quote(pkt: PacketView) -> PacketView | None:
    """The header an ICMP or ICMPv6 error (unreachable, time exceeded) quotes; None for any
    other packet."""
    return pkt.quoted if pkt.icmp_type in ERRORS.get(pkt.proto, ()) else None


def is_error(pkt: PacketView) -> bool:
    return error_quote(pkt) is not None


# ---- NAT helpers ---------------------------------------------------------------------
def _split(target: str) -> tuple[str, int | None]:
    """`addr[:port[-port]]`, `[v6addr]:port` or a bare IPv6 address -> (addr, first port)."""
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port = rest.removeprefix(":")
    elif target.count(":") > 1:
        host, port = target, ""
    else:
        host, _, port = target.partition(":")
    port = port.split("-")[0]
    return host, int(port) if port else None


def dnat(pkt: PacketView, target: str) -> PacketView:
    host, port = _split(target)
    return replace(pkt, dst=host or pkt.dst, dport=port if port is not None and pkt.dport is not None else pkt.dport)


def snat(pkt: PacketView, source: str) -> PacketView:
    host, port = _split(source)
    return replace(pkt, src=host or pkt.src, sport=port if port is not None and pkt.sport is not None else pkt.sport)


def restore_destination(pkt: PacketView, conn: Conn) -> PacketView:
    """A reply's destination back to the original source (and an ICMP error's quote)."""
    _, src, sport, _, _ = conn.orig
    pkt = replace(pkt, dst=src, dport=sport if pkt.dport is not None else pkt.dport)
    quoted = error_quote(pkt)
    if quoted is not None:
        pkt = replace(pkt, quoted=replace(quoted, src=src, sport=sport if quoted.sport is not None else None))
    return pkt


def restore_source(pkt: PacketView, conn: Conn) -> PacketView:
    """A reply's source back to the address the request was sent to."""
    _, _, _, dst, dport = conn.orig
    pkt = replace(pkt, src=dst, sport=dport if pkt.sport is not None else pkt.sport)
    quoted = error_quote(pkt)
    if quoted is not None:
        pkt = replace(pkt, quoted=replace(quoted, dst=dst, dport=dport if quoted.dport is not None else None))
    return pkt


def flow_text(key: tuple) -> str:
    proto, src, sport, dst, dport = key
    ports = (sport, dport) if proto in ("tcp", "udp") else (None, None)
    return PacketView(src, dst, proto, sport=ports[0], dport=ports[1]).flow()


# ---- outcome wording -------------------------------------------------------------------
def drop_reason(d: Decision) -> str:
    return explain.drop_reason(d.table, d.chain, d.kind, d.rule.text if d.rule else None)


def drop_detail(d: Decision, owner: str) -> str:
    return explain.drop_detail(d.table, d.chain, d.kind, d.rule.text if d.rule else None, owner)
