"""`netlab trace` on real labs: for each case the trace names the right hops and rules, and
the prediction (walked from the plan) equals the observation (captures, nftrace,
conntrack). After every trace no trace table, socket, thread or process of the tracer is
left behind."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from conftest import needs_root
from trace_labs import DOCKER_28, ENGINES, engine_yaml

pytestmark = [needs_root, pytest.mark.root]

NETLAB = [sys.executable, "-m", "netlab"]

ONE_HOST = """
name: {lab}
outside: {{addresses: [203.0.113.10]}}
networks:
  mynet: {{subnet: 192.168.0.0/16}}
  quiet: {{driver_opts: {{com.docker.network.bridge.enable_icc: "false"}}}}
  sealed: {{internal: true}}
containers:
  web: {{ports: ["8080:80"], command: "python3 -m http.server 80"}}
  a1: {{networks: [mynet]}}
  a2: {{networks: [mynet]}}
  q1: {{networks: [quiet]}}
  q2: {{networks: [quiet]}}
  s1: {{networks: [sealed]}}
"""

NO_PROXY = """
name: {lab}
hosts:
  node1: {{address: 10.10.101.105, daemon: {{userland-proxy: false}}}}
containers:
  web: {{ports: ["8080:80"], command: "python3 -m http.server 80"}}
"""

MACVLAN = """
name: {lab}
hosts:
  node1: {{address: 10.10.101.105}}
networks:
  lan: {{driver: macvlan, subnet: 10.10.101.0/24, gateway: 10.10.101.254, ip_range: 10.10.101.128/28,
         driver_opts: {{parent: eth0}}}}
containers:
  m1: {{networks: [lan]}}
"""

OVERLAY = """
name: {lab}
hosts:
  node1: {{address: 10.10.101.105}}
  node2: {{address: 10.10.101.106}}
networks:
  blue: {{driver: overlay}}
containers:
  b1: {{host: node1, networks: [blue]}}
  b2: {{host: node2, networks: [blue]}}
"""


# ---- helpers -------------------------------------------------------------------------
def traced(lab: str, src: str, dst: str, **kw):
    """A live trace, checked to leave nothing of the tracer behind."""
    from netlab.trace import trace
    fds, threads, children = _fds(), threading.active_count(), _children()
    t = trace(lab, src, dst, **kw)
    assert _fds() == fds, "the tracer left file descriptors (sockets) open"
    assert threading.active_count() == threads, "the tracer left threads running"
    assert _children() == children, "the tracer left child processes"
    assert not trace_tables(lab), f"trace tables left: {trace_tables(lab)}"
    return t


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd")) - {"0", "1", "2"}


def _children() -> set[str]:
    me = str(os.getpid())
    out = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[1] == me:
                    out.add(pid)
        except OSError:
            continue
    return out


def trace_tables(lab: str) -> list[str]:
    """Every netlab trace table in any namespace of the lab."""
    from netlab.kernel import nfnetlink
    from netlab.trace import nftrace
    found = []
    for ns in sorted(os.listdir("/run/netns")):
        if not ns.startswith(f"{lab}-"):
            continue
        sock = nfnetlink.open_socket(ns)
        try:
            names = nftrace.list_tables(nfnetlink.Requester(sock, ns))
        finally:
            sock.close()
        found += [f"{ns}: {n}" for n in names if n.startswith(nftrace.TABLE_PREFIX)]
    return found


def nodes(t, leg: str = "request") -> list[str]:
    return [f"{h.node} {h.direction}" for h in t.hops if h.leg == leg]


def hit(t, text: str, verdict: str, leg: str = "request") -> bool:
    return any(r.rule == text and r.verdict == verdict and r.leg == leg for r in t.rules)


def agrees(t) -> None:
    assert t.predicted is not None
    assert not t.differences, "\n".join(f"{d.what} {d.leg}: predicted {d.predicted} | observed {d.observed}"
                                        for d in t.differences)


def listening(lab: str, src: str, address: str, port: int) -> None:
    """Wait for a container's server (the agent starts it right after `up`)."""
    from netlab.kernel.probe import tcp_connect
    for _ in range(100):
        if tcp_connect(f"{lab}-{src}", address, port, timeout=0.2):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {address}:{port}")


def veth(topo, container: str, network: str) -> str:
    return topo.container(container).attachment(network).host_ifname


