"""The kernel layer writes, reads back and removes a permanent IPv6 neighbour entry as it
does an IPv4 one (NDP's table instead of ARP's)."""
from __future__ import annotations

import subprocess

import pytest
from conftest import needs_root

pytestmark = [needs_root, pytest.mark.root]

NS = "b6nbr"
MAC = "02:42:0a:00:09:04"


def test_ipv6_neighbour_set_read_delete():
    from netlab.kernel.links import Netlink
    from netlab.kernel.observe_l2 import read_l2
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        subprocess.run(["ip", "-n", NS, "link", "add", "d0", "type", "veth", "peer", "name", "d1"], check=True)
        subprocess.run(["ip", "-n", NS, "link", "set", "d0", "up"], check=True)
        with Netlink() as nl:
            nl.set_neighbour(NS, "d0", "2001:db8:9::4", MAC)
            nl.set_neighbour(NS, "d0", "10.0.9.4", MAC)
            _, neighbours, _ = read_l2(nl, NS)
            assert {("d0", "2001:db8:9::4", MAC), ("d0", "10.0.9.4", MAC)} <= neighbours
            shown = subprocess.run(["ip", "-n", NS, "-6", "neigh", "show", "dev", "d0"],
                                   capture_output=True, text=True).stdout
            assert f"2001:db8:9::4 lladdr {MAC} PERMANENT" in shown
            nl.delete_neighbour(NS, "d0", "2001:db8:9::4")
            _, neighbours, _ = read_l2(nl, NS)
            assert ("d0", "2001:db8:9::4", MAC) not in neighbours and ("d0", "10.0.9.4", MAC) in neighbours
    finally:
        subprocess.run(["ip", "netns", "del", NS])
