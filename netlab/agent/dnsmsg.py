"""DNS messages of the embedded resolver and the stand-in upstream: what to answer to a packet,
in bytes. Pure (dnslib for the wire format); the sockets are in dns.py.

Behaviour follows libnetwork 20.10 resolver.go and the miekg/dns server it runs on: packets
that are responses or shorter than a header are ignored; a header that miekg's default
accept function refuses, or a message that does not decode, gets FORMERR (NOTIMP for other
opcodes); A/AAAA/MX/PTR for the lab's names are answered here with TTL 600, recursion
available and not authoritative; everything else is forwarded."""
from __future__ import annotations

import random
import struct
from dataclasses import dataclass

from dnslib import AAAA, PTR, QTYPE, RCODE, RR, A, DNSHeader, DNSRecord

from .names import View, resolve_name, resolve_ptr

TTL = 600
UDP_MIN = 512                 # replies over UDP fit max(EDNS size, 512)
TCP_MAX = 65534               # dns.MaxMsgSize - 1
HEADER = struct.Struct("!6H")
OPCODE_QUERY, OPCODE_NOTIFY = 0, 4
OPT = 41


@dataclass(frozen=True)
class Decision:
    reply: bytes | None = None      # send this back now
    forward: bool = False           # send the query to the upstream servers
    outcome: str = "ignored"        # answered | forwarded | rejected | ignored (for counters)
    # the same message (but its ID) gets the same decision until the names change: false
    # for junk and for answers whose order is shuffled each time
    repeatable: bool = False
    addresses: int = 0              # answer records before truncation, in the order `order` gave


IGNORE = Decision()


def _header_verdict(data: bytes) -> Decision | None:
    """miekg/dns DefaultMsgAcceptFunc on the raw header; None when the message may go on."""
    if len(data) < HEADER.size:
        return IGNORE
    ident, flags, qd, an, ns, ar = HEADER.unpack_from(data)
    if flags & 0x8000:
        return IGNORE                                   # a response: never answered
    opcode = (flags >> 11) & 0xF
    if opcode not in (OPCODE_QUERY, OPCODE_NOTIFY):
        return Decision(_bare(ident, flags, RCODE.NOTIMP, opcode), outcome="rejected")
    if qd != 1 or an > 1 or ns > 1 or ar > 2:
        return Decision(_bare(ident, flags, RCODE.FORMERR), outcome="rejected")
    return None


def _bare(ident: int, flags: int, rcode: int, opcode: int = OPCODE_QUERY) -> bytes:
    """A header-only reply (FORMERR / NOTIMP), as miekg writes for a refused request."""
    header = DNSHeader(id=ident, qr=1, opcode=opcode, rd=(flags >> 8) & 1, rcode=rcode)
    return DNSRecord(header).pack()


def reply_to(query: DNSRecord, rcode: int = RCODE.NOERROR, ra: bool = True, aa: bool = False) -> DNSRecord:
    """miekg's SetReply: same id, opcode, RD and CD, the first question only."""
    # opcode, RD and CD kept from the query's bitmap; one int, as dnslib's flag setters are slow
    bitmap = 0x8000 | (query.header.bitmap & 0x7910) | (0x80 if ra else 0) | (0x400 if aa else 0) | rcode
    return DNSRecord(DNSHeader(id=query.header.id, bitmap=bitmap), q=query.q)


def servfail(query: DNSRecord) -> bytes:
    return reply_to(query, RCODE.SERVFAIL, ra=False).pack()


def failure(data: bytes) -> bytes:
    """SERVFAIL for a query whose forwarding failed. Never raises."""
    try:
        return servfail(DNSRecord.parse(data))
    except Exception:
        ident, flags = HEADER.unpack_from(data)[:2]
        return _bare(ident, flags, RCODE.SERVFAIL)


def max_size(query: DNSRecord, tcp: bool) -> int:
    if tcp:
        return TCP_MAX
    edns = next((rr.rclass for rr in query.ar if rr.rtype == OPT), 0)
    return max(edns, UDP_MIN)


def fit(reply: DNSRecord, limit: int, tcp: bool) -> bytes:
    """truncateResp: over UDP set TC, then drop answers from the end until the reply fits."""
    packed = reply.pack()
    if len(packed) <= limit:
        return packed
    if not tcp:
        reply.header.tc = 1
    while reply.rr and len(packed) > limit:
        reply.rr.pop()
        packed = reply.pack()
    return packed


