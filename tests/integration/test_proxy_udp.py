"""docker-proxy's UDP replies: from 28.0 (moby#48571) a reply leaves from the address the
client wrote to, so a container reaching the host's address on a published UDP port (the
proxy serves it: the DNAT skips traffic from the bridge) gets its answer on a connected
socket; before, the reply left from the address routing picked (the bridge's) and a
connected client dropped it. Both seen on real engines (tests/integration/
test_conformance_reach.py, published UDP ports)."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import needs_root

pytestmark = needs_root

LAB = """
name: {name}
engine: "{engine}"
hosts:
  node1: {{address: 10.10.101.105}}
containers:
  echo:
    ports: ["5353:5353/udp"]
    command: "{python} -c \\"import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 5353)); [s.sendto(d, a) for d, a in iter(lambda: s.recvfrom(512), None)]\\""
  client: {{}}
"""
# a connected UDP socket: the kernel drops datagrams from any other source address
ASK = ("import socket, sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.5); "
       "s.connect(('10.10.101.105', 5353)); answers=0\n"
       "for _ in range(3):\n"
       "    s.send(b'ping')\n"
       "    try: answers += s.recv(512) == b'ping'\n"
       "    except OSError: pass\n"
       "sys.exit(0 if answers else 1)")


@pytest.mark.parametrize("engine,answered", [("20.10", False), ("28.5", True)])
def test_container_to_published_udp_port_on_the_host_address(make_lab, engine, answered):
    name = "pudp" + engine.split(".")[0]
    make_lab(LAB.format(name=name, engine=engine, python=sys.executable))
    proc = subprocess.run([sys.executable, "-m", "netlab", "exec", name, "client", "--", sys.executable, "-c", ASK],
                          capture_output=True, text=True, timeout=30)
    assert (proc.returncode == 0) == answered, proc.stdout + proc.stderr
