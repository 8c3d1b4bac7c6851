"""The tracefs decoder on lines recorded from Linux 6.18 (three namespaces A - B - C, B
routing; each case one UDP datagram from A), and the matching of drops to a probe."""
from __future__ import annotations

from test_trace_live6_correlate import WIRING

from netlab.kernel import tracefs
from netlab.trace import kdrops
from netlab.trace.kdrops import Crossing, DeviceEvent, KernelDrop, RouteLookup, expected_reason, match, parse
from netlab.trace.model import Outcome

# iptables -I FORWARD -d 203.0.113.2 -p udp --dport 7001 -j DROP in B
NETFILTER = """\
         python3-25821   [000] ..... 26061.304062: fib_table_lookup: table 254 oif 0 iif 1 proto 17 0.0.0.0/34629 -> 203.0.113.2/7001 tos 0 scope 0 flags 0 ==> dev a0 gw 198.51.100.2/:: err 0
         python3-25821   [000] b.... 26061.304095: net_dev_queue: dev=a0 skbaddr=00000000d4d04c42 len=43
         python3-25821   [000] ..s1. 26061.304125: netif_receive_skb: dev=b0 skbaddr=00000000d4d04c42 len=29
         python3-25821   [000] ..s1. 26061.304129: fib_table_lookup: table 254 oif 0 iif 2 proto 0 198.51.100.1/0 -> 203.0.113.2/0 tos 0 scope 0 flags 0 ==> dev b1 gw 0.0.0.0/:: err 0
         python3-25821   [000] ..s1. 26061.304135: kfree_skb: skbaddr=00000000d4d04c42 rx_sk=0000000000000000 protocol=2048 location=nft_do_chain+0x46f/0x690 reason: NETFILTER_DROP
    kworker/u8:3-19785   [001] ..s1. 26061.564133: kfree_skb: skbaddr=000000008e0da651 rx_sk=0000000000000000 protocol=34525 location=ip6_rcv_core+0x36f/0x510 reason: IPV6DISABLED
""".splitlines()
# B has no route to 192.0.2.9
NO_ROUTE = """\
          python-1000    [000] ..s1. 26069.802430: net_dev_queue: dev=a0 skbaddr=00000000b32e02b4 len=43
          python-1000    [000] ..s1. 26069.802436: netif_receive_skb: dev=b0 skbaddr=00000000b32e02b4 len=29
          python-1000    [000] ..s1. 26069.802440: fib_table_lookup: table 254 oif 0 iif 2 proto 0 198.51.100.1/0 -> 192.0.2.9/0 tos 0 scope 0 flags 0 ==> dev - gw 0.0.0.0/:: err -11
          python-1000    [000] ..s1. 26069.802455: kfree_skb: skbaddr=00000000b32e02b4 rx_sk=0000000000000000 protocol=2048 location=ip_error+0x94/0x220 reason: IP_INNOROUTES
""".splitlines()
# a UDP port nobody listens on in B; then an unrelated packet reusing the buffer's address
NO_SOCKET = """\
          python-1000    [000] ..s1. 26071.097679: net_dev_queue: dev=a0 skbaddr=00000000a20abad8 len=43
          python-1000    [000] ..s1. 26071.097685: netif_receive_skb: dev=b0 skbaddr=00000000a20abad8 len=29
          python-1000    [000] ..s1. 26071.097714: kfree_skb: skbaddr=00000000a20abad8 rx_sk=0000000000000000 protocol=2048 location=__udp4_lib_rcv+0x4bc/0xd00 reason: NO_SOCKET
          python-1000    [000] ..s1. 26071.302122: kfree_skb: skbaddr=00000000a20abad8 rx_sk=0000000000000000 protocol=2048 location=nft_do_chain+0x46f/0x690 reason: NETFILTER_DROP
""".splitlines()
# B's neighbour 203.0.113.77 never answers: freed after three ARP probes
NEIGH = """\
          python-1000    [000] ..s1. 26090.134204: net_dev_queue: dev=a0 skbaddr=00000000df39a47a len=43
          python-1000    [000] ..s1. 26090.134217: netif_receive_skb: dev=b0 skbaddr=00000000df39a47a len=29
          python-1000    [000] ..s1. 26093.212137: kfree_skb: skbaddr=00000000df39a47a rx_sk=0000000000000000 protocol=2048 location=neigh_invalidate+0x7e/0x140 reason: NEIGH_FAILED
""".splitlines()
OTHERS = [
    "  python-1 [000] ..s1. 26073.940947: kfree_skb: skbaddr=0000000005361126 rx_sk=0000000000000000 "
    "protocol=2048 location=ip_error+0x94/0x220 reason: IP_INADDRERRORS",
    "  python-1 [000] ..s1. 26075.041503: kfree_skb: skbaddr=00000000b8ff58e6 rx_sk=0000000000000000 "
    "protocol=2048 location=ip_forward+0x2c0/0x780 reason: IP_INHDR",
    "  python-1 [000] ..s1. 26085.988596: kfree_skb: skbaddr=00000000cbb25de3 rx_sk=0000000000000000 "
    "protocol=2048 location=ip_rcv_finish_core+0x260/0x470 reason: IP_RPFILTER",
    "  python-1 [000] ..s1. 26087.283260: kfree_skb: skbaddr=00000000cedb4c6c rx_sk=0000000000000000 "
    "protocol=2048 location=ip_rcv_core+0x22c/0x350 reason: OTHERHOST",
    "  python-1 [000] ..s1. 26072.450287: kfree_skb: skbaddr=000000007282fb6d rx_sk=0000000000000000 "
    "protocol=2048 location=tcp_v4_rcv+0x99/0x1400 reason: NO_SOCKET",
]
FIB6 = ("  ping-7 [001] ..... 100.5: fib6_table_lookup: table 254 oif 0 iif 1 proto 58 2001:db8::2/0 -> "
        "2001:db8:1::9/0 flowlabel 0x0 tos 0 scope 0 flags 0 ==> dev eth0 gw 2001:db8::1 err 0")
