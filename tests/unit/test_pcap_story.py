"""The pcapng of a trace without a lab: the comment each packet carries (pcap_story.py) and
the file's blocks (capture.pcapng), read back by scapy's pcapng reader."""
from __future__ import annotations

import json
import struct
from dataclasses import replace

from netlab.trace import capture
from netlab.trace.evidence import Evidence, Frame
from netlab.trace.model import Hop as H
from netlab.trace.model import NatRewrite, NeighbourLookup, Outcome, PacketView, RuleHit, Trace
from netlab.trace.pcap_story import hop_notes, pcap_frames
from netlab.trace.signature import Signature
from netlab.trace.target import Probe

ECHO = PacketView("172.17.0.2", "172.18.0.2", "icmp", icmp_type=8, icmp_id=4242, ttl=64)
REPLY = PacketView("172.18.0.2", "172.17.0.2", "icmp", icmp_type=0, icmp_id=4242, ttl=64)
DROP = "-A DOCKER-ISOLATION-STAGE-2 -o br-b -j DROP"


def _trace(dropped: bool) -> Trace:
    hops = [H(netns="l-a", ifname="eth0", direction="out", packet=ECHO, via="send"),
            H(netns="l-node1", ifname="veth-a", direction="in", packet=ECHO, via="veth"),
            H(netns="l-node1", ifname="docker0", direction="in", packet=ECHO, via="up", bridge="docker0")]
    if not dropped:
        hops += [H(netns="l-node1", ifname="br-b", direction="out", packet=ECHO, via="route"),
                 H(netns="l-b", ifname="eth0", direction="in", packet=ECHO, via="veth"),
                 H(netns="l-b", ifname="eth0", direction="out", packet=REPLY, via="send", leg="reply"),
                 H(netns="l-node1", ifname="br-b", direction="in", packet=REPLY, via="veth", leg="reply")]
    rules = [RuleHit(netns="l-node1", table="filter", chain="FORWARD", kind="rule", verdict="jump",
                     rule="-A FORWARD -j DOCKER-ISOLATION-STAGE-1", target="DOCKER-ISOLATION-STAGE-1"),
             RuleHit(netns="l-node1", table="nat", chain="POSTROUTING", kind="policy", verdict="accept"),
             RuleHit(netns="l-node1", table="filter", chain="FORWARD", kind="policy", verdict="accept",
                     leg="reply")]
    if dropped:
        rules.append(RuleHit(netns="l-node1", table="filter", chain="DOCKER-ISOLATION-STAGE-2", kind="rule",
                             verdict="drop", rule=DROP))
        outcome = Outcome(status="dropped", reason="isolation", netns="l-node1", table="filter",
                          chain="DOCKER-ISOLATION-STAGE-2", rule=DROP, detail="isolated networks", owner="node1",
                          kernel_reason="NETFILTER_DROP")
    else:
        outcome = Outcome(status="delivered", netns="l-b", reply="echo-reply", reply_status="lost")
    nat = [NatRewrite(netns="l-node1", kind="MASQUERADE", before="172.17.0.2 > 172.18.0.2",
                      after="172.18.0.1 > 172.18.0.2", rule="-A POSTROUTING -j MASQUERADE")]
    return Trace(lab="l", src="a", dst="b", proto="icmp", port=None, probe=ECHO, hops=tuple(hops), rules=tuple(rules),
                 nat=tuple(nat), outcome=outcome)


def test_hops_numbered_across_the_trace_with_rules_where_the_packet_leaves():
    notes = hop_notes(_trace(dropped=False))
    request = [v for k, v in notes.items() if k[0] == "request"]
    assert [n["hop"] for n in request] == [1, 2, 3, 4, 5]
    # the reply's numbers go on from the request's, each with the report's word beside Hop.via
    assert [(n["hop"], n["via"], n["how"]) for n in notes.values() if n["leg"] == "reply"] == \
        [(6, "send", "sent"), (7, "veth", "veth")]
    assert [n["how"] for n in request] == ["sent", "veth", "bridged", "routed", "veth"]
    # node1's rules and rewrite ride on hop 4, where the request leaves node1
    assert [n["hop"] for n in request if "rules" in n] == [4]
    four = notes[("request", "l-node1", "br-b", "out")]
    assert four["rules"][0] == {"netns": "l-node1", "table": "filter", "chain": "FORWARD", "verdict": "jump",
                                "rule": "-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
                                "target": "DOCKER-ISOLATION-STAGE-1"}
    assert four["rules"][1]["rule"] == "policy ACCEPT"
    assert four["nat"] == [{"netns": "l-node1", "kind": "MASQUERADE", "before": "172.17.0.2 > 172.18.0.2",
                            "after": "172.18.0.1 > 172.18.0.2", "rule": "-A POSTROUTING -j MASQUERADE"}]
    assert "drop" not in four
    # the reply never came back: its last hop says so
    assert notes[("reply", "l-node1", "br-b", "in")]["drop"] == {"status": "lost"}
    assert notes[("reply", "l-node1", "br-b", "in")]["rules"][0]["chain"] == "FORWARD"


def test_the_last_hop_of_a_dropped_request_names_the_drop():
    notes = hop_notes(_trace(dropped=True))
    last = notes[("request", "l-node1", "docker0", "in")]
    assert last["hop"] == 3
    assert last["drop"] == {"status": "dropped", "reason": "isolation", "netns": "l-node1", "table": "filter",
                            "chain": "DOCKER-ISOLATION-STAGE-2", "rule": DROP, "detail": "isolated networks",
                            "source": "observed", "kernel_reason": "NETFILTER_DROP"}
    assert last["rules"][-1] == {"netns": "l-node1", "table": "filter", "chain": "DOCKER-ISOLATION-STAGE-2",
                                 "verdict": "drop", "rule": DROP}
    assert all("drop" not in n for k, n in notes.items() if n is not last)


