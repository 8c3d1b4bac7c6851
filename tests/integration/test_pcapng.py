"""The pcapng of `netlab trace --pcap`, read back by Wireshark's own reader (tshark,
capinfos): every interface named `<netns>/<ifname>` and used, none empty or unnamed,
nanosecond timestamps, no malformed frame, and on every packet a JSON comment whose hop
numbers are the CLI report's, with the rules and NAT met there and, where the request
dies, the drop. IPv4 and IPv6 frames, on a dual-stack lab."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from conftest import needs_root
from ipv6_labs import dual_stack_lab
from test_trace import listening, traced
from test_trace_ipv6 import settled

from netlab.trace.vocabulary import steps

pytestmark = [needs_root, pytest.mark.root,
              pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (make test-system)")]

LAB = "gpcap"
SEALED = """  sealed:
    internal: true
    ipam:
      config:
        - subnet: 172.30.5.0/24
"""
CONTAINERS = """  a: {networks: [dual]}
  b: {networks: [dual], ports: ["8080:80"], command: "python3 -m http.server --bind :: 80"}
  s1: {networks: [sealed]}
"""
B6 = "2001:db8:2::3"


def tshark(path: str, *fields: str) -> list[list[str]]:
    argv = ["tshark", "-r", path, "-T", "fields", "-E", "occurrence=f"] + [x for f in fields for x in ("-e", f)]
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


def interfaces(path: str) -> list[dict[str, str]]:
    """capinfos' interface list: each interface's name, time precision and packet count."""
    proc = subprocess.run(["capinfos", "-I", path], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    found = []
    for block in re.split(r"\n(?=Interface #\d+ info:)", proc.stdout)[1:]:
        info = dict(re.findall(r"^\s+([^=\n]+?) = (.*)$", block, re.M))
        found.append(info)
    return found


def read(path: str, t) -> list[dict]:
    """The file's packets as (interface, comment) checked for what every packet must carry;
    returns the parsed comments."""
    rows = tshark(path, "frame.interface_name", "frame.time_epoch", "_ws.malformed", "frame.comment")
    assert rows, "no packet in the file"
    nodes = {h.node for h in t.hops}
    notes = []
    for name, epoch, malformed, comment in rows:
        note = json.loads(comment)
        assert name == f"{note['netns']}/{note['ifname']}" and name.startswith(f"{LAB}-")
        assert name in nodes or "neighbour" in note, f"interface {name!r} is no hop of the trace"
        assert malformed == "", f"a malformed frame on {name}"
        assert re.fullmatch(r"\d+\.\d{9}", epoch), f"not nanoseconds: {epoch}"
        notes.append(note)
    # the ring stamps in nanoseconds: a microsecond file would end every stamp in 000
    assert any(not r[1].endswith("000") for r in rows), [r[1] for r in rows]
    found = interfaces(path)
    assert [i["Name"] for i in found] == list(dict.fromkeys(r[0] for r in rows)), found
    assert all(i["Time precision"] == "nanoseconds (9)" and i["Encapsulation"].startswith("Ethernet") and
               int(i["Number of packets"]) > 0 for i in found), found
    return notes


def check_hops(notes: list[dict], t) -> None:
    """Each comment's hop and word are the CLI report's: numbered from 1 across the trace (the
    request's, then the reply's), naming that hop's leg, interface, direction and how it came."""
    numbered = {s.number: s for s in steps(t)}
    for n in notes:
        if "neighbour" in n:
            continue
        s = numbered[n["hop"]]
        assert (s.hop.leg, s.hop.netns, s.hop.ifname, s.hop.direction, s.hop.via, s.how) == \
            (n["leg"], n["netns"], n["ifname"], n["direction"], n["via"], n["how"])
    assert {n["hop"] for n in notes if "neighbour" not in n} == set(numbered)


