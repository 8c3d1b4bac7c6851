"""`netlab demo`: the built-in lab after the seed walkthrough — up, look, ping, verify, trace
one packet, draw its path, down."""
from __future__ import annotations

import os
import socket
import tempfile
import time

from ..kernel import netns, probe
from ..kernel.firewall import save
from .lifecycle import down, snapshot_topology, up
from .verify import check


def demo_file() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "demo.yaml")


def http_get(ns: str, address: str, port: int) -> str:
    """The status line of GET /, once the server accepts (it may still be starting)."""
    if not probe.tcp_connect(ns, address, port):
        return "failed: no connection"
    with netns.entered(ns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(3)
        sock.connect((address, port))
        sock.sendall(f"GET / HTTP/1.0\r\nHost: {address}\r\n\r\n".encode())
        return sock.recv(200).split(b"\r\n", 1)[0].decode(errors="replace")
    except OSError as e:
        return f"failed: {e.strerror or e}"
    finally:
        sock.close()


def default_picture() -> str:
    return os.path.join(tempfile.gettempdir(), "netlab-demo-trace.svg")


def run_demo(keep: bool = False, echo=print, picture: str | None = None) -> None:
    path = demo_file()
    echo(f"== netlab demo: building the built-in lab ({path})")
    t0 = time.perf_counter()
    result = up(path, say=echo)
    echo(f"   {len(result.changes)} changes in {time.perf_counter() - t0:.2f} s")
    try:
        topo = snapshot_topology(result.lab)
        _show(topo, echo)
        _pings(topo, echo)
        _trace_and_draw(topo, echo, picture or default_picture())
    finally:
        if not keep:
            removed = down(result.lab, say=echo)
            echo(f"== down: removed {len(removed)} namespaces; nothing of lab {result.lab!r} is left")
        else:
            echo(f"== the lab stays up: `netlab exec {result.lab} a1 -- ip addr`, then `netlab down {result.lab}`")


def _show(topo, echo) -> None:
    host = topo.hosts[0]
    echo(f"== what `docker run` would have built on {host.name} (netns {host.netns}):")
    for seg in topo.segments_on(host.name):
        members = [c for c in topo.containers if c.attachment(seg.network)]
        echo(f"   {seg.device:16} {seg.network:8} {seg.subnet}  gateway {seg.gateway}  "
             f"containers: {', '.join(c.name for c in members) or '-'}")
    for c in topo.containers:
        for att in c.attachments:
            echo(f"   {c.name:6} netns {c.netns:12} {att.ifname} {att.address} mac {att.mac} "
                 f"<-veth-> {att.host_ifname} on {att.device}")
    echo(f"== iptables nat table of {host.name} (the DNAT for -p 8080:80 and the MASQUERADEs):")
    for line in save(host.netns).splitlines():
        if line.startswith("-A") and ("DNAT" in line or "MASQUERADE" in line):
            echo(f"   {line}")


def _pings(topo, echo) -> None:
    a2 = topo.container("a2").attachments[0].address.ip
    web = topo.container("web").attachments[0].address.ip
    host = topo.hosts[0]
    probes = [
        ("a1 -> a2 (same user network)", probe.ping, "demo-a1", str(a2)),
        ("solo -> web (both on docker0)", probe.ping, "demo-solo", str(web)),
        ("a1 -> web (other network: DOCKER-ISOLATION drops it)", probe.ping, "demo-a1", str(web)),
        ("a1 -> 203.0.113.10 (MASQUERADE to the host's address)", probe.ping, "demo-a1", "203.0.113.10"),
    ]
    results = probe.run_all([(fn, ns, addr) for _, fn, ns, addr in probes])
    echo("== pings")
    for (label, *_), ok in zip(probes, results):
        echo(f"   {'reply' if ok else 'no reply':9} {label}")
    echo(f"== outside -> {host.address}:8080 (published port, DNAT to web:80): "
         f"{http_get(topo.outside_netns, str(host.address), 8080)}")
    echo("== netlab verify (the lab file's expect: entries)")
    for o in check(topo):
        e = o.expectation
        echo(f"   {'pass' if o.ok else 'FAIL'}  {e.source} -> {o.target} {e.proto}: "
             f"expected {'ok' if e.ok else 'blocked'}, saw {'ok' if o.seen else 'blocked'}")


def _trace_and_draw(topo, echo, picture: str) -> None:
    """What netlab is for: one packet to the published port, every hop, rule and rewrite,
    observed beside the prediction; then the lab and that path drawn."""
    from ..errors import NetlabError
    from ..graph import save, trace_graph
    from ..trace.report import render
    from .observe_lab import live_graph
    from .tracing import live_trace
    host = topo.hosts[0]
    echo(f"== netlab trace {topo.name} outside {host.name}:8080 (the published port: DNAT to web:80)")
    t = live_trace(topo.name, "outside", f"{host.name}:8080")
    for line in render(t).splitlines():
        echo(f"   {line}")
    try:
        lab = live_graph(topo.name)
        save(picture, lab, trace_graph(t, lab))
    except NetlabError as e:               # a picture is a bonus: the demo goes on without it
        echo(f"== netlab graph: not drawn ({e})")
        return
    echo(f"== netlab graph: the lab and this packet's path are drawn in {picture}")