def test_a_delivered_request_the_kernel_freed_names_its_reason():
    t = _trace(dropped=False)
    t = replace(t, outcome=replace(t.outcome, reply="port-unreachable", reply_status="delivered",
                                   kernel_reason="NO_SOCKET"))
    notes = hop_notes(t)
    assert notes[("request", "l-b", "eth0", "in")]["drop"] == {"status": "delivered", "netns": "l-b",
                                                               "source": "observed", "kernel_reason": "NO_SOCKET"}
    assert sum("drop" in n for n in notes.values()) == 1


def _frame(ns: str, ifname: str, outgoing: bool, t: int, view: PacketView) -> Frame:
    eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
    icmp = struct.pack("!BBHHH", view.icmp_type, 0, 0, view.icmp_id, 1) + b"netlab-trace"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                     bytes(map(int, view.src.split("."))), bytes(map(int, view.dst.split("."))))
    return Frame(ns, ifname, outgoing, t, eth + ip + icmp)


def test_every_frame_has_a_comment_and_the_file_reads_back(tmp_path):
    t = _trace(dropped=False)
    probe = Probe(src="a", dst="b", proto="icmp", netns="l-a", owner="a", dst_ip=None, dport=None, src_ip=None,
                  dst_netns="l-b")
    ev = Evidence(probe=probe, signature=Signature("icmp", 4242, 1), table="t", flavour="nft")
    frames = [_frame("l-node1", "veth-a", False, 1_700_000_000_000_000_200, ECHO),
              _frame("l-a", "eth0", True, 1_700_000_000_000_000_100, ECHO),
              _frame("l-node1", "veth-a", True, 1_700_000_000_000_000_300, ECHO),    # no hop: said so
              _frame("l-b", "eth0", True, 1_700_000_000_000_000_401, REPLY)]
    ev.frames = [(f, capture.dissect(f)) for f in frames]
    pairs = pcap_frames(ev, t)
    assert [json.loads(c)["hop"] for _, c in pairs] == [1, 2, None, 6]
    assert json.loads(pairs[2][1]) == {"leg": "request", "hop": None, "netns": "l-node1", "ifname": "veth-a",
                                       "direction": "out"}
    path = tmp_path / "t.pcapng"
    capture.write_pcapng(str(path), pairs)
    from scapy.utils import PcapNgReader
    with PcapNgReader(str(path)) as reader:
        packets = list(reader)
    assert [p.sniffed_on for p in packets] == ["l-a/eth0", "l-node1/veth-a", "l-node1/veth-a", "l-b/eth0"]
    assert [int(p.time * 10**9) % 1000 for p in packets] == [100, 200, 300, 401]
    assert [p.comments[0].decode() for p in packets] == [c for _, c in pairs]
    assert [p.direction for p in packets] == [2, 1, 2, 2]
    data = path.read_bytes()
    # three interfaces, each named: no block without a name
    idbs = _blocks(data, 1)
    assert len(idbs) == 3 and all(b[8:10] == b"\x01\x00" for b in idbs)
    assert all(b"\x02\x00" in b and b"\x09\x00\x01\x00\x09" in b for b in idbs)


def _blocks(data: bytes, kind: int) -> list[bytes]:
    out, at = [], 0
    while at < len(data):
        k, length = struct.unpack_from("<II", data, at)
        if k == kind:
            out.append(data[at:at + length])
        at += length
    return out


def _arp(ns: str, ifname: str, outgoing: bool, t: int, sender: str, target: str, op: int = 1) -> Frame:
    ip = lambda a: bytes(map(int, a.split(".")))     # noqa: E731
    eth = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x06"
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + b"\x02\x00\x00\x00\x00\x01" + ip(sender) + b"\0" * 6 + ip(target)
    return Frame(ns, ifname, outgoing, t, eth + arp)


def test_an_unanswered_neighbour_lookup_is_in_the_file_and_carries_the_drop():
    t = Trace(lab="l", src="a", dst="172.17.0.77", proto="icmp", port=None, probe=ECHO,
              neighbours=(NeighbourLookup(netns="l-a", ifname="eth0", target="172.17.0.77", protocol="arp",
                                          owner="a"),),
              outcome=Outcome(status="no-path", reason="no-neighbour", netns="l-a", detail="nobody answers"))
    probe = Probe(src="a", dst="172.17.0.77", proto="icmp", netns="l-a", owner="a", dst_ip=None, dport=None,
                  src_ip=None, dst_netns=None)
    ev = Evidence(probe=probe, signature=Signature("icmp", 4242, 1), table="t", flavour="nft")
    frames = [_arp("l-a", "eth0", True, 10, "172.17.0.2", "172.17.0.77"),
              _arp("l-node1", "veth-a", False, 20, "172.17.0.2", "172.17.0.77"),
              _arp("l-node1", "docker0", True, 30, "172.17.0.1", "172.17.0.9")]     # another lookup: left out
    ev.frames = [(f, None) for f in frames]
    notes = [json.loads(c) for _, c in pcap_frames(ev, t)]
    assert [(n["netns"], n["hop"], n["neighbour"]["op"], n["neighbour"]["answered_by"]) for n in notes] == \
        [("l-a", None, "who-has", None), ("l-node1", None, "who-has", None)]
    assert notes[0]["drop"]["reason"] == "no-neighbour" and "drop" not in notes[1]
