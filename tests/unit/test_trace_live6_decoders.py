"""The live tracer's IPv6 decoders on bytes recorded from a dual-stack lab (engine 28.5,
2001:db8:2::/64 on one bridge; a = ::2, b = ::3, the bridge ::1): Ethernet frames (NDP,
a UDP probe, its ICMPv6 port-unreachable), ip6 nftrace events (ip6tables-nft tables come
as nf_tables family ip6, 10) and conntrack v6 tuples of a DNAT; and the probe as crafted."""
from __future__ import annotations

import struct

import pytest

from netlab.kernel import nftables
from netlab.trace import capture, conntrack, nftrace
from netlab.trace.evidence import Frame, flow_label, is_ip, is_ipv4, link_address, ndp_request, neighbour_request
from netlab.trace.model import PacketView
from netlab.trace.signature import Signature

# a UDP probe a -> b:9 (key 26664, flow label 573129) and what it met, as recorded
NS = bytes.fromhex(
    "3333ff0000037e3579ba99d886dd6000000000203aff20010db8000200000000000000000002ff020000000000000000"
    "0001ff00000387008c580000000020010db800020000000000000000000301017e3579ba99d8")
NA = bytes.fromhex(
    "7e3579ba99d8ba02a492171e86dd6000000000203aff20010db800020000000000000000000320010db8000200000000"
    "000000000002880016b76000000020010db80002000000000000000000030201ba02a492171e")
UDP = bytes.fromhex(
    "ba02a492171e7e3579ba99d886dd6008bec90014114020010db800020000000000000000000220010db8000200000000"
    "000000000003682800090014f4aa6e65746c61622d7472616365")
UNREACH = bytes.fromhex(
    "7e3579ba99d8ba02a492171e86dd600d0c6900443a4020010db800020000000000000000000320010db8000200000000"
    "00000000000201047301000000006008bec90014114020010db800020000000000000000000220010db8000200000000"
    "000000000003682800090014f4aa6e65746c61622d7472616365")
NAT_JUMP = bytes.fromhex(
    "08000f000000000a08000400000000030800060049b35b8d0b0002004f55545055540000080001006e6174000c000300"
    "00000000000000071800050008000100fffffffd0b000200444f434b4552000008000c000000000106000d0003040000"
    "2c00080060011d0c0028064020010db800020000000000000000000120010db800020000000000000000000118000900"
    "5a551f90885b0c1b00000000a002ffc45ba6000008001500000000080500130000000000080012008ec8f702")
DNAT_RULE = bytes.fromhex(
    "08000f000000000a08000400000000030800060049b35b8d0b000200444f434b45520000080001006e6174000c000300"
    "000000000000000c0c0005000800010000000001")
CT_DNAT = bytes.fromhex(
    "4c0001802c0001801400030020010db80002000000000000000000011400040020010db8000200000000000000000001"
    "1c0002800500010006000000060002005a550000060003001f9000004c0002802c0001801400030020010db800020000"
    "00000000000000031400040020010db80002000000000000000000011c00028005000100060000000600020000500000"
    "060003005a55000008000c008ec8f70208000300000001a80800070000000078300004802c0001800500010001000000"
    "050002000a000000050003000000000006000400030000000600050000000000")
ERROR_RAW = bytes.fromhex(
    "08000f000000000a080004000000000308000600690fc7580f000200505245524f5554494e4700000800010072617700"
    "0c00050008000100ffffffff08000a000000000306000b00000100002c000800600d0c6900443a4020010db800020000"
    "000000000000000320010db80002000000000000000000021800090001047301000000006008bec90014114020010db8"
    "120007007e3579ba99d8ba02a492171e86dd0000")
CT_UDP = bytes.fromhex(
    "4c0001802c0001801400030020010db80002000000000000000000021400040020010db8000200000000000000000003"
    "1c0002800500010011000000060002006828000006000300000900004c0002802c0001801400030020010db800020000"
    "00000000000000031400040020010db80002000000000000000000021c00028005000100110000000600020000090000"
    "060003006828000008000c0051a1952e0800030000000188080007000000001e")
VXLAN6 = bytes.fromhex(
    "02420a0a656902420a0a656a08004500006e0007000040119b910a0a656a0a0a65699c4012b5005ae6b60c0000030010"
    "000002420a00010202420a00010386dd6005432100143a4020010db800050000000000000000000320010db800050000"
    "00000000000000028000811f5ba000016e65746c61622d7472616365"
)


def frame(data: bytes, outgoing: bool = False) -> Frame:
    return Frame("ns", "eth0", outgoing, 0, data)


