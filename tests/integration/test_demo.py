"""`netlab demo` (what `make demo` runs) works and leaves nothing behind."""
from __future__ import annotations

import filecmp
import os
import subprocess
import sys

import pytest
from conftest import leftovers, needs_root

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def test_shipped_demo_is_the_topologies_file():
    assert filecmp.cmp(f"{TOP}/topologies/demo.yaml", f"{TOP}/netlab/data/demo.yaml", shallow=False)


@needs_root
@pytest.mark.root
def test_demo_runs_and_cleans_up(tmp_path):
    picture = tmp_path / "path.svg"
    proc = subprocess.run([sys.executable, "-m", "netlab", "demo", "-o", str(picture)],
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "reply     a1 -> a2" in out
    assert "no reply  a1 -> web" in out
    assert "HTTP/1.0 200 OK" in out
    assert "FAIL" not in out and out.count("pass ") == 5
    # the traced packet: DNAT in the host's DOCKER chain, delivered to web, as predicted
    trace = out.split("== netlab trace", 1)[1].split("== netlab graph", 1)[0]
    assert "-j DNAT --to-destination 172.17.0.2:80" in trace and "NAT DNAT:" in trace, trace
    assert "delivered" in trace and "prediction: agrees with the observation" in trace, trace
    assert f"drawn in {picture}" in out
    assert picture.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert not leftovers("demo")