# ---- the cases -----------------------------------------------------------------------
def test_bridge_cases_on_one_host(make_lab):
    from netlab.app.lifecycle import snapshot_topology
    lab = "tr1"
    make_lab(ONE_HOST.format(lab=lab))
    topo = snapshot_topology(lab)
    node1 = f"{lab}-node1"
    br = topo.segment("mynet", "node1").device

    # same bridge: switched port to port, FORWARD with iif = oif = the bridge
    t = traced(lab, "a1", "a2")
    agrees(t)
    assert nodes(t) == [f"{lab}-a1/eth0 out", f"{node1}/{veth(topo, 'a1', 'mynet')} in",
                        f"{node1}/{veth(topo, 'a2', 'mynet')} out", f"{lab}-a2/eth0 in"]
    assert t.hops[2].via == "switch" and t.hops[2].bridge == br
    assert hit(t, f"-A FORWARD -i {br} -o {br} -j ACCEPT", "accept")
    assert t.outcome.status == "delivered" and t.outcome.reply == "echo-reply" and t.outcome.reply_status == "delivered"
    assert {h.source for h in t.hops} == {"observed"}

    # another network: dropped in DOCKER-ISOLATION-STAGE-2
    t = traced(lab, "a1", "web", by_name=False)     # the lab's view: by name, a1 cannot resolve web
    agrees(t)
    assert t.outcome.status == "dropped" and t.outcome.reason == "isolation"
    assert t.outcome.chain == "DOCKER-ISOLATION-STAGE-2" and t.outcome.rule == "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP"
    assert nodes(t)[-1] == f"{node1}/{br} in"

    # icc=false: dropped in FORWARD by the network's DROP rule
    t = traced(lab, "q1", "q2")
    agrees(t)
    quiet = topo.segment("quiet", "node1").device
    assert t.outcome.status == "dropped" and t.outcome.chain == "FORWARD"
    assert t.outcome.rule == f"-A FORWARD -i {quiet} -o {quiet} -j DROP"

    # container -> outside: MASQUERADE to the host's underlay address, the reply de-NATed
    t = traced(lab, "a1", "203.0.113.10")
    agrees(t)
    out = next(h for h in t.hops if h.node == f"{node1}/eth0" and h.leg == "request")
    assert out.packet.src == "10.10.101.105" and out.packet.ttl == 63
    masq = next(n for n in t.nat if n.kind == "MASQUERADE")
    assert masq.netns == node1 and masq.after == "10.10.101.105 > 203.0.113.10" and masq.evidence == "conntrack"
    assert masq.rule == f"-A POSTROUTING -s 192.168.0.0/16 ! -o {br} -j MASQUERADE"
    assert any(n.kind == "de-SNAT" and n.leg == "reply" and n.after == "203.0.113.10 > 192.168.0.2" for n in t.nat)
    assert nodes(t, "reply")[-1] == f"{lab}-a1/eth0 in"

    # outside -> published port: DNAT in nat DOCKER, ACCEPT in filter DOCKER
    listening(lab, "outside", "10.10.101.105", 8080)
    t = traced(lab, "outside", "node1:8080")
    agrees(t)
    assert hit(t, "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80", "accept")
    assert hit(t, "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT", "accept")
    assert any(n.kind == "DNAT" and n.after.endswith("> 172.17.0.2:80") for n in t.nat)
    assert t.outcome.netns == f"{lab}-web" and t.outcome.reply == "SA"

    # internal network: dropped in DOCKER-ISOLATION-STAGE-1
    t = traced(lab, "a1", "s1", by_name=False)
    agrees(t)
    assert t.outcome.chain == "DOCKER-ISOLATION-STAGE-1" and t.outcome.reason == "isolation"


def test_hairpin_without_the_userland_proxy(make_lab):
    from netlab.app.lifecycle import snapshot_topology
    lab = "tr2"
    make_lab(NO_PROXY.format(lab=lab))
    port = veth(snapshot_topology(lab), "web", "bridge")
    listening(lab, "outside", "10.10.101.105", 8080)
    t = traced(lab, "web", "node1:8080")
    agrees(t)
    # bridged DNAT: back out of the port it came in on (hairpin mode), TTL untouched
    seen = [h for h in t.hops if h.leg == "request" and h.via != "bridged-dnat"]
    assert [f"{h.node} {h.direction}" for h in seen] == [
        f"{lab}-web/eth0 out", f"{lab}-node1/{port} in", f"{lab}-node1/{port} out", f"{lab}-web/eth0 in"]
    assert seen[2].via == "hairpin" and seen[2].packet.flow().startswith("172.17.0.1:")
    assert hit(t, "-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80", "accept")
    assert hit(t, "-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE", "accept")
    assert [n.kind for n in t.nat if n.leg == "request"] == ["DNAT", "MASQUERADE"]
    assert t.outcome.reply == "SA" and t.outcome.reply_status == "delivered"


