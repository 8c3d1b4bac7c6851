"""Shared test fixtures.

The whole suite must leave the machine's own namespace as it found it: `machine_guard`
snapshots links, addresses, routes, iptables, nftables and network sysctls at the start of a
session and compares at the end. `make_lab` brings a lab up from YAML text and, after the
test, takes it down and asserts nothing of it is left anywhere."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap

import pytest

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root to create network namespaces")


def _run(*argv: str) -> str:
    if not shutil.which(argv[0]) and not shutil.which(argv[0], path="/usr/sbin:/sbin"):
        return f"({argv[0]} not installed)"
    proc = subprocess.run(argv, capture_output=True, text=True)
    return proc.stdout + proc.stderr


def machine_snapshot() -> dict[str, str]:
    def no_counters(text: str) -> str:
        return "\n".join(re.sub(r"\[\d+:\d+\]", "", line) for line in text.splitlines()
                         if not line.startswith("#"))

    sysctls = []
    for key in ("net/ipv4/ip_forward", "net/ipv4/conf/all/forwarding", "net/ipv4/conf/all/route_localnet",
                "net/ipv4/ip_local_port_range", "net/bridge/bridge-nf-call-iptables",
                "net/ipv6/conf/all/disable_ipv6", "net/ipv4/neigh/default/gc_thresh3"):
        try:
            with open(f"/proc/sys/{key}") as f:
                sysctls.append(f"{key}={f.read().strip()}")
        except OSError:
            sysctls.append(f"{key}: absent")
    return {
        "links": re.sub(r"\s+", " ", _run("ip", "-o", "link", "show")),
        "addresses": _run("ip", "-o", "addr", "show"),
        "routes": _run("ip", "route", "show", "table", "all"),
        "iptables": no_counters(_run("iptables-save")),
        "nft": _run("nft", "list", "ruleset"),
        "sysctls": "\n".join(sysctls),
    }


def _diff(before: dict, after: dict) -> list[str]:
    return [key for key in before if before[key] != after[key]]


@pytest.fixture(scope="session", autouse=True)
def machine_guard():
    """No test may change the machine's own network namespace."""
    if not ROOT:
        yield
        return
    before = machine_snapshot()
    yield
    after = machine_snapshot()
    changed = _diff(before, after)
    # link statistics and ordering noise aside, any change here is a safety bug
    assert not changed, f"the machine's own namespace changed during the tests: {changed}"


def leftovers(lab: str) -> list[str]:
    """Everything of a lab that could survive a broken teardown."""
    found = []
    found += [f"netns {n}" for n in os.listdir("/run/netns") if n.startswith(f"{lab}-")] \
        if os.path.isdir("/run/netns") else []
    found += [f"/etc/netns/{n}" for n in os.listdir("/etc/netns") if n.startswith(f"{lab}-")] \
        if os.path.isdir("/etc/netns") else []
    found += [f"uts {n}" for n in os.listdir("/run/netlab-uts") if n.startswith(f"{lab}-")] \
        if os.path.isdir("/run/netlab-uts") else []
    if os.path.exists(f"/run/netlab/{lab}"):
        found.append(f"/run/netlab/{lab}")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"netlab.agent" in argv and lab.encode() in argv:
            found.append(f"agent process {pid}")
    return found


@pytest.fixture
def make_lab(tmp_path):
    """make_lab(yaml_text) -> (path, UpResult); taken down and checked after the test."""
    from netlab.app.lifecycle import down, up

    made: list[str] = []

    def _make(text: str, name: str = "lab.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        result = up(str(path), say=lambda m: None)
        made.append(result.lab)
        return str(path), result

    yield _make
    for lab in made:
        down(lab, say=lambda m: None)
        left = leftovers(lab)
        assert not left, f"lab {lab} left: {left}"


OWNER = ".netlab-owner-pid"     # in a run's pytest temp dir: the pid of its controlling pytest


def _run_alive(run_dir: str) -> bool:
    """Whether the pytest run that owns this temp dir is still running (another developer's
    or worker's run on the same machine must not lose its labs to our sweep)."""
    try:
        with open(os.path.join(run_dir, OWNER)) as f:
            pid = int(f.read())
    except (OSError, ValueError):
        return False
    return os.path.exists(f"/proc/{pid}")


def _stale_test_labs(this_run: str) -> list[str]:
    """Labs a killed earlier test run left (their file lies in another pytest temp dir
    whose run is over)."""
    import json
    import tempfile
    stale = []
    root = "/run/netlab"
    prefix = f"{tempfile.gettempdir()}/pytest-of-"
    for lab in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        try:
            with open(f"{root}/{lab}/state.json") as f:
                path = json.load(f).get("file", "")
        except (OSError, ValueError):
            continue
        if not path.startswith(prefix) or path.startswith(this_run):
            continue
        run_dir = "/".join(path.split("/")[:4])         # /tmp/pytest-of-USER/pytest-N
        if not _run_alive(run_dir):
            stale.append(lab)
    return stale


def pytest_sessionstart(session):
    """Before any worker starts: take down what a killed test run left, so that its lab
    names (the same as this run's) cannot collide. Only labs built from pytest temp files
    of runs that are over; a run still going keeps its labs and its reference Docker."""
    if not ROOT or hasattr(session.config, "workerinput"):
        return
    from netlab.app.lifecycle import down
    this_run = str(session.config._tmp_path_factory.getbasetemp())
    with open(os.path.join(this_run, OWNER), "w") as f:
        f.write(str(os.getpid()))
    for lab in _stale_test_labs(this_run):
        down(lab, say=lambda m: None)
    # reference Docker engines (tests/integration/engine_oracle.py) record the test process
    # they belong to: only those whose process is gone are taken down, whatever else runs
    try:
        _engine_oracle().sweep()
    except RuntimeError as e:
        print(f"\nconftest: could not take down a stale reference engine: {e}")


def _engine_oracle():
    """tests/integration/engine_oracle.py, as the module the oracle tests import."""
    import importlib.util
    import sys
    if "engine_oracle" not in sys.modules:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration", "engine_oracle.py")
        spec = importlib.util.spec_from_file_location("engine_oracle", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["engine_oracle"] = module
        spec.loader.exec_module(module)
    return sys.modules["engine_oracle"]
