"""Names and a port on an IPv6 host address, live on a dual-stack network (28.5): /etc/hosts
lists the container's IPv6 address, the embedded DNS answers AAAA and PTR under ip6.arpa,
and docker-proxy serves a binding published on [::1]."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import needs_root
from ipv6_labs import dual_stack_lab

pytestmark = [needs_root, pytest.mark.root]

LAB = "v6names"
CONTAINERS = """  a: {{networks: [dual]}}
  b:
    networks: [dual]
    ports: ["[::1]:8081:80"]
    command: "{python} -c \\"import socket; s=socket.create_server(('', 80), family=socket.AF_INET6, dualstack_ipv6=True); [c.sendall(b'v6ok') or c.close() for c, _ in iter(s.accept, None)]\\""
"""
PTR_B = "3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"


def netlab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netlab", *args], capture_output=True, text=True)


def dnsquery(container: str, *args: str) -> str:
    return netlab("exec", LAB, container, "--", sys.executable, "-m", "netlab.kernel.dnsquery", *args).stdout


def test_ipv6_names_and_port_live(make_lab):
    from netlab.app.lifecycle import snapshot_topology
    make_lab(dual_stack_lab(LAB, CONTAINERS.format(python=sys.executable)))
    a = snapshot_topology(LAB).container("a")
    hosts = netlab("exec", LAB, "a", "--", "cat", "/etc/hosts").stdout
    assert f"2001:db8:2::2\t{a.hostname}\n" in hosts
    assert "AAAA 2001:db8:2::3 600" in dnsquery("a", "b", "-t", "AAAA")
    assert "A 172.30.0.3 600" in dnsquery("a", "b")
    assert "PTR b.dual. 600" in dnsquery("a", PTR_B, "-t", "PTR")
    with open(f"/run/netlab/{LAB}/agent.json") as f:
        status = json.load(f)
    assert not status["proxy_errors"], status["proxy_errors"]
    assert any(k[3] == "::1" and k[4] == 8081 for k in status["proxies"]), status["proxies"]
    # the host's [::1]:8081 reaches b's port 80 through the proxy (to b's IPv6 address, as
    # configurePortBindingIPv6 picks it for a container with one)
    ask = ("import socket, sys; s=socket.create_connection(('::1', 8081), timeout=3); "
           "sys.stdout.write(s.recv(16).decode())")
    assert netlab("exec", LAB, "node1", "--", sys.executable, "-c", ask).stdout == "v6ok"
