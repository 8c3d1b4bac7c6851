"""Every walkthrough in notebooks/ runs green, top to bottom, as a reader would run it
(nbclient, the project's venv as kernel, notebooks/ as working directory), and leaves
nothing of its lab behind.

Each notebook names its lab `run_name("<base>")`: the base and a run suffix. The suffix is
set here per test worker ($NETLAB_RUN, from this process's pid), so two workers, or a worker
and a person at a notebook, build labs of different names; the lab this test takes down and
checks for leftovers is the one this run built."""
from __future__ import annotations

import contextlib
import glob
import os
import re

import pytest
from conftest import leftovers, needs_root

from netlab.app.runs import ENV, base36

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
TIMEOUT = 300           # one cell; the slowest brings a two-host overlay up


def base_of(path: str) -> str:
    """The base of a notebook's lab name: `run_name("nbNN")` in its code."""
    with open(path) as f:
        found = re.search(r'run_name\(\\"([a-z0-9]+)\\"\)', f.read())
    assert found, f"{path}: no run_name(\"...\") in it"
    return found.group(1)


@needs_root
@pytest.mark.root
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p)[:-6] for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    name = os.path.basename(path)
    suffix = base36(os.getpid())
    monkeypatch.setenv(ENV, suffix)              # the kernel inherits it
    lab = base_of(path) + suffix
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(book, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": os.path.dirname(path)}})
    try:
        client.execute()
    finally:
        from netlab.app.lab import LAB_DIR
        from netlab.app.lifecycle import down
        down(lab, say=lambda m: None)       # a failed cell must not leave the lab either
        with contextlib.suppress(FileNotFoundError):   # a run's name is new each time: its file goes
            os.unlink(os.path.join(LAB_DIR, f"{lab}.yaml"))
    left = leftovers(lab)
    assert not left, f"{name}: lab {lab} left {left}"
