"""`netlab trace` of IPv6 packets on a real dual-stack lab (engine 28.5): ICMPv6 echo by
address and by name with -6, UDP, TCP, a published port's IPv6 DNAT from the host and from
the LAN, MASQUERADE to the stand-in internet, a drop by an ip6tables rule, an NDP
solicitation an icc-off network's rule drops, one nobody answers. For each, the prediction (walked from
the plan) equals the observation (captures, ip6 nftrace events, conntrack v6 tuples), and
the pcapng carries the IPv6 frames with their hop comments."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import needs_root
from ipv6_labs import dual_stack_lab
from test_trace import agrees, hit, nodes, traced, veth

pytestmark = [needs_root, pytest.mark.root]

NETLAB = [sys.executable, "-m", "netlab"]
LAB = "t6tr"
SEALED = """  sealed:
    internal: true
    enable_ipv6: true
    ipam:
      config:
        - subnet: 172.30.4.0/24
        - subnet: "2001:db8:4::/64"
"""
QUIET = """  quiet:
    enable_ipv6: true
    driver_opts: {com.docker.network.bridge.enable_icc: "false"}
    ipam:
      config:
        - subnet: 172.30.3.0/24
        - subnet: "2001:db8:3::/64"
"""
CONTAINERS = """  a: {networks: [dual]}
  b: {networks: [dual], ports: ["8080:80"], command: "python3 -m http.server --bind :: 80"}
  s1: {networks: [sealed]}
"""
QUIET_CONTAINERS = """  q1: {networks: [quiet]}
  q2: {networks: [quiet]}