def test_ndp_is_arps_counterpart():
    ns, na = frame(NS, outgoing=True), frame(NA)
    assert ndp_request(ns) == ("2001:db8:2::2", "2001:db8:2::3", 1)        # a asks for b
    assert ndp_request(na) == ("2001:db8:2::3", "2001:db8:2::2", 2)        # b answers a
    assert neighbour_request(ns) == ndp_request(ns) and link_address(na) == "ba:02:a4:92:17:1e"
    # not NDP: the probe itself, and duplicate address detection (a solicitation from ::)
    assert ndp_request(frame(UDP)) is None
    dad = NS[:22] + bytes(16) + NS[38:]
    assert ndp_request(frame(dad)) is None


def test_ipv6_frames_dissect():
    assert is_ip(frame(UDP)) and not is_ipv4(frame(UDP)) and flow_label(frame(UDP)) == 573129
    udp = capture.dissect(frame(UDP))
    assert (udp.src, udp.dst, udp.proto, udp.sport, udp.dport, udp.ttl, udp.ip_id) == (
        "2001:db8:2::2", "2001:db8:2::3", "udp", 26664, 9, 64, None)
    err = capture.dissect(frame(UNREACH))
    assert (err.proto, err.icmp_type, err.icmp_code, err.src) == ("icmp6", 1, 4, "2001:db8:2::3")
    assert err.quoted == PacketView("2001:db8:2::2", "2001:db8:2::3", "udp", sport=26664, dport=9, ttl=64)
    sig = Signature("udp", 26664, family=6)
    assert (sig.leg(udp), sig.leg(err)) == ("request", "reply")
    assert Signature("udp", 26665, family=6).leg(err) is None
    ns = capture.dissect(frame(NS))
    assert (ns.proto, ns.icmp_type, ns.ttl, sig.leg(ns)) == ("icmp6", 135, 255, None)


def test_vxlan_with_an_ipv6_inner_packet():
    view = capture.dissect(frame(VXLAN6))
    assert (view.src, view.dst, view.proto, view.icmp_type, view.icmp_id) == (
        "2001:db8:5::3", "2001:db8:5::2", "icmp6", 128, 23456)
    assert view.vni == 4096 and view.outer.src == "10.10.101.106" and view.outer.dport == 4789
    assert Signature("icmp6", 23456, family=6).leg(view) == "request"


def test_crafted_ipv6_probes():
    eth = b"\0" * 12 + b"\x86\xdd"
    echo = eth + capture.craft("icmp", "2001:db8:2::2", "2001:db8:2::3", 23456, None, None, flow_label=0x12345)
    view = capture.dissect(frame(echo))
    assert (view.proto, view.icmp_type, view.icmp_id, view.ttl) == ("icmp6", 128, 23456, 64)
    assert flow_label(frame(echo)) == 0x12345
    udp = capture.dissect(frame(eth + capture.craft("udp", "2001:db8:2::2", "2001:db8:2::3", 23456, None, 53, 7)))
    assert (udp.proto, udp.sport, udp.dport) == ("udp", 23456, 53)
    # IPv4 is as it was: the IP id is the mark
    v4 = capture.dissect(frame(b"\0" * 12 + b"\x08\x00" + capture.craft("icmp", "10.0.0.1", "10.0.0.2", 23456, 99, None)))
    assert (v4.proto, v4.icmp_type, v4.ip_id) == ("icmp", 8, 99)


def test_signature_of_an_ipv6_probe():
    sig = Signature.fresh("icmp", family=6)
    assert (sig.proto, sig.family, sig.ip_id) == ("icmp6", 6, None) and 0 < sig.flow_label <= 0xFFFFF
    assert Signature.fresh("tcp", family=6).flow_label is None        # the kernel's socket sends it
    assert Signature.fresh("icmp").proto == "icmp" and Signature.fresh("icmp").flow_label is None
    echo = PacketView("2001:db8::1", "2001:db8::2", "icmp6", icmp_type=128, icmp_id=sig.key)
    assert sig.leg(echo) == "request"
    assert sig.leg(PacketView("2001:db8::2", "2001:db8::1", "icmp6", icmp_type=129, icmp_id=sig.key)) == "reply"
    assert Signature("icmp", sig.key).leg(echo) is None         # an ICMPv4 probe's key is not in ICMPv6
    for kind in (1, 2, 3):          # unreachable, packet too big, time exceeded quote the request
        err = PacketView("2001:db8::9", "2001:db8::1", "icmp6", icmp_type=kind, quoted=echo)
        assert sig.leg(err) == "reply"


