"""Golden bad inputs: each tests/golden/invalid/<case>.yaml sits next to <case>.err, the exact
text `netlab validate` prints for it (str() of the TopologyError).

The .err files name the lab file as `tests/golden/invalid/<case>.yaml`, relative to the
repository root, whatever the directory the tests run from. NETLAB_REGEN=1 rewrites them
from the loader's current output: review the diff before committing it."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from netlab.errors import TopologyError
from netlab.model import load_file

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "golden" / "invalid"
REGEN = os.environ.get("NETLAB_REGEN") == "1"
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): ")


def _cases() -> list[Path]:
    return sorted(CASES.glob("*.yaml"))


def _report(case: Path) -> str:
    """The loader's report for one case, with the file named relative to the repository."""
    try:
        load_file(str(case))
    except TopologyError as e:
        return str(e).replace(str(case), case.relative_to(ROOT).as_posix()) + "\n"
    pytest.fail(f"{case.name} loaded without error; a golden bad input must be rejected")


def test_there_are_enough_cases():
    assert len(_cases()) >= 30


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.stem)
def test_invalid_file(case: Path):
    got = _report(case)
    expected_file = case.with_suffix(".err")
    if REGEN:
        expected_file.write_text(got)
    assert expected_file.exists(), f"{expected_file.name} is missing; run with NETLAB_REGEN=1"
    assert got == expected_file.read_text()

    # what every report must look like, whatever its words
    rel = case.relative_to(ROOT).as_posix()
    lines = got.splitlines()
    numbers = []
    for text in lines:
        m = LINE.match(text)
        assert m and m["file"] == rel, f"not FILE:LINE: ...: {text!r}"
        numbers.append(int(m["line"]))
        assert "Traceback" not in text
    assert numbers == sorted(numbers), "diagnostics must come sorted by line"
    assert len(lines) == len(set(lines)), "the same diagnostic twice"
