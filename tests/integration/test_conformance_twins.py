"""The [::] twins of published ports in an IPv4-only lab, against real 20.10, 26.1 and 28.5,
with the userland proxy on and off. A lab host of an IPv4 lab has IPv6 on and no IPv6 address
but ::1 (as a new namespace has), which is all dockerd's IsV6Listenable asks: a port
published without a host address is bound on [::] too. What is compared, the engine's
namespace against the lab host's:
- the listening sockets of the published host ports (`ss -Hltn`, `ss -Hlun`);
- tcp handshakes from the host to 127.0.0.1, ::1 and its own address, and from w1 to
  the host's address, for each published tcp port;
- a datagram echoed back through each published udp port, from the host over 127.0.0.1 and
  ::1: the [::] twin reaches the container's IPv4 address (docker-proxy "6 to 4").
Measured so (docker.io 20.10.24, 26.1.5, 28.5.2): with the proxy on, `-p 8080:80` runs two
docker-proxies, `-host-ip 0.0.0.0` and `-host-ip ::`, both to the container's IPv4 address, and
[::1]:8080 reaches the container; with it off nothing listens on [::]. Run:
`pytest tests/integration/test_conformance_twins.py` (root, `make engines` first)."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
from engines import ENGINES, oracle_args, tag
from oracle import Oracle, unavailable
from test_conformance_ipv6 import LISTENER

from netlab.kernel import netns
from netlab.kernel.probe import tcp_connect
from netlab.model import load_file

needs_oracle = pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")

LAB = """networks: {n1: {}}
containers:
  w1: {ports: ["8080:80", "127.0.0.1:8081:81", "8082:82/udp"]}
  w2: {networks: [n1], ports: ["8083:83"]}
"""
COMMANDS = ("network create n1",
            "run -d --name w1 -p 8080:80 -p 127.0.0.1:8081:81 -p 8082:82/udp {image}",
            "run -d --name w2 --network n1 -p 8083:83 {image}")
TCP_PORTS, UDP_PORTS = (8080, 8081, 8083), (8082,)
PROXY = {"on": "", "off": "--userland-proxy=false"}


def listening(ns: str) -> list[str]:
    """`proto address:port` of every listening socket on a published host port."""
    out = []
    for proto, flag in (("tcp", "-Hltn"), ("udp", "-Hlun")):
        shown = subprocess.run(["ip", "netns", "exec", ns, "ss", flag], capture_output=True, text=True,
                               check=True).stdout
        for line in shown.splitlines():
            local = line.split()[3]
            port = int(local.rsplit(":", 1)[1])
            if port in (*TCP_PORTS, *UDP_PORTS):
                out.append(f"{proto} {local}")
    return sorted(out)


def echoed(ns: str, address: str, port: int, tries: int = 3) -> bool:
    """A datagram to address:port comes back (the container's listener echoes it)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with netns.entered(ns):
        sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.settimeout(1.0)
        for _ in range(tries):
            try:
                sock.sendto(b"twin", (address, port))
                return sock.recv(64) == b"twin"
            except TimeoutError:
                continue
            except OSError:
                return False
        return False
    finally:
        sock.close()


def probes(host: str, host4: str, container: str) -> dict[str, bool]:
    jobs = {f"host -> {a}:{p}/tcp": (lambda a=a, p=p: tcp_connect(host, a, p))
            for p in TCP_PORTS for a in ("127.0.0.1", "::1", host4)}
    jobs |= {f"w1 -> host:{p}/tcp": (lambda p=p: tcp_connect(container, host4, p)) for p in TCP_PORTS}
    jobs |= {f"host -> {a}:{p}/udp": (lambda a=a, p=p: echoed(host, a, p))
             for p in UDP_PORTS for a in ("127.0.0.1", "::1")}
    with ThreadPoolExecutor(max_workers=16) as pool:
        done = {k: pool.submit(f) for k, f in jobs.items()}
        return {k: f.result() for k, f in done.items()}


def served(ns_of: dict[str, str], body) -> dict[str, bool]:
    """`body()` while the containers run listener.py --dual on their ports."""
    procs = [subprocess.Popen(["ip", "netns", "exec", ns_of[c], sys.executable, *LISTENER, *ports],
                              stdout=subprocess.PIPE, text=True)
             for c, ports in (("w1", ("80/tcp", "81/tcp", "82/udp")), ("w2", ("83/tcp",)))]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        return body()
    finally:
        for p in procs:
            p.kill()
            p.wait()


def facts(host: str, host4: str, ns_of: dict[str, str]) -> dict[str, object]:
    return {"listening": listening(host), **served(ns_of, lambda: probes(host, host4, ns_of["w1"]))}


@pytest.mark.oracle
@pytest.mark.root
@needs_oracle
@pytest.mark.parametrize("proxy", PROXY)
@pytest.mark.parametrize("engine", ENGINES)
def test_ipv4_lab_twins_match_docker(engine: str, proxy: str, make_lab):
    name = f"a4tw{proxy[:2]}{tag(engine)}"
    oracle = f"f4tw{proxy[:2]}{tag(engine)}"
    daemon = "" if proxy == "on" else "hosts: {node1: {daemon: {userland-proxy: false}}}\n"
    text = f'name: {name}\nengine: "{engine}"\n{daemon}{LAB}'
    try:
        with ExitStack() as stack:
            docker = stack.enter_context(Oracle(oracle, PROXY[proxy], **oracle_args(engine)))
            for command in COMMANDS:
                docker.docker(command)
            path, _ = make_lab(text, f"{name}.yaml")
            topo = load_file(path)
            host = topo.hosts[0]
            ours = facts(host.netns, str(host.address), {c: topo.container(c).netns for c in ("w1", "w2")})
            theirs = facts(docker.netns, docker.engine.address.split("/")[0],
                           {c: docker.attach(c) for c in ("w1", "w2")})
    finally:
        left = [n for n in os.listdir("/run/netns") if n == oracle or n.startswith(f"{oracle}-")]
        assert not left, f"the engine oracle left namespaces {left} behind"
    wrong = [f"{k}: Docker {theirs.get(k)}, netlab {ours.get(k)}" for k in theirs if theirs.get(k) != ours.get(k)]
    assert not wrong, f"engine {engine}, proxy {proxy}: {len(wrong)} differences\n" + "\n".join(wrong)
    twin = [line for line in theirs["listening"] if re.match(r"\w+ \[::\]:", line)]     # type: ignore[union-attr]
    # the measured truth, pinned: a twin on [::] for each port on every address, proxy on only
    assert twin == (["tcp [::]:8080", "tcp [::]:8083", "udp [::]:8082"] if proxy == "on" else [])
    assert theirs["host -> ::1:8082/udp"] is (proxy == "on")