def local_answer(view: View, query: DNSRecord, order=None) -> DNSRecord | None:
    """The reply when the lab knows the name (ServeDNS's handlers), else None (forward it)."""
    q = query.q
    name = str(q.qname)
    if q.qtype in (QTYPE.A, QTYPE.AAAA):
        ips, ipv6_miss = resolve_name(view, name, ipv6=q.qtype == QTYPE.AAAA)
        if ips is None:
            return reply_to(query) if ipv6_miss else None   # known name without IPv6: empty NOERROR
        reply = reply_to(query)
        rdata = A if q.qtype == QTYPE.A else AAAA
        for ip in (order or shuffled)(ips):
            reply.add_answer(RR(q.qname, q.qtype, rdata=rdata(ip), ttl=TTL))
        return reply
    if q.qtype == QTYPE.MX:
        # a known name has no MX: empty NOERROR, so mailers fall back to its A record
        known = resolve_name(view, name)[0] is not None or resolve_name(view, name, ipv6=True)[1]
        return reply_to(query) if known else None
    if q.qtype == QTYPE.PTR:
        host = resolve_ptr(view, name)
        if host is None:
            return None
        reply = reply_to(query)
        reply.add_answer(RR(q.qname, QTYPE.PTR, rdata=PTR(host + "."), ttl=TTL))
        return reply
    return None       # SRV answers only swarm services, which the lab has none of


def shuffled(ips: tuple[str, ...]) -> list[str]:
    """Every answer with several addresses comes in a fresh random order (Fisher-Yates)."""
    out = list(ips)
    if len(out) > 1:
        random.shuffle(out)
    return out


def decide(view: View, data: bytes, tcp: bool, can_forward: bool, ndots_set: bool = False,
           order=None) -> Decision:
    """What the embedded DNS does with one message from a client. Never raises. `order` puts a
    name's addresses in the order they are answered (default: shuffled)."""
    verdict = _header_verdict(data)
    if verdict is not None:
        return verdict
    try:
        query = DNSRecord.parse(data)
    except Exception:       # dnslib raises several kinds on junk; all mean "does not decode"
        ident, flags = HEADER.unpack_from(data)[:2]
        return Decision(_bare(ident, flags, RCODE.FORMERR), outcome="rejected")
    try:
        reply = local_answer(view, query, order)
        if reply is None:
            if not can_forward:
                return Decision(servfail(query), outcome="answered", repeatable=True)
            q = query.q
            single_label = "." not in str(q.qname).rstrip(".")
            if not (ndots_set and q.qtype in (QTYPE.A, QTYPE.AAAA) and single_label):
                return Decision(forward=True, outcome="forwarded", repeatable=True)
            reply = reply_to(query)   # ndots set by the user: let the client try its search list
        n = len(reply.rr)
        return Decision(fit(reply, max_size(query, tcp), tcp), outcome="answered", repeatable=n <= 1, addresses=n)
    except Exception:       # a name dnslib decodes but cannot encode again, and the like
        ident, flags = HEADER.unpack_from(data)[:2]
        return Decision(_bare(ident, flags, RCODE.SERVFAIL), outcome="rejected")


def upstream_verdict(reply: bytes, ident: int) -> str:
    """How the resolver takes an upstream's reply: `use` it, try the `next` server, or
    `ignore` it (not the reply to this query)."""
    if len(reply) < HEADER.size or HEADER.unpack_from(reply)[0] != ident:
        return "ignore"
    try:
        header = DNSRecord.parse(reply).header
    except Exception:
        return "next"
    if header.rcode == RCODE.NOERROR or (header.rcode == RCODE.NXDOMAIN and header.aa):
        return "use"          # an authoritative NXDOMAIN ends the search (RFC 8020)
    return "next"


def standin_answer(data: bytes) -> bytes | None:
    """The stand-in upstream: every name is unknown, authoritatively and at once."""
    verdict = _header_verdict(data)
    if verdict is not None:
        return verdict.reply
    try:
        query = DNSRecord.parse(data)
        return reply_to(query, RCODE.NXDOMAIN, aa=True).pack()
    except Exception:
        ident, flags = HEADER.unpack_from(data)[:2]
        return _bare(ident, flags, RCODE.FORMERR)


def query_id(data: bytes) -> int:
    return HEADER.unpack_from(data)[0]
