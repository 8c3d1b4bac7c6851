"""The real Docker engines the conformance tests compare netlab with, one per netlab engine
profile: 20.10 is the machine's Debian docker.io (`make test-system`), 26.1 and 28.5 are
Debian's trixie and sid docker.io unpacked by `make engines` (scripts/fetch-engines), found
through its manifest.json ($NETLAB_ENGINES, else /var/cache/netlab/engines).

A test takes `engine` as a parameter (`@pytest.mark.parametrize("engine", ENGINES)`), hands
`oracle_args(engine)` to the Oracle and `engine` itself to netlab (`load_text(..., engine=)`),
and names what it makes with `tag(engine)` so that the engines' runs of one scenario can go
side by side under pytest-xdist. A missing engine fails the test with what to run: `make
test` fetches them first, so a skip would only hide a broken setup."""
from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ENGINES = ("20.10", "26.1", "28.5")
CACHE = Path(os.environ.get("NETLAB_ENGINES", "/var/cache/netlab/engines"))
SYSTEM_DOCKERD = "/usr/sbin/dockerd"     # Debian's docker.io 20.10 (bookworm)


def tag(engine: str) -> str:
    """A short name part for the engine ("20", "26", "28"): lab names have 8 characters."""
    return engine.split(".")[0]


@functools.cache
def _manifest() -> dict:
    path = CACHE / "manifest.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise LookupError(f"{path} is missing or unreadable ({e}): run `make engines` "
                          f"(scripts/fetch-engines) first") from None


@functools.cache
def _version(dockerd: str) -> str:
    out = subprocess.run([dockerd, "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"version (\d+\.\d+)", out)
    return m.group(1) if m else f"? ({out.strip() or 'no output'})"


def oracle_args(engine: str) -> dict[str, str | None]:
    """dockerd, containerd and cli for the Oracle: the real engine behind netlab's profile.
    Fails the test, saying what to run, when that engine is not here or is another version."""
    try:
        if engine == "20.10":
            args: dict[str, str | None] = {"dockerd": SYSTEM_DOCKERD, "containerd": None, "cli": None}
        else:
            entry = _manifest()["engines"].get(engine)
            if entry is None:
                raise LookupError(f"{CACHE / 'manifest.json'} has no engine {engine}: run `make engines`")
            args = {"dockerd": entry["dockerd"], "containerd": entry["containerd"], "cli": entry["docker"]}
    except LookupError as e:
        pytest.fail(f"engine {engine}: {e}", pytrace=False)
    dockerd = args["dockerd"]
    assert dockerd is not None
    if not os.access(dockerd, os.X_OK):
        pytest.fail(f"engine {engine}: {dockerd} is not there: run `make test-system engines`", pytrace=False)
    if _version(dockerd) != engine:
        pytest.fail(f"engine {engine}: {dockerd} is Docker {_version(dockerd)}", pytrace=False)
    return args