UDP_A_TO_B = [Crossing(ifname="a0", outgoing=True, ip_length=29, leg="request"),
              Crossing(ifname="b0", outgoing=False, ip_length=29, leg="request")]


def test_every_recorded_line_decodes():
    records = parse(NETFILTER)
    assert [type(r) for r in records] == [RouteLookup, DeviceEvent, DeviceEvent, RouteLookup, KernelDrop, KernelDrop]
    drop = records[4]
    assert (drop.reason, drop.location, drop.protocol, drop.skb) == ("NETFILTER_DROP", "nft_do_chain", 2048,
                                                                     "00000000d4d04c42")
    assert records[1] == DeviceEvent(time=26061.304095, kind="xmit", dev="a0", skb="00000000d4d04c42", length=43)
    assert [parse([line])[0].reason for line in OTHERS] == ["IP_INADDRERRORS", "IP_INHDR", "IP_RPFILTER",
                                                          "OTHERHOST", "NO_SOCKET"]


def test_route_lookups_name_table_device_and_gateway():
    first, _, _, routed, _, _ = parse(NETFILTER)
    assert first.describe() == "table 254: 0.0.0.0 -> 203.0.113.2: dev a0 via 198.51.100.2"
    assert routed.describe() == "table 254: 198.51.100.1 -> 203.0.113.2: dev b1"
    missing = parse(NO_ROUTE)[2]
    assert not missing.found and missing.describe() == "table 254: 198.51.100.1 -> 192.0.2.9: no route (err -11)"
    six = parse([FIB6])[0]
    assert (six.table, six.dev, six.gateway, six.src, six.dst) == (254, "eth0", "2001:db8::1", "2001:db8::2",
                                                                     "2001:db8:1::9")


def test_other_lines_are_skipped():
    assert parse(["# tracer: nop", "", "  cpu-1 [000] ..... 1.0: sched_switch: prev=a next=b",
                  "  x-1 [000] ..... 1.0: kfree_skb: garbage"]) == []


