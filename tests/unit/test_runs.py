"""Run names for notebooks' labs (netlab.app.runs): a base and a run suffix, from
$NETLAB_RUN or the pid, always a lab name."""
from __future__ import annotations

import pytest

from netlab.app.runs import ENV, base36, run_name
from netlab.errors import LabError


def test_the_suffix_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(ENV, "w1x2")
    assert run_name("nb02") == "nb02w1x2"
    monkeypatch.setenv(ENV, "")
    assert run_name("nb02") == "nb02"


def test_else_from_the_pid_in_base_36(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert base36(0) == "0000" and base36(35) == "000z" and base36(36) == "0010"
    assert run_name("nb02", pid=36 ** 4 + 37) == "nb020011"      # four digits: the pid's last ones
    assert run_name("nb02", pid=1234) != run_name("nb02", pid=1235)
    assert len(run_name("nb02")) == 8


def test_no_lab_name_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(ENV, "alice")
    with pytest.raises(LabError, match="no lab name"):
        run_name("nb02")                          # nine characters
    monkeypatch.setenv(ENV, "Bob!")
    with pytest.raises(LabError, match="letters and digits"):
        run_name("nb02")
