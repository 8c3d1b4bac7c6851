"""The LAN's IPv6 twin and published ports over IPv6, live on engine 28.5: hosts reach the
outside's stand-in internet host over IPv6, containers reach it masqueraded, and a port
published on every address is reached from the outside at the host's IPv6 address: by DNAT
to a dual-stack container, through docker-proxy to an IPv4-only one, and with the userland
proxy off; the host's own [::1] goes through docker-proxy to the container's IPv6 address."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
from conftest import needs_root

pytestmark = [needs_root, pytest.mark.root]

LAB = "b6lan"
SERVE = ("{python} -c \\\"import socket; s=socket.create_server(('', 80), family=socket.AF_INET6, "
         "dualstack_ipv6=True); [c.sendall(b'{word}') or c.close() for c, _ in iter(s.accept, None)]\\\"")
ECHO = ("{python} -c \\\"import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); "
        "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); s.bind(('::', 53)); "
        "[s.sendto(b'u:' + d, a) for d, a in iter(lambda: s.recvfrom(512), None)]\\\"")
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
  u: {{host: node1, networks: [dual], ports: ["8053:53/udp"], command: "{ECHO.format(python=sys.executable)}"}}
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


def serving(container: str, flag: str, port: int) -> None:
    """Wait for a container's server (the agent starts it right after `up`), bounded."""
    for _ in range(100):
        if f":{port} " in in_ns(container, "ss", "-Hn", flag).stdout:
            return
        time.sleep(0.1)
    raise AssertionError(f"{container}: nothing listens on port {port}")


def ask_udp(src: str, address: str, port: int) -> str:
    ask = ("import socket, sys; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(3); "
           f"s.sendto(b'hi', ('{address}', {port})); d, a = s.recvfrom(64); "
           f"sys.stdout.write(d.decode() + ' from ' + a[0])")
    return in_ns(src, sys.executable, "-c", ask).stdout


def test_lan_and_published_ports_over_ipv6(make_lab):
    from netlab.app.lifecycle import up
    path, _ = make_lab(TEXT)
    for name, flag, port in (("a", "-lt", 80), ("b", "-lt", 80), ("c", "-lt", 80), ("u", "-lu", 53)):
        serving(name, flag, port)
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
    # UDP: DNAT from the outside; docker-proxy on [::]:8053 for the host's own ::1, the reply
    # leaving from the address asked (28.0's IPV6_PKTINFO)
    assert ask_udp("outside", NODE1, 8053) == f"u:hi from {NODE1}"
    assert ask_udp("node1", "::1", 8053) == "u:hi from ::1"
    listening = in_ns("node1", "ss", "-Hltn").stdout
    assert "[::]:8080" in listening and "[::]:8081" in listening and "0.0.0.0:8080" in listening
    # the LAN's IPv6 half is read back as planned: up again changes nothing, verify sees no drift
    assert not up(path, say=lambda m: None).changed
    report = subprocess.run([sys.executable, "-m", "netlab", "verify", LAB], capture_output=True, text=True)
    assert "drift" not in report.stdout, report.stdout