def test_a_drop_is_matched_through_the_devices_the_probe_crossed():
    drops = match(parse(NETFILTER), UDP_A_TO_B, 4, 26061.0, 26062.0)
    assert [(d.reason, d.ifname, d.leg) for d in drops] == [("NETFILTER_DROP", "b0", "request")]
    assert [d.reason for d in match(parse(NO_ROUTE), UDP_A_TO_B, 4, 0, 1e9)] == ["IP_INNOROUTES"]


def test_a_drop_outside_the_window_or_of_another_length_or_family_is_not_the_probes():
    assert match(parse(NETFILTER), UDP_A_TO_B, 4, 26061.4, 26062.0) == []
    longer = [Crossing(ifname=c.ifname, outgoing=c.outgoing, ip_length=30, leg=c.leg) for c in UDP_A_TO_B]
    assert match(parse(NETFILTER), longer, 4, 0, 1e9) == []
    assert match(parse(NETFILTER), UDP_A_TO_B, 6, 0, 1e9) == []


def test_a_reused_buffer_address_is_not_the_probe_again():
    """The second free of a20abad8 is another packet's: the first freed the probe's."""
    assert [d.reason for d in match(parse(NO_SOCKET), UDP_A_TO_B, 4, 0, 1e9)] == ["NO_SOCKET"]


def test_a_neighbour_failure_comes_seconds_later_and_still_matches():
    assert [d.reason for d in match(parse(NEIGH), UDP_A_TO_B, 4, 0, 1e9)] == ["NEIGH_FAILED"]
    late = parse(NETFILTER[1:3]) + [KernelDrop(time=26062.5, skb="00000000d4d04c42", protocol=2048,
                                               location="nft_do_chain", reason="NETFILTER_DROP")]
    assert match(late, UDP_A_TO_B, 4, 0, 1e9) == [], "a netfilter drop long after the device is not this packet"


def test_expected_reasons_in_the_kernels_words():
    def out(status, reason=None, netns="b", reply=None):
        return Outcome(status=status, reason=reason, netns=netns, reply=reply)
    assert expected_reason(out("dropped", "rule"), "a") == "NETFILTER_DROP"
    assert expected_reason(out("dropped", "policy"), "a") == "NETFILTER_DROP"
    assert expected_reason(out("dropped", "no-route"), "a") == "IP_INNOROUTES"
    assert expected_reason(out("no-path", "no-route", netns="a"), "a") is None
    assert expected_reason(out("dropped", "no-neighbour"), "a") == "NEIGH_FAILED"
    assert expected_reason(out("dropped", "forwarding-disabled"), "a") == "IP_INADDRERRORS"
    assert expected_reason(out("delivered", reply="port-unreachable"), "a") == "NO_SOCKET"
    assert expected_reason(out("delivered", reply="RA"), "a") == "NO_SOCKET"
    assert expected_reason(out("delivered", reply="echo-reply"), "a") is None
    assert expected_reason(out("lost", "unknown"), "a") is None


def test_instance_names_carry_their_owner_and_only_dead_owners_are_reaped():
    assert tracefs.owner_pid("netlab-4242-3") == 4242
    assert tracefs.owner_pid("netlab-x-3") is None and tracefs.owner_pid("someone-else") is None
    names = ["netlab-11-1", "netlab-12-1", "other", "netlab-13-2"]
    assert tracefs.stale(names, alive=lambda pid: pid == 12) == ["netlab-11-1", "netlab-13-2"]


# ---- with the live tracer's evidence (IPv6 frames recorded in test_trace_live6_decoders) ----
def _ipv6_evidence(kernel: list[str], missing: str | None = None):
    from test_trace_live6_correlate import PROBE, SIG, UDP, seen

    from netlab.trace.evidence import Evidence
    return Evidence(probe=PROBE, signature=SIG, frames=[seen("a", True, 1, UDP), seen("b", False, 2, UDP)],
                    kernel=kernel, kernel_missing=missing)


