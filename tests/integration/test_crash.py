"""`kill -9` of `netlab up` at 50 points between its steps: `down` always leaves nothing,
and `up` again always converges to the full lab (a further `up` finds nothing to do)."""
from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

import pytest
from conftest import leftovers, needs_root

pytestmark = [needs_root, pytest.mark.root]
NETLAB = [sys.executable, "-m", "netlab"]
POINTS = 50


def run(*args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(NETLAB + list(args), capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def killed_up(path: str, step: int) -> int:
    """`up` in a forked child (imports already warm) that SIGKILLs itself before `step`."""
    from netlab.app.lifecycle import CRASH_HOOK, up

    def child():
        os.environ[CRASH_HOOK] = str(step)
        up(path, say=lambda m: None)

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    proc.join(60)
    return proc.exitcode


def test_kill_at_fifty_steps(tmp_path):
    lab = "crash"
    f = tmp_path / "lab.yaml"
    f.write_text(f"name: {lab}\nnetworks: {{n1: {{}}, n2: {{internal: true}}}}\ncontainers:\n"
                 "  web: {ports: ['8080:80'], command: 'sleep 1000'}\n"
                 "  a: {networks: [n1, n2]}\n  b: {networks: [n2]}\n  c: {network_mode: 'container:a'}\n"
                 "  d: {network_mode: none}\n  e: {}\n")
    from netlab.app.lifecycle import down, up
    from netlab.model import load_file
    from netlab.plan.planner import build_plan
    steps = len(build_plan(load_file(str(f))).items)
    points = sorted({round(i * (steps - 1) / (POINTS - 1)) for i in range(POINTS)})
    assert len(points) >= min(POINTS, steps)
    try:
        for n, point in enumerate(points):
            assert killed_up(str(f), point) == -9, f"step {point}: up was not killed"
            if n % 5 == 0:
                up(str(f), say=lambda m: None)
                again = up(str(f), say=lambda m: None)
                assert not again.changes, f"kill at step {point}: second up changed {again.changes}"
            down(lab, say=lambda m: None)
            assert not leftovers(lab), f"kill at step {point} of {steps} left {leftovers(lab)}"
        # and once through the real command line, as a user would
        assert run("up", str(f), NETLAB_KILL_BEFORE_STEP="3").returncode == -9
        assert run("down", lab).returncode == 0
    finally:
        run("down", lab)
    assert not leftovers(lab)
