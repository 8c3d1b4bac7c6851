"""IPv6 through the other drivers, live on engine 28.5: macvlan containers on the LAN's IPv6
prefix (addresses from IPAM, ::/0 via the IPv6 gateway of the network's ipam config)."""
from __future__ import annotations

import subprocess

import pytest
from conftest import needs_root

pytestmark = [needs_root, pytest.mark.root]

MACVLAN = """
name: {lab}
engine: "28.5"
hosts:
  node1: {{}}
  node2: {{}}
networks:
  mv1:
    driver: macvlan
    enable_ipv6: true
    hosts: [node1]
    ipam: {{config: [{{subnet: 10.10.101.0/24, gateway: 10.10.101.254, ip_range: 10.10.101.128/28}},
                    {{subnet: "2001:db8:a:101::/64", gateway: "2001:db8:a:101::254", ip_range: "2001:db8:a:101::80/124"}}]}}
  mv2:
    driver: macvlan
    enable_ipv6: true
    hosts: [node2]
    ipam: {{config: [{{subnet: 10.10.101.0/24, gateway: 10.10.101.254, ip_range: 10.10.101.144/28}},
                    {{subnet: "2001:db8:a:101::/64", gateway: "2001:db8:a:101::254", ip_range: "2001:db8:a:101::90/124"}}]}}
containers:
  a1: {{host: node1, networks: [mv1]}}
  a2: {{host: node1, networks: [mv1]}}
  b1: {{host: node2, networks: [mv2]}}
"""


def in_ns(lab: str, name: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", f"{lab}-{name}", *argv], capture_output=True, text=True)


def ping6(lab: str, src: str, target: str) -> bool:
    return in_ns(lab, src, "ping", "-6", "-c", "1", "-W", "2", target).returncode == 0


def test_macvlan_ipv6_live(make_lab):
    lab = "b6mv"
    make_lab(MACVLAN.format(lab=lab))
    shown = in_ns(lab, "a1", "ip", "-6", "addr", "show", "dev", "eth0").stdout
    assert "inet6 2001:db8:a:101::80/64 scope global" in shown
    assert "default via 2001:db8:a:101::254 dev eth0" in in_ns(lab, "a1", "ip", "-6", "route").stdout
    assert ping6(lab, "a1", "2001:db8:a:101::81")        # a sibling on the same parent (bridge mode)
    assert ping6(lab, "a1", "2001:db8:a:101::90")        # a container behind another host's eth0
    assert ping6(lab, "outside", "2001:db8:a:101::81")   # straight over the LAN
    assert ping6(lab, "b1", "2001:db8:ff::10")           # through the IPv6 gateway
    assert not ping6(lab, "a1", "2001:db8:a:101::99")    # nobody there: the probe can fail


OVERLAY = """
name: {lab}
engine: "28.5"
hosts:
  node1: {{}}
  node2: {{}}
networks:
  blue:
    driver: overlay
    enable_ipv6: true
    ipam: {{config: [{{subnet: 10.0.9.0/24}}, {{subnet: "2001:db8:9::/64"}}]}}
containers:
  b1: {{host: node1, networks: [blue]}}
  b3: {{host: node1, networks: [blue]}}
  b2: {{host: node2, networks: [blue]}}
"""


def test_overlay_ipv6_live(make_lab):
    """IPv6 on one host's br0; across hosts, as in Docker (moby#47125), nothing: the peer
    entries programmed on vxlan0 are IPv4's alone."""
    lab = "b6ov"
    make_lab(OVERLAY.format(lab=lab))
    assert "inet6 2001:db8:9::2/64 scope global" in in_ns(lab, "b1", "ip", "-6", "addr", "show", "dev", "eth0").stdout
    assert ping6(lab, "b1", "2001:db8:9::3")             # same host, same br0
    assert in_ns(lab, "b1", "ping", "-c", "1", "-W", "2", "10.0.9.4").returncode == 0   # IPv4 crosses
    assert not ping6(lab, "b1", "2001:db8:9::4")         # IPv6 does not
    sandbox = subprocess.run(["ip", "netns", "exec", f"{lab}-node1@ov4096", "ip", "neigh", "show", "nud",
                              "permanent"], capture_output=True, text=True).stdout
    assert "10.0.9.4 dev vxlan0" in sandbox and "2001:db8:9::4" not in sandbox
