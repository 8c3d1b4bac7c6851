"""Every walkthrough in notebooks/ runs green, top to bottom, as a reader would run it
(nbclient, the project's venv as kernel, notebooks/ as working directory), and leaves
nothing of its lab behind."""
from __future__ import annotations

import glob
import os
import re

import pytest
from conftest import leftovers, needs_root

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
TIMEOUT = 300           # one cell; the slowest brings a two-host overlay up


def lab_of(path: str) -> str:
    """The lab a notebook makes: `name="nbNN"` in its Lab(...) call."""
    with open(path) as f:
        found = re.search(r'name=\\"(nb\d\d)\\"', f.read())
    assert found, f"{path}: no Lab(..., name=\"nbNN\") in it"
    return found.group(1)


@needs_root
@pytest.mark.root
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p)[:-6] for p in NOTEBOOKS])
def test_notebook_runs(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    name = os.path.basename(path)
    lab = lab_of(path)
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(book, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": os.path.dirname(path)}})
    try:
        client.execute()
    finally:
        from netlab.app.lifecycle import down
        down(lab, say=lambda m: None)       # a failed cell must not leave the lab either
    left = leftovers(lab)
    assert not left, f"{name}: lab {lab} left {left}"