def _lines(length: int, reason: str, protocol: int = 34525) -> list[str]:
    return ["  p-1 [000] ...1. 10.000000: tracing_mark_write: netlab-sent",
            f"  p-1 [000] ..s1. 10.100000: net_dev_queue: dev=eth0 skbaddr=00000000000000aa len={length + 14}",
            f"  p-1 [000] ..s1. 10.100010: netif_receive_skb: dev=eth0 skbaddr=00000000000000aa len={length}",
            f"  p-1 [000] ..s1. 10.100020: kfree_skb: skbaddr=00000000000000aa rx_sk=0000000000000000 "
            f"protocol={protocol} location=__udp6_lib_rcv+0x1/0x2 reason: {reason}",
            "  p-1 [000] ...1. 11.000000: tracing_mark_write: netlab-done"]


def test_the_probes_ipv6_drop_is_found_from_its_frames():
    from netlab.trace.correlate import _kernel_reason
    ev = _ipv6_evidence([])
    (first, second) = kdrops.crossings(ev)
    assert (first.netns, first.outgoing, second.netns, second.outgoing) == ("a", True, "b", False)
    assert first.ip_length == second.ip_length > 40
    delivered = Outcome(status="delivered", netns="b", reply="port-unreachable")
    ev.kernel = _lines(first.ip_length, "NO_SOCKET")
    notes: list[str] = []
    assert _kernel_reason(ev, WIRING, [], delivered, notes).kernel_reason == "NO_SOCKET"
    assert notes == ["the kernel dropped it in __udp6_lib_rcv (NO_SOCKET) after eth0"]
    ev.kernel = _lines(first.ip_length, "NO_SOCKET", protocol=2048)      # an IPv4 packet's: not the probe's
    assert _kernel_reason(ev, WIRING, [], delivered, []).kernel_reason is None


def test_without_tracefs_the_trace_says_so_in_one_note():
    from netlab.trace.correlate import _kernel_reason
    notes: list[str] = []
    out = Outcome(status="dropped", reason="rule", netns="n")
    assert _kernel_reason(_ipv6_evidence([], "tracefs: the kernel has no tracefs"), WIRING, [], out, notes) == out
    assert notes == ["the kernel's drop reasons were not recorded: tracefs: the kernel has no tracefs"]


def test_reason_numbers_and_the_drop_filter_come_from_the_format_file():
    fmt = ('print fmt: "skbaddr=%p reason: %s", __print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, '
           '{ 3, "NO_SOCKET" }, { 105, "QUEUE_PURGE" }, { 130, "MAX" })')
    assert kdrops.reason_numbers(fmt) == {"NOT_SPECIFIED": 2, "NO_SOCKET": 3, "QUEUE_PURGE": 105, "MAX": 130}
    assert kdrops.drop_filter(fmt, 6) == "protocol == 34525 && reason != 2 && reason != 105"
    assert kdrops.drop_filter(fmt, 4).startswith("protocol == 2048 && ")


def test_the_window_is_the_tracers_own_markers():
    def lines(*times: float) -> list[str]:
        return [f"  p-1 [000] ...1. {t:.6f}: tracing_mark_write: {m}" for t, m in zip(times, (kdrops.SENT, kdrops.DONE))]
    assert kdrops.window(parse(lines(5.0, 6.5))) == (5.0, 6.5)
    assert kdrops.window(parse(lines(5.0))) == (5.0, float("inf"))
    start, end = kdrops.window(parse(NETFILTER))
    assert start > end, "without the tracer's markers nothing is the probe's"