def test_macvlan_host_cannot_reach_its_own_container(make_lab):
    lab = "tr3"
    make_lab(MACVLAN.format(lab=lab))
    t = traced(lab, "node1", "m1", by_name=False)     # a host's resolver knows no container names
    agrees(t)
    assert t.outcome.status == "no-path" and t.outcome.reason == "macvlan-host-isolation"
    assert t.outcome.netns == f"{lab}-node1" and not t.hops
    # the LAN reaches it: in on the parent, then the macvlan
    t = traced(lab, "outside", "m1")
    agrees(t)
    assert nodes(t)[-2:] == [f"{lab}-node1/eth0 in", f"{lab}-m1/eth0 in"] and t.leg("request")[-1].via == "macvlan"


def test_overlay_across_hosts(make_lab, tmp_path):
    lab = "tr4"
    make_lab(OVERLAY.format(lab=lab))
    pcap = str(tmp_path / "b2-b1.pcapng")
    t = traced(lab, "b2", "b1", pcap=pcap)
    agrees(t)
    under = [h for h in t.hops if h.packet.outer is not None and h.leg == "request"]
    assert [h.node for h in under] == [f"{lab}-node2/eth0", f"{lab}-outside/u-node2", f"{lab}-outside/u-node1",
                                       f"{lab}-node1/eth0"]
    assert all(h.packet.vni == 4096 and h.packet.outer.src == "10.10.101.106"
               and h.packet.outer.dst == "10.10.101.105" and h.packet.outer.dport == 4789 for h in under)
    assert under[0].via == "vxlan-encap"
    decap = next(h for h in t.hops if h.via == "vxlan-decap" and h.leg == "request")
    assert decap.node == f"{lab}-node1@ov4096/vxlan0" and decap.packet.outer is None
    assert t.outcome.netns == f"{lab}-b1" and t.outcome.reply_status == "delivered"
    # the pcapng: one interface per hop, named <netns>/<ifname>
    from scapy.utils import PcapNgReader
    with PcapNgReader(pcap) as reader:
        names = {p.sniffed_on for p in reader}
    assert {h.node for h in t.hops} <= names


