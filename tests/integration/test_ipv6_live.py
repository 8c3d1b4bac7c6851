"""A dual-stack user network on engine 28.5, live: Docker's IPv6 addresses in the containers,
IPv6 between them and to the bridge's gateway, `up` again a no-op, `verify` without drift."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import needs_root
from ipv6_labs import dual_stack_lab

pytestmark = [needs_root, pytest.mark.root]

LAB = "v6live"
DUAL = dual_stack_lab(LAB, "  a: {networks: [dual]}\n  b: {networks: [dual]}\n",
                      tail="expect:\n  - {from: a, to: b}\n")


def in_ns(name: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", f"{LAB}-{name}", *argv], capture_output=True, text=True)


def ping6(src: str, target: str) -> bool:
    return in_ns(src, "ping", "-6", "-c", "1", "-W", "2", target).returncode == 0


def test_dual_stack_network_live(make_lab):
    from netlab.app.lifecycle import up
    path, _ = make_lab(DUAL)
    for name, address in (("a", "2001:db8:2::2/64"), ("b", "2001:db8:2::3/64")):
        shown = in_ns(name, "ip", "-6", "addr", "show", "dev", "eth0").stdout
        assert f"inet6 {address} scope global" in shown
        assert "default via 2001:db8:2::1 dev eth0" in in_ns(name, "ip", "-6", "route", "show").stdout
    assert ping6("a", "2001:db8:2::3") and ping6("b", "2001:db8:2::2")
    assert ping6("a", "2001:db8:2::1")
    assert not ping6("a", "2001:db8:2::77")         # no such endpoint: the probe can fail
    assert not up(path, say=lambda m: None).changed
    report = subprocess.run([sys.executable, "-m", "netlab", "verify", LAB], capture_output=True, text=True)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "drift" not in report.stdout and "1 passed, 0 failed" in report.stdout
