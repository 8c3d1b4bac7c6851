"""Two hosts joined by VXLAN overlay networks: real namespaces, real VXLAN devices on the
underlay, real packets. Pings by name and address, the encapsulation seen on the underlay,
MTU 1450, isolation between overlays, and the way out through docker_gwbridge."""
from __future__ import annotations

import json
import re
import subprocess

import pytest
from capture import Capture
from conftest import needs_root

pytestmark = [needs_root, pytest.mark.root]

LAB = """
name: {lab}
outside: {{addresses: [203.0.113.10]}}
hosts:
  node1: {{address: 10.10.101.105}}
  node2: {{address: 10.10.101.106}}
networks:
  blue: {{driver: overlay}}
  red: {{driver: overlay, subnet: 10.0.9.0/24}}
containers:
  b1: {{host: node1, networks: [blue]}}
  b2: {{host: node2, networks: [blue]}}
  r1: {{host: node1, networks: [red]}}
  r2: {{host: node2, networks: [red]}}
"""


def sh(ns: str, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True)


def ping(ns: str, target: str, *opts: str) -> subprocess.CompletedProcess:
    return sh(ns, "ping", "-c", "1", "-W", "1", *opts, target)


def link(ns: str, name: str) -> dict:
    return json.loads(sh(ns, "ip", "-d", "-j", "link", "show", name).stdout)[0]


def test_overlay_across_two_hosts(make_lab):
    lab = "ovx"
    path, _ = make_lab(LAB.format(lab=lab))
    b1, b2, r1, r2 = (f"{lab}-{n}" for n in ("b1", "b2", "r1", "r2"))
    node1, sandbox1 = f"{lab}-node1", f"{lab}-node1@ov4096"

    # what Docker builds: a sandbox per network and host with br0 (gateway) and vxlan0
    br0 = link(sandbox1, "br0")
    assert br0["mtu"] == 1450
    assert "10.0.0.1/24" in sh(sandbox1, "ip", "-o", "addr", "show", "br0").stdout
    vx = link(sandbox1, "vxlan0")
    data = vx["linkinfo"]["info_data"]
    assert (vx["linkinfo"]["info_kind"], data["id"], data["port"], data["local"], data["learning"]) == \
        ("vxlan", 4096, 4789, "10.10.101.105", False)
    assert vx["mtu"] == 1450 and vx["master"] == "br0"
    assert link(f"{lab}-node1@ov4097", "vxlan0")["linkinfo"]["info_data"]["id"] == 4097   # file order
    # its UDP socket is on the underlay, in the host namespace, not in the sandbox
    assert ":4789" in sh(node1, "ss", "-Hunl").stdout
    assert ":4789" not in sh(sandbox1, "ss", "-Hunl").stdout
    # the static control plane: remote containers only
    assert "10.0.0.3 lladdr 02:42:0a:00:00:03 PERMANENT" in sh(sandbox1, "ip", "neigh", "show", "dev", "vxlan0").stdout
    fdb = sh(sandbox1, "bridge", "fdb", "show", "dev", "vxlan0").stdout
    assert re.search(r"02:42:0a:00:00:03 dst 10.10.101.106 .*self permanent", fdb), fdb
    assert "02:42:0a:00:00:02 dst" not in fdb
    # the container: eth0 on the overlay (MTU 1450), eth1 on docker_gwbridge with the default route
    eth0 = link(b1, "eth0")
    assert (eth0["mtu"], eth0["address"]) == (1450, "02:42:0a:00:00:02")
    assert "172.18.0.2/16" in sh(b1, "ip", "-o", "addr", "show", "eth1").stdout
    assert sh(b1, "ip", "route", "show", "default").stdout.startswith("default via 172.18.0.1 dev eth1")

    # across hosts by address and by name; the underlay carries VXLAN with the VNI and the inner packet
    with Capture(f"{lab}-outside", "u-node1") as cap:
        assert ping(b2, "10.0.0.2").returncode == 0
    vxlan = [p for p in cap.packets if p.vni is not None]
    assert any(p.src == "10.10.101.106" and p.dst == "10.10.101.105" and p.dport == 4789 and p.vni == 4096
               and p.inner and (p.inner.src, p.inner.dst, p.inner.icmp_type) == ("10.0.0.3", "10.0.0.2", 8)
               for p in vxlan), cap.packets
    assert any(p.inner and p.inner.icmp_type == 0 and p.src == "10.10.101.105" for p in vxlan)
    named = ping(b2, "b1")
    assert named.returncode == 0 and "(10.0.0.2)" in named.stdout
    assert ping(r1, "r2").returncode == 0

    # MTU 1450 inside: a DF packet that fits crosses, one byte more fails with the right error
    assert ping(b2, "10.0.0.2", "-M", "do", "-s", "1422").returncode == 0
    big = ping(b2, "10.0.0.2", "-M", "do", "-s", "1423")
    assert big.returncode != 0 and "message too long, mtu=1450" in big.stdout + big.stderr

    # two overlays are isolated: no path from blue to red, on one host or across hosts
    assert ping(b1, "10.0.9.2").returncode != 0
    assert ping(b1, "10.0.9.3").returncode != 0
    # and docker_gwbridge has icc off: b1 cannot reach r1 through it either
    assert ping(b1, "172.18.0.3").returncode != 0

    # the way out: eth1, docker_gwbridge, MASQUERADE to the host's underlay address
    with Capture(f"{lab}-outside", "u-node1") as cap:
        assert ping(b1, "203.0.113.10").returncode == 0
    out = [p for p in cap.packets if p.proto == 1 and p.dst == "203.0.113.10"]
    assert out and all(p.src == "10.10.101.105" for p in out), cap.packets
    nat = sh(node1, "iptables-save", "-c", "-t", "nat").stdout
    rule = next(line for line in nat.splitlines() if "-s 172.18.0.0/16 ! -o docker_gwbridge -j MASQUERADE" in line)
    assert not rule.startswith("[0:"), rule

    # a rerun changes nothing; a lost FDB entry is drift that `up` puts back
    from netlab.app.lifecycle import up
    assert not up(path, say=lambda m: None).changed
    sh(sandbox1, "bridge", "fdb", "del", "02:42:0a:00:00:03", "dev", "vxlan0", "dst", "10.10.101.106", "self")
    assert ping(b1, "10.0.0.3").returncode != 0
    again = up(path, say=lambda m: None)
    assert [c.item.kind for c in again.changes] == ["fdb"]
    assert ping(b1, "10.0.0.3").returncode == 0

