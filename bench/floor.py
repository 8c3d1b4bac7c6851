"""The floor: /work/shared/bench/netlink_floor.py, the least work one process can do to give
N namespaces an eth0 on a bridge. It runs just before and just after each netlab measurement
of the same N, so that both see the same machine load; netlab's figures are divided by the
mean of the two, and the two are shown, as a measure of how noisy the machine was."""
from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
from dataclasses import dataclass

import paths
from memory import run_measured

# The floor's own default prefix ("floor") could collide with another developer's run and
# would escape the bn* leftover check, so it runs under a bn prefix of ours.
PREFIX = "bnfl"
LINE = re.compile(r"build ([\d.]+) ms/endpoint, teardown ([\d.]+) ms/endpoint")


@dataclass
class Floor:
    n: int
    build_ms: float        # per endpoint
    teardown_ms: float     # per endpoint
    peak_rss_kb: int       # of the floor process, the memory baseline
    builds: tuple[float, ...] = ()      # the runs averaged, when more than one
    teardowns: tuple[float, ...] = ()

    def build_text(self) -> str:
        return f"floor build {self.build_ms:.2f} ms/ep" + _spread(self.builds)

    def teardown_text(self) -> str:
        return f"floor teardown {self.teardown_ms:.3f} ms/ep" + _spread(self.teardowns, 3)


def _spread(values: tuple[float, ...], digits: int = 2) -> str:
    return f" ({' / '.join(f'{v:.{digits}f}' for v in values)})" if len(values) > 1 else ""


def average(*runs: Floor) -> Floor:
    builds, teardowns = tuple(r.build_ms for r in runs), tuple(r.teardown_ms for r in runs)
    return Floor(runs[0].n, sum(builds) / len(runs), sum(teardowns) / len(runs),
                 max(r.peak_rss_kb for r in runs), builds, teardowns)


def script() -> str:
    path = paths.shared("bench", "netlink_floor.py")
    if not os.path.isfile(path):
        raise SystemExit(f"bench: the floor script {path} is missing; set NETLAB_SHARED to the shared/ folder")
    return path


def run(n: int) -> Floor:
    # The script's CLI takes only N; calling its main() lets us give the bn prefix. The
    # venv's interpreter runs it so that floor and netlab use the same pyroute2.
    code = ("import importlib.util, sys; s = importlib.util.spec_from_file_location('floor', sys.argv[1]); "
            "m = importlib.util.module_from_spec(s); s.loader.exec_module(m); m.main(int(sys.argv[2]), sys.argv[3])")
    res = run_measured([sys.executable, "-c", code, script(), str(n), PREFIX])
    m = LINE.search(res.stdout)
    if res.code != 0 or not m:
        _remove_pins()
        raise RuntimeError(f"floor N={n} failed ({res.code}): {res.stdout}{res.stderr}")
    return Floor(n, float(m[1]), float(m[2]), res.peak_rss_kb)


def _remove_pins() -> None:
    """A floor that died leaves its namespaces pinned; they carry our prefix, so remove them."""
    for pin in glob.glob(f"/run/netns/{PREFIX}*"):
        subprocess.run(["ip", "netns", "del", os.path.basename(pin)], capture_output=True)