def test_ip6_trace_events():
    jump = nftrace.decode("n", 1, 10, NAT_JUMP)
    assert (jump.family, jump.table, jump.chain, jump.kind, jump.verdict, jump.target, jump.handle) == (
        10, "nat", "OUTPUT", "rule", "jump", "DOCKER", 7)
    assert (jump.packet.src, jump.packet.dst, jump.packet.sport, jump.packet.dport, jump.packet.tcp_flags) == (
        "2001:db8:2::1", "2001:db8:2::1", 23125, 8080, "S")
    assert jump.flow_label == 72972 and jump.packet.ttl == 64
    dnat = nftrace.decode("n", 2, 10, DNAT_RULE)
    assert (dnat.table, dnat.chain, dnat.verdict, dnat.handle, dnat.packet) == ("nat", "DOCKER", "accept", 12, None)
    # an ICMPv6 error: the 20 transport bytes cannot hold its quote; the flow label ties it
    err = nftrace.decode("n", 3, 10, ERROR_RAW)
    assert (err.packet.proto, err.packet.icmp_type, err.packet.icmp_code, err.packet.quoted) == ("icmp6", 1, 4, None)
    assert err.flow_label == flow_label(frame(UNREACH)) == 855145
    assert nftrace.FAMILY_NAMES[err.family] == "ip6"


def test_header_view6_reads_a_whole_quote_when_given():
    quoted = bytes.fromhex("6000000000141140") + bytes(15) + b"\x02" + bytes(15) + b"\x03"
    t = bytes([1, 4, 0, 0, 0, 0, 0, 0]) + quoted + struct.pack("!HH", 26664, 9)
    ip = bytes.fromhex("60000000003c3a40") + bytes(15) + b"\x03" + bytes(15) + b"\x02"
    view = nftrace.header_view(ip, t)
    assert (view.src, view.dst, view.proto) == ("::3", "::2", "icmp6")
    assert (view.quoted.src, view.quoted.proto, view.quoted.sport, view.quoted.dport) == ("::2", "udp", 26664, 9)


def test_conntrack_v6_tuples():
    ct = conntrack.decode("n", 1, 0x600, CT_DNAT)
    assert ct.new and ct.dnat and not ct.snat
    assert ct.orig.flow() == "[2001:db8:2::1]:23125 > [2001:db8:2::1]:8080"
    assert ct.reply.flow() == "[2001:db8:2::3]:80 > [2001:db8:2::1]:23125"
    udp = conntrack.decode("n", 2, 0x600, CT_UDP)
    assert (udp.orig.proto, udp.orig.src, udp.orig.sport, udp.orig.dport) == ("udp", "2001:db8:2::2", 26664, 9)
    assert not udp.dnat and not udp.snat


def test_conntrack_icmpv6_echo_id():
    from netlab.kernel.netlink import attr, nest
    ip = nest(1, attr(3, bytes(15) + b"\x01"), attr(4, bytes(15) + b"\x02"))
    proto = nest(2, attr(1, bytes([58])), attr(7, struct.pack("!H", 23456)), attr(8, bytes([128])))
    ct = conntrack.decode("n", 1, 0, nest(1, ip, proto) + nest(2, ip, proto) + attr(3, struct.pack("!I", 0)))
    assert (ct.orig.proto, ct.orig.src, ct.orig.dst, ct.key()) == ("icmp6", "::1", "::2", 23456)


@pytest.mark.parametrize(("proto", "count"), [("icmp6", 4), ("udp", 8), ("tcp", 8)])
def test_trace_table_rules_for_ipv6(proto, count):
    """Each way the probe can look (itself, quoted in an ICMPv6 error, VXLAN-wrapped by an
    IPv4 or an IPv6 underlay) marks packets of family ipv6 (10) on the inner header."""
    rules = nftables.trace_rules(proto, 23456, 6)
    assert len(rules) == count
    key = struct.pack("!H", 23456)
    assert all(key in r for r in rules)
    ipv6, ipv4 = nftables._cmp(bytes([10])), nftables._cmp(bytes([2]))
    # per field: itself and its ICMPv6 error in family 10; VXLAN by a family 10 and a family 2 underlay
    assert sum(ipv6 in r for r in rules) == count * 3 // 4 and sum(ipv4 in r for r in rules) == count // 4
    inner = nftables._payload(nftables.BASE_TRANSPORT, nftables.INNER6 + (4 if proto == "icmp6" else 0), 2)
    assert inner in rules[2] and inner in rules[3]
    assert len(nftables.trace_rules("tcp", 23456)) == 6                 # IPv4 as it was
    assert nftrace.rule_matches(Signature(proto, 23456, family=6)) == rules


def test_the_probes_solicitations_are_marked_too():
    """NDP is ICMPv6: bridged through br_netfilter it meets ip6tables (ARP never meets
    iptables), so the trace table marks the solicitations for the probe's next hops."""
    import socket
    target = socket.inet_pton(socket.AF_INET6, "2001:db8:2::3")
    plain, marked = nftables.trace_rules("icmp6", 23456, 6), nftables.trace_rules("icmp6", 23456, 6, (target,))
    assert marked[:-1] == plain and target in marked[-1] and nftables._cmp(bytes([135])) in marked[-1]
    assert nftrace.rule_matches(Signature("icmp6", 23456, family=6), ("2001:db8:2::3",)) == marked
