"""The LAN's IPv6 twin and published ports over IPv6, live on engine 28.5: hosts reach the
outside's stand-in internet host over IPv6, containers reach it masqueraded, and a port
published on every address is reached from the outside at the host's IPv6 address: by DNAT
to a dual-stack container, through docker-proxy to an IPv4-only one, and with the userland
proxy off; the host's own [::1] goes through docker-proxy to the container's IPv6 address."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import needs_root

pytestmark = [needs_root, pytest.mark.root]

LAB = "b6lan"
SERVE = ("{python} -c \\\"import socket; s=socket.create_server(('', 80), family=socket.AF_INET6, "
         "dualstack_ipv6=True); [c.sendall(b'{word}') or c.close() for c, _ in iter(s.accept, None)]\\\"")
TEXT = f"""
name: {LAB}
engine: "28.5"
hosts:
  node1: {{}}
  node2: {{daemon: {{userland-proxy: false}}}}
networks:
  dual:
    enable_ipv6: true
    ipam: {{config: [{{subnet: 172.30.0.0/24}}, {{subnet: "2001:db8:2::/64"}}]}}
  v4: {{subnet: 172.31.0.0/24}}
containers:
  a: {{host: node1, networks: [dual], ports: ["8080:80"], command: "{SERVE.format(python=sys.executable, word='a')}"}}
  b: {{host: node1, networks: [v4], ports: ["8081:80"], command: "{SERVE.format(python=sys.executable, word='b')}"}}
  c: {{host: node2, networks: [dual], ports: ["8080:80"], command: "{SERVE.format(python=sys.executable, word='c')}"}}
"""
NODE1, NODE2 = "2001:db8:a:101::105", "2001:db8:a:101::106"


def in_ns(name: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", f"{LAB}-{name}", *argv], capture_output=True, text=True)


def ping6(src: str, target: str) -> bool:
    return in_ns(src, "ping", "-6", "-c", "1", "-W", "2", target).returncode == 0


def fetch(src: str, address: str, port: int) -> str:
    ask = (f"import socket, sys; s=socket.create_connection(('{address}', {port}), timeout=3); "
           "sys.stdout.write(s.recv(16).decode())")
    return in_ns(src, sys.executable, "-c", ask).stdout


def test_lan_and_published_ports_over_ipv6(make_lab):
    make_lab(TEXT)
    assert f"inet6 {NODE1}/64 scope global" in in_ns("node1", "ip", "-6", "addr", "show", "dev", "eth0").stdout
    assert "default via 2001:db8:a:101::254 dev eth0" in in_ns("node1", "ip", "-6", "route").stdout
    assert ping6("outside", NODE1) and ping6("outside", NODE2)
    assert ping6("node1", "2001:db8:ff::10")
    assert ping6("a", "2001:db8:ff::10")          # out through the host, masqueraded
    assert not ping6("outside", "2001:db8:a:101::77")   # nobody there: the probe can fail
    # from the outside at each host's IPv6 address
    assert fetch("outside", NODE1, 8080) == "a"   # DNAT to a's IPv6 address
    assert fetch("outside", NODE1, 8081) == "b"   # docker-proxy on [::]:8081 to b's IPv4 address
    assert fetch("outside", NODE2, 8080) == "c"   # userland proxy off: DNAT alone
    assert fetch("outside", NODE2, 8081) == ""    # nothing published there
    # the host's own loopback is not DNATed: docker-proxy on [::]:8080 serves it
    assert fetch("node1", "::1", 8080) == "a"
    listening = in_ns("node1", "ss", "-Hltn").stdout
    assert "[::]:8080" in listening and "[::]:8081" in listening and "0.0.0.0:8080" in listening
