"""The walkthroughs are kept in git without outputs: every code cell has no outputs and
execution_count null, so diffs show only what a person changed."""
from __future__ import annotations

import glob
import json
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def test_the_walkthroughs_are_there():
    names = [os.path.basename(p)[:2] for p in NOTEBOOKS]
    assert names == [f"{i:02d}" for i in range(1, 11)], names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p)[:-6] for p in NOTEBOOKS])
def test_notebook_is_stripped(path):
    with open(path) as f:
        book = json.load(f)
    for i, cell in enumerate(book["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {i} has outputs"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p)[:-6] for p in NOTEBOOKS])
def test_notebook_names_its_own_lab_and_takes_it_down(path):
    """A lab name unique to the notebook and the run (`run_name("nbNN")`: nbNN and the run's
    suffix), and `lab.down()` in the last code cell."""
    with open(path) as f:
        book = json.load(f)
    code = ["".join(c["source"]) for c in book["cells"] if c["cell_type"] == "code"]
    number = os.path.basename(path)[:2]
    assert re.search(rf'run_name\("nb{number}"\)', "\n".join(code)), "no lab named run_name(\"nbNN\")"
    assert code[-1].strip() == "lab.down()"
