"""The multi-host examples come up, keep their `expect:` promises, and go without a trace."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import needs_root

pytestmark = [needs_root, pytest.mark.root]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("example", ["overlay.yaml", "macvlan.yaml"])
def test_example_keeps_its_promises(make_lab, example):
    with open(os.path.join(ROOT, "topologies", example)) as f:
        _, result = make_lab(f.read(), name=example)
    proc = subprocess.run([sys.executable, "-m", "netlab", "verify", result.lab], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout
