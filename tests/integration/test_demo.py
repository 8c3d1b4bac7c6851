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
def test_demo_runs_and_cleans_up():
    proc = subprocess.run([sys.executable, "-m", "netlab", "demo"], capture_output=True, text=True, timeout=120)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "reply     a1 -> a2" in out
    assert "no reply  a1 -> web" in out
    assert "HTTP/1.0 200 OK" in out
    assert "FAIL" not in out and out.count("pass ") == 5
    assert not leftovers("demo")