def test_cli_json_and_predict(make_lab):
    lab = "tr5"
    path, _ = make_lab(NO_PROXY.format(lab=lab))
    listening(lab, "outside", "10.10.101.105", 8080)
    proc = subprocess.run(NETLAB + ["trace", lab, "outside", "node1:8080", "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["schema"] == "netlab-trace/1" and d["source"] == "observed" and d["differences"] == []
    assert d["predicted"]["source"] == "predicted" and d["outcome"]["status"] == "delivered"
    proc = subprocess.run(NETLAB + ["trace", path, "outside", "node1:8080", "--predict"], capture_output=True, text=True)
    assert proc.returncode == 0 and "predicted in lab" in proc.stdout
    proc = subprocess.run(NETLAB + ["trace", lab, "outside", "nobody"], capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "nobody" in proc.stderr
    assert not trace_tables(lab)


def test_legacy_backend_rules_come_from_counters(tmp_path):
    """iptables-legacy rules are invisible to nftrace: counter deltas name them instead."""
    from conftest import leftovers

    from netlab.app.lifecycle import down, up
    lab = "tr6"
    path = tmp_path / "lab.yaml"
    path.write_text(ONE_HOST.format(lab=lab))
    try:
        up(str(path), say=lambda m: None, firewall="legacy")
        t = traced(lab, "a1", "web", by_name=False)
        agrees(t)
        assert t.outcome.reason == "isolation" and t.outcome.evidence == "counters"
        assert t.outcome.rule == "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP"
        assert {r.evidence for r in t.rules if r.netns == f"{lab}-node1"} == {"counters"}
        t = traced(lab, "a1", "203.0.113.10")
        agrees(t)
        assert any(n.kind == "MASQUERADE" and n.evidence == "conntrack" for n in t.nat)
    finally:
        down(lab, say=lambda m: None)
    assert not leftovers(lab)


# ---- every engine profile ----------------------------------------------------------------
CODES = {"20.10": "2010", "26.1": "261", "28.5": "285", "29.7": "297", "29.7-nftables": "297n"}


def lab_tracer(lab: str):
    """The lab's topology and a trace function over its applied plan."""
    from netlab.app import state
    from netlab.app.lifecycle import snapshot_topology
    from netlab.trace import session
    topo, st = snapshot_topology(lab), state.load(lab)

    def run(src: str, dst: str, **kw):
        return session.trace(topo, st.plan, st.firewall, src, dst, **kw)
    return topo, run


def traced_with(run, src: str, dst: str, lab: str, **kw):
    """`traced`, for a trace function other than the lab's own."""
    fds, threads, children = _fds(), threading.active_count(), _children()
    t = run(src, dst, **kw)
    assert _fds() == fds and threading.active_count() == threads and _children() == children
    assert not trace_tables(lab), f"trace tables left: {trace_tables(lab)}"
    return t


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_where_they_differ(make_lab, engine):
    """The cases whose rules or outcome differ between engines, prediction == observation on
    each: a published port from outside, direct access to a container's address (reached
    before 28, dropped in raw PREROUTING from 28), another network (isolation chains before
    28, the raw drop from 28), the hairpin without the userland proxy; from 28 the routed and
    nat-unprotected gateway modes."""
    lab = f"tr7{CODES[engine]}"
    make_lab(engine_yaml(engine, lab))
    topo, run = lab_tracer(lab)
    listening(lab, "outside", "10.10.101.105", 8080)

    t = traced_with(run, "outside", "node1:8080", lab)
    agrees(t)
    assert t.outcome.netns == f"{lab}-web" and t.outcome.reply == "SA"
    assert [(e.host, e.engine) for e in t.engines] == [("node1", engine)]
    native = [r for r in t.rules if r.native]
    assert bool(native) == (engine == "29.7-nftables")
    assert all(r.handle is not None and r.table == "docker-bridges" for r in native)

    t = traced_with(run, "outside", "172.17.0.2:80", lab)
    agrees(t)
    if engine in DOCKER_28:
        assert t.outcome.status == "dropped" and t.outcome.chain in ("PREROUTING", "raw-PREROUTING")
        assert "direct access" in t.outcome.detail
    else:
        assert t.outcome.status == "delivered" and t.outcome.netns == f"{lab}-web"
        t = traced_with(run, "outside", "172.17.0.2:81", lab)     # unpublished: FORWARD's policy
        agrees(t)
        assert (t.outcome.status, t.outcome.reason, t.outcome.chain) == ("dropped", "policy", "FORWARD")

    t = traced_with(run, "a1", "web", lab, by_name=False)
    agrees(t)
    assert t.outcome.status == "dropped"
    assert t.outcome.reason == ("rule" if engine in DOCKER_28 else "isolation")

    t = traced_with(run, "web", "node1:8080", lab)
    agrees(t)
    assert [n.kind for n in t.nat if n.leg == "request"] == ["DNAT", "MASQUERADE"] and t.outcome.reply == "SA"

    if engine not in DOCKER_28:
        return
    r1 = str(topo.container("r1").attachment("routed").address.ip)
    u1 = str(topo.container("u1").attachment("open").address.ip)
    listening(lab, "r1", r1, 80)
    t = traced_with(run, "outside", f"{r1}:80", lab)
    agrees(t)
    assert t.outcome.netns == f"{lab}-r1" and t.outcome.reply == "SA" and not t.nat
    t = traced_with(run, "outside", r1, lab)       # routed: ICMP is accepted
    agrees(t)
    assert t.outcome.reply_status == "delivered" and not t.nat
    t = traced_with(run, "outside", f"{r1}:81", lab)
    agrees(t)
    assert t.outcome.status == "dropped" and "UNPUBLISHED PORT DROP" in t.outcome.detail
    listening(lab, "u1", u1, 80)
    t = traced_with(run, "outside", f"{u1}:80", lab)
    agrees(t)
    assert t.outcome.netns == f"{lab}-u1" and t.outcome.reply == "SA"