"""
A, B, GATEWAY = "2001:db8:2::2", "2001:db8:2::3", "2001:db8:2::1"
HOST, INTERNET = "2001:db8:a:101::105", "2001:db8:ff::10"      # node1 on the LAN, the stand-in (docs/lan.md)


def listening6(lab: str, src: str, address: str, port: int) -> None:
    """Wait for a container's server on IPv6 (the agent starts it right after `up`)."""
    import socket
    import time

    from netlab.kernel import netns
    for _ in range(100):
        with netns.entered(f"{lab}-{src}"):
            sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        with sock:
            sock.settimeout(0.5)
            if sock.connect_ex((address, port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on [{address}]:{port}")


def settled(ns: str) -> None:
    """Wait until no IPv6 address in `ns` is tentative. A fresh bridge's link-local address
    is in duplicate address detection for a second or two, and until then the kernel sends
    no neighbour solicitation for a packet it forwards (its source is not the host's, and
    NDP then needs a link-local source): that packet waits, as on a real Docker host."""
    import time
    for _ in range(100):
        shown = subprocess.run(["ip", "netns", "exec", ns, "ip", "-6", "addr", "show", "tentative"],
                               capture_output=True, text=True).stdout
        if "inet6" not in shown:
            return
        time.sleep(0.1)
    raise AssertionError(f"{ns}: IPv6 addresses still tentative:\n{shown}")


def tshark(path: str, *fields: str) -> list[list[str]]:
    argv = ["tshark", "-r", path, "-T", "fields"] + [x for f in fields for x in ("-e", f)]
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (make test-system)")
def test_ipv6_traces(make_lab, tmp_path):
    from netlab.app.lifecycle import snapshot_topology
    make_lab(dual_stack_lab(LAB, CONTAINERS + QUIET_CONTAINERS, networks=SEALED + QUIET))
    topo = snapshot_topology(LAB)
    node1 = f"{LAB}-node1"
    br = topo.segment("dual", "node1").device
    settled(node1)

    # ICMPv6 echo by address: switched on the bridge, FORWARD's ip6tables rules, the reply back
    pcap = str(tmp_path / "a-b.pcapng")
    t = traced(LAB, "a", B, pcap=pcap)
    agrees(t)
    assert nodes(t) == [f"{LAB}-a/eth0 out", f"{node1}/{veth(topo, 'a', 'dual')} in",
                        f"{node1}/{veth(topo, 'b', 'dual')} out", f"{LAB}-b/eth0 in"]
    assert (t.probe.proto, t.probe.src, t.probe.dst, t.probe.icmp_type, t.probe.ip_id) == ("icmp6", A, B, 128, None)
    assert t.hops[2].via == "switch" and t.hops[2].packet.ttl == 64
    assert hit(t, f"-A DOCKER-FORWARD -i {br} -j ACCEPT", "accept")
    assert all(r.packet is None or r.packet.proto == "icmp6" for r in t.rules)
    assert t.outcome.status == "delivered" and t.outcome.reply == "echo-reply" and t.outcome.reply_status == "delivered"
    rows = tshark(pcap, "ipv6.src", "ipv6.dst", "icmpv6.type", "frame.comment")
    rows = [r for r in rows if "neighbour" not in json.loads(r[3])]      # the NDP frames of the lookups
    assert rows[0][:3] == [A, B, "128"]
    assert [(c["leg"], c["hop"]) for c in (json.loads(r[3]) for r in rows)] == \
        [("request", i) for i in range(1, 5)] + [("reply", i) for i in range(5, 9)]    # numbered across the trace
    assert {(r[0], r[1], r[2]) for r in rows[4:]} == {(B, A, "129")}

    # by name with -6, through the CLI: the JSON carries the IPv6 addresses
    proc = subprocess.run(NETLAB + ["trace", LAB, "a", "b", "-6", "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["differences"] == [] and (d["probe"]["src"], d["probe"]["dst"]) == (A, B)
    assert d["outcome"]["reply"] == "echo-reply" and d["predicted"]["probe"]["proto"] == "icmp6"
    t = traced(LAB, "a", "b", family=6)
    agrees(t)
    assert t.probe.dst == B and t.outcome.netns == f"{LAB}-b"

    # UDP to a closed port: the ICMPv6 port-unreachable quotes the probe, its rules are the reply's
    t = traced(LAB, "a", "b:9", proto="udp", family=6)
    agrees(t)
    assert t.outcome.reply == "port-unreachable" and t.outcome.reply_status == "delivered"
    back = t.leg("reply")[-1].packet
    assert (back.proto, back.icmp_type, back.icmp_code, back.quoted.dport) == ("icmp6", 1, 4, 9)
    assert hit(t, f"-A DOCKER-CT -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "accept", "reply")

    # TCP over IPv6 to a server bound to ::
    listening6(LAB, "a", B, 80)
    t = traced(LAB, "a", f"[{B}]:80")
    agrees(t)
    assert t.outcome.reply == "SA" and t.outcome.netns == f"{LAB}-b"

    # the published port over IPv6 from the host: nat OUTPUT's DNAT to [b]:80, seen in conntrack
    t = traced(LAB, "node1", f"[{GATEWAY}]:8080")
    agrees(t)
    dnat = next(n for n in t.nat if n.kind == "DNAT")
    assert dnat.netns == node1 and dnat.evidence == "conntrack" and dnat.after.endswith(f"> [{B}]:80")
    assert dnat.rule == f"-A DOCKER ! -s fe80::/10 ! -i {br} -p tcp -m tcp --dport 8080 -j DNAT --to-destination [{B}]:80"
    assert any(n.kind == "de-DNAT" and n.leg == "reply" for n in t.nat)
    assert t.outcome.reply == "SA"

    # from the LAN: the host's IPv6 LAN address, DNATed to [b]:80 in nat PREROUTING
    t = traced(LAB, "outside", f"[{HOST}]:8080")
    agrees(t)
    assert any(n.kind == "DNAT" and n.netns == node1 and n.after.endswith(f"> [{B}]:80") for n in t.nat)
    assert t.outcome.netns == f"{LAB}-b" and t.outcome.reply == "SA"
    assert nodes(t)[-1] == f"{LAB}-b/eth0 in"

    # to the stand-in internet: MASQUERADE to the host's IPv6 LAN address, the reply de-NATed
    t = traced(LAB, "a", INTERNET)
    agrees(t)
    masq = next(n for n in t.nat if n.kind == "MASQUERADE")
    assert masq.netns == node1 and masq.after == f"{HOST} > {INTERNET}" and masq.evidence == "conntrack"
    assert masq.rule == f"-A POSTROUTING -s 2001:db8:2::/64 ! -o {br} -j MASQUERADE"
    assert any(n.kind == "de-SNAT" and n.leg == "reply" and n.after == f"{INTERNET} > {A}" for n in t.nat)
    assert t.outcome.reply_status == "delivered"

    # an internal network: dropped by an ip6tables rule, named
    t = traced(LAB, "a", "s1", family=6, by_name=False)
    agrees(t)
    assert t.outcome.status == "dropped" and t.outcome.netns == node1 and t.outcome.rule
    assert t.outcome.rule.startswith("-A ") and t.outcome.rule.endswith("-j DROP")
    assert t.probe.dst == str(topo.container("s1").attachment("sealed").address6.ip)

    # icc off: the network's ip6tables DROP between its own ports drops the bridged NDP
    # solicitation (ICMPv6 meets ip6tables through br_netfilter; ARP meets no iptables), so
    # the probe never leaves q1
    t = traced(LAB, "q1", "q2", family=6)
    agrees(t)
    quiet = topo.segment("quiet", "node1").device
    assert (t.outcome.status, t.outcome.reason, t.outcome.netns) == ("no-path", "no-neighbour", f"{LAB}-q1")
    assert t.outcome.rule == f"-A DOCKER-FORWARD -i {quiet} -o {quiet} -j DROP" and not t.hops
    assert [(n.protocol, n.answered_by) for n in t.neighbours] == [("ndp", None)]

    # nobody holds the address: the NDP solicitation goes unanswered, as an ARP request would
    t = traced(LAB, "a", "2001:db8:2::77")
    agrees(t)
    assert (t.outcome.status, t.outcome.reason, t.outcome.netns) == ("no-path", "no-neighbour", f"{LAB}-a")
    asked = [n for n in t.neighbours if n.target == "2001:db8:2::77"]
    assert asked and asked[0].protocol == "ndp" and asked[0].answered_by is None and asked[0].ifname == "eth0"


def test_ipv6_traces_through_native_nftables(make_lab):
    """29.7-nftables: the IPv6 rules are the native `ip6 docker-bridges` table's, whose name
    is the `ip` table's too; each event names its rule by handle in the table of its family."""
    lab = "t6trn"
    make_lab(dual_stack_lab(lab, CONTAINERS, engine="29.7-nftables", networks=SEALED))
    node1 = f"{lab}-node1"
    settled(node1)
    listening6(lab, "a", B, 80)
    t = traced(lab, "outside", f"[{HOST}]:8080")
    agrees(t)
    dnat = next(r for r in t.rules if r.target == "DNAT")
    assert dnat.native and dnat.table == "docker-bridges" and dnat.handle is not None
    assert "ip6 saddr != fe80::/10 tcp dport 8080" in dnat.rule and f"dnat to [{B}]:80" in dnat.rule
    assert any(n.kind == "DNAT" and n.after.endswith(f"> [{B}]:80") for n in t.nat) and t.outcome.reply == "SA"
    t = traced(lab, "a", INTERNET)
    agrees(t)
    masq = next(n for n in t.nat if n.kind == "MASQUERADE")
    assert masq.after == f"{HOST} > {INTERNET}" and "ip6 saddr 2001:db8:2::/64" in masq.rule
    t = traced(lab, "a", "s1", family=6, by_name=False)
    agrees(t)
    assert (t.outcome.status, t.outcome.netns, t.outcome.table) == ("dropped", node1, "docker-bridges")
    assert t.outcome.rule.endswith('drop comment "INTERNAL NETWORK INGRESS"')


def test_ipv6_legacy_rules_come_from_ip6tables_counters(tmp_path):
    """ip6tables-legacy rules are invisible to nftrace: ip6tables-legacy-save's counter
    deltas name them, as iptables-legacy-save's do for IPv4."""
    from conftest import leftovers

    from netlab.app.lifecycle import down, up
    lab = "t6trl"
    path = tmp_path / "lab.yaml"
    path.write_text(dual_stack_lab(lab, CONTAINERS, networks=SEALED))
    try:
        up(str(path), say=lambda m: None, firewall="legacy")
        settled(f"{lab}-node1")
        t = traced(lab, "a", "s1", family=6, by_name=False)
        agrees(t)
        assert (t.outcome.status, t.outcome.reason, t.outcome.evidence) == ("dropped", "isolation", "counters")
        assert t.outcome.rule.startswith("-A DOCKER-ISOLATION-STAGE-1 ! -s 2001:db8:4::/64 ")
        assert {r.evidence for r in t.rules if r.netns == f"{lab}-node1"} == {"counters"}
        t = traced(lab, "a", INTERNET)
        agrees(t)
        assert any(n.kind == "MASQUERADE" and n.evidence == "conntrack" and n.after == f"{HOST} > {INTERNET}"
                   for n in t.nat)
    finally:
        down(lab, say=lambda m: None)
    assert not leftovers(lab)