def test_pcapng_tells_the_story(make_lab, tmp_path):
    make_lab(dual_stack_lab(LAB, CONTAINERS, networks=SEALED))
    node1 = f"{LAB}-node1"
    settled(node1)
    listening(LAB, "outside", "10.10.101.105", 8080)

    # the published port from the LAN: DNAT in node1, the reply de-DNATed; TCP over IPv4
    pcap = str(tmp_path / "dnat.pcapng")
    t = traced(LAB, "outside", "node1:8080", pcap=pcap)
    notes = read(pcap, t)
    check_hops(notes, t)
    rows = tshark(pcap, "ip.src", "ip.dst", "tcp.flags.syn")
    assert rows[0][:2] == ["10.10.101.254", "10.10.101.105"] and rows[0][2] == "1"
    dnat = [x for n in notes for x in n.get("nat", []) if x["kind"] == "DNAT"]
    assert dnat and dnat[0]["netns"] == node1 and dnat[0]["rule"].endswith("-j DNAT --to-destination 172.30.0.3:80")
    assert {x["kind"] for n in notes for x in n.get("nat", [])} >= {"DNAT", "de-DNAT"}
    where = next(n for n in notes if any(x["kind"] == "DNAT" for x in n.get("nat", [])))
    assert (where["leg"], where["netns"], where["direction"]) == ("request", node1, "in")     # PREROUTING
    rules = [r for n in notes for r in n.get("rules", [])]
    assert any(r["verdict"] == "accept" and r["rule"].startswith("-A DOCKER ") for r in rules), rules
    assert not any("drop" in n for n in notes)

    # dropped: an internal network's rule, named on the last hop of the request
    pcap = str(tmp_path / "drop.pcapng")
    t = traced(LAB, "a", "s1", pcap=pcap, by_name=False)
    assert t.outcome.status == "dropped" and t.outcome.rule
    notes = read(pcap, t)
    check_hops(notes, t)
    last = len(t.leg("request"))
    ends = [n for n in notes if n["hop"] == last]
    assert ends and all(n["drop"]["status"] == "dropped" and n["drop"]["rule"] == t.outcome.rule
                        and n["drop"]["netns"] == node1 for n in ends)
    assert any(r["verdict"] == "drop" and r["rule"] == t.outcome.rule for n in ends for r in n["rules"])
    assert all("drop" not in n for n in notes if n["hop"] != last)
    assert all(n["drop"].get("kernel_reason") == t.outcome.kernel_reason for n in ends)

    # no listener: delivered, freed by the kernel (NO_SOCKET where tracefs saw it), answered
    pcap = str(tmp_path / "closed.pcapng")
    t = traced(LAB, "a", "b:9", proto="udp", pcap=pcap)
    assert t.outcome.reply == "port-unreachable"
    notes = read(pcap, t)
    check_hops(notes, t)
    told = [n["drop"] for n in notes if "drop" in n]
    if t.outcome.kernel_reason:
        assert told and all(d["kernel_reason"] == t.outcome.kernel_reason and d["status"] == "delivered"
                            for d in told)
        assert {n["hop"] for n in notes if "drop" in n} == {len(t.leg("request"))}
    else:
        assert not told
    rows = tshark(pcap, "udp.dstport", "icmp.type", "arp.opcode")
    assert [r[0] for r in rows if not r[2]][0] == "9" and [r[1] for r in rows if not r[2]][-1] == "3"

    # nobody holds the address: no hop at all, the unanswered ARP request tells it
    pcap = str(tmp_path / "nobody.pcapng")
    t = traced(LAB, "a", "172.30.0.77", pcap=pcap)
    assert (t.outcome.status, t.outcome.reason, t.hops) == ("no-path", "no-neighbour", ())
    notes = read(pcap, t)
    asks = [n for n in notes if n["netns"] == f"{LAB}-a" and n["direction"] == "out"]
    assert asks and all(n["neighbour"]["op"] == "who-has" and n["neighbour"]["target"] == "172.30.0.77"
                        and n["neighbour"]["answered_by"] is None for n in notes)
    assert asks[0]["drop"]["reason"] == "no-neighbour"
    assert tshark(pcap, "arp.dst.proto_ipv4")[0] == ["172.30.0.77"]

    # IPv6: ICMPv6 echo across the bridge and back
    pcap = str(tmp_path / "v6.pcapng")
    t = traced(LAB, "a", B6, pcap=pcap)
    notes = read(pcap, t)
    check_hops(notes, t)
    rows = [r for r in tshark(pcap, "ipv6.dst", "icmpv6.type") if r[1] not in ("135", "136")]
    assert [r[1] for r in rows] == ["128"] * len(t.leg("request")) + ["129"] * len(t.leg("reply"))
    assert rows[0][0] == B6
    sent = len(t.leg("request"))
    assert [(n["leg"], n["hop"]) for n in notes if "neighbour" not in n] == \
        [("request", i) for i in range(1, sent + 1)] + \
        [("reply", sent + i) for i in range(1, len(t.leg("reply")) + 1)]
    ndp = [n["neighbour"] for n in notes if "neighbour" in n]
    assert all(x["protocol"] == "ndp" and x["op"].startswith("neighbour-") for x in ndp)