def test_an_echo_reply_freed_after_the_raw_socket_had_it_is_the_replys():
    """a -> b over a bridge (host veths va, vb), echo request and reply of one length on two
    `eth0`s: the reply's buffer, seen on vb's receive, is the reply's; the kernel frees it
    in ping_rcv (no ping socket: the probe's raw socket had its copy)."""
    c = [Crossing(ifname="eth0", outgoing=True, ip_length=84, leg="request", netns="a"),
         Crossing(ifname="va", outgoing=False, ip_length=84, leg="request", netns="n"),
         Crossing(ifname="vb", outgoing=True, ip_length=84, leg="request", netns="n"),
         Crossing(ifname="eth0", outgoing=False, ip_length=84, leg="request", netns="b"),
         Crossing(ifname="eth0", outgoing=True, ip_length=84, leg="reply", netns="b"),
         Crossing(ifname="vb", outgoing=False, ip_length=84, leg="reply", netns="n"),
         Crossing(ifname="va", outgoing=True, ip_length=84, leg="reply", netns="n"),
         Crossing(ifname="eth0", outgoing=False, ip_length=84, leg="reply", netns="a")]
    chain = [("net_dev_queue", "eth0", 98), ("netif_receive_skb", "va", 84), ("net_dev_queue", "vb", 98),
             ("netif_receive_skb", "eth0", 84)]
    back = [("net_dev_queue", "eth0", 98), ("netif_receive_skb", "vb", 84), ("net_dev_queue", "va", 98),
            ("netif_receive_skb", "eth0", 84)]
    lines = [f"  p-1 [000] ..s1. 1.{i:06d}: {event}: dev={dev} skbaddr={skb} len={length}"
             for i, (skb, (event, dev, length)) in enumerate([("01", e) for e in chain] + [("02", e) for e in back])]
    lines.append("  p-1 [000] ..s1. 1.000100: kfree_skb: skbaddr=02 rx_sk=0 protocol=2048 "
                 "location=ping_rcv+0xb3/0xe0 reason: NO_SOCKET")
    (drop,) = match(parse(lines), c, 4, 0, 2)
    assert (drop.leg, drop.netns, drop.ifname, drop.location) == ("reply", ("a",), "eth0", "ping_rcv")


def test_the_cli_names_the_kernels_reason_beside_the_rule():
    from netlab.trace.model import PacketView, Trace
    from netlab.trace.report import _outcome
    out = Outcome(status="dropped", reason="isolation", netns="n", detail="n: dropped by filter -A X -j DROP",
                  kernel_reason="NETFILTER_DROP")
    t = Trace(lab="l", src="a", dst="b", proto="icmp", port=None, probe=PacketView("1.1.1.1", "2.2.2.2", "icmp"),
              outcome=out)
    assert _outcome(t) == "dropped (isolation): n: dropped by filter -A X -j DROP [kernel: NETFILTER_DROP]"


def test_a_routed_hop_is_tied_to_its_lookup_by_the_namespaces_own_ifindex():
    from netlab.trace.model import Hop, PacketView
    pkt = PacketView("192.168.0.2", "203.0.113.10", "icmp")
    hops = [Hop(netns="a", ifname="eth0", direction="out", packet=pkt, via="send"),
            Hop(netns="n", ifname="va", direction="in", packet=pkt, via="veth"),
            Hop(netns="n", ifname="eth0", direction="out", packet=pkt, via="route")]
    line = ("  p-1 [000] ..s1. 1.5: fib_table_lookup: table 254 oif 0 iif {iif} proto 0 192.168.0.2/0 -> "
            "203.0.113.10/0 tos 0 scope 0 flags 0 ==> dev eth0 gw 10.10.101.254/:: err 0")
    # `eth0` has ifindex 2 in a and in n: only n's input interface, va (5), ties the lookup to n
    ifnames = {"a": {2: "eth0", 5: "other"}, "n": {2: "eth0", 5: "va"}}
    (lookup,) = parse([line.format(iif=5)])
    assert kdrops.routed([lookup], hops, ifnames) == [(hops[2], lookup)]
    assert kdrops.routed(parse([line.format(iif=2)]), hops, ifnames) == []
    assert kdrops.route_text(lookup, "0.0.0.0/0") == "table 254 (main): 0.0.0.0/0 via 10.10.101.254 dev eth0"
