"""macvlan as people run Docker's driver: containers on the underlay LAN behind their host's
eth0. The well-known reachability facts, the modes, passthru's takeover of the parent, the
shim that lets a host reach its own containers, and a clear refusal when the kernel lacks
802.1q for an `eth0.10` parent."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import leftovers, needs_root

pytestmark = [needs_root, pytest.mark.root]

MODES = """
name: {lab}
hosts:
  node1: {{address: 10.10.101.105}}
  node2: {{address: 10.10.101.106}}
  node3: {{address: 10.10.101.107}}
  node4: {{address: 10.10.101.108}}
networks:
  mbridge:  {{driver: macvlan, subnet: 10.10.101.0/24, gateway: 10.10.101.254, ip_range: 10.10.101.128/28,
             hosts: [node1]}}
  mprivate: {{driver: macvlan, subnet: 10.10.101.0/24, gateway: 10.10.101.254, ip_range: 10.10.101.144/28,
             hosts: [node2], driver_opts: {{macvlan_mode: private}}}}
  mvepa:    {{driver: macvlan, subnet: 10.10.101.0/24, gateway: 10.10.101.254, ip_range: 10.10.101.160/28,
             hosts: [node3], driver_opts: {{macvlan_mode: vepa, shim: "true"}}}}
  mshim:    {{driver: macvlan, subnet: 10.10.101.0/24, gateway: 10.10.101.254, ip_range: 10.10.101.176/28,
             hosts: [node4], driver_opts: {{shim: "true"}}}}
containers:
  a1: {{host: node1, networks: [mbridge]}}
  a2: {{host: node1, networks: [mbridge]}}
  p1: {{host: node2, networks: [mprivate]}}
  p2: {{host: node2, networks: [mprivate]}}
  v1: {{host: node3, networks: [mvepa]}}
  v2: {{host: node3, networks: [mvepa]}}
  s1: {{host: node4, networks: [mshim]}}
"""


def ping(lab: str, src: str, target: str) -> bool:
    return subprocess.run(["ip", "netns", "exec", f"{lab}-{src}", "ping", "-c", "1", "-W", "1", target],
                          capture_output=True).returncode == 0


def test_reachability_matrix_and_modes(make_lab):
    lab = "mvm"
    make_lab(MODES.format(lab=lab))
    # outside <-> a macvlan container: straight over the underlay L2
    assert ping(lab, "outside", "10.10.101.128")
    assert ping(lab, "a1", "10.10.101.254")
    # another host reaches it too, but its own host does not (lower device <-> macvlan child)
    assert ping(lab, "node2", "10.10.101.128")
    assert not ping(lab, "node1", "10.10.101.128")
    # bridge mode: siblings on one parent talk; private and vepa (no hairpin switch): they do not
    assert ping(lab, "a1", "10.10.101.129")
    assert not ping(lab, "p1", "10.10.101.145")
    assert not ping(lab, "v1", "10.10.101.161")
    # the shim on node4: a host-side macvlan with a route, and the host reaches its containers
    out = subprocess.run(["ip", "netns", "exec", f"{lab}-node4", "ip", "route"], capture_output=True, text=True).stdout
    assert "10.10.101.176/28 dev mvshim-" in out
    assert ping(lab, "node4", "10.10.101.176")
    # ... which needs bridge mode: a (bridge-mode) shim cannot talk to vepa children either
    assert not ping(lab, "node3", "10.10.101.160")
    # no host rules for macvlan (Docker writes none): the same rules as a host without it
    from netlab.app.lifecycle import snapshot_topology
    from netlab.plan.firewall.docker import host_ruleset
    topo = snapshot_topology(lab)
    assert host_ruleset(topo, "node1") == host_ruleset(topo, "node2")


PASSTHRU = """
name: {lab}
networks:
  pt: {{driver: macvlan, subnet: 10.10.101.0/24, gateway: 10.10.101.254, ip_range: 10.10.101.192/28,
       driver_opts: {{macvlan_mode: passthru}}}}
containers:
  solo: {{networks: [pt]}}
{more}"""


def test_passthru_takes_the_parent_over(make_lab, tmp_path):
    lab = "mvpt"
    path, _ = make_lab(PASSTHRU.format(lab=lab, more=""))
    # the container's MAC is written through to the parent, as Docker's passthru does
    eth0 = subprocess.run(["ip", "-n", f"{lab}-node1", "-o", "link", "show", "eth0"], capture_output=True, text=True)
    assert "02:42:0a:0a:65:c0" in eth0.stdout
    assert ping(lab, "outside", "10.10.101.192")
    from netlab.app.lifecycle import up
    assert not up(path, say=lambda m: None).changed
    # a second container on the same passthru parent: refused before anything is built
    bad = tmp_path / "two.yaml"
    bad.write_text(PASSTHRU.format(lab="mvpt2", more="  other: {networks: [pt]}\n"))
    proc = subprocess.run([sys.executable, "-m", "netlab", "validate", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "passthru" in proc.stderr and "'solo' has it" in proc.stderr and "Traceback" not in proc.stderr


VLAN = """
name: {lab}
networks:
  tagged: {{driver: macvlan, subnet: 192.168.10.0/24, driver_opts: {{parent: eth0.10}}}}
containers:
  t1: {{networks: [tagged]}}
"""


def test_vlan_parent_needs_8021q(tmp_path):
    """This machine's kernel has no 8021q: the error names it, and nothing is created."""
    from netlab.kernel.features import missing_link_kinds
    if "vlan" not in missing_link_kinds({"vlan"}):
        pytest.skip("this kernel has 802.1q: the VLAN parent is created instead")
    lab = "mvq"
    f = tmp_path / "vlan.yaml"
    f.write_text(VLAN.format(lab=lab))
    proc = subprocess.run([sys.executable, "-m", "netlab", "up", str(f)], capture_output=True, text=True,
                          env={**os.environ})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the kernel has no 802.1q VLAN support (module 8021q)" in proc.stderr
    assert "eth0.10" in proc.stderr and "Nothing was created" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert leftovers(lab) == []
