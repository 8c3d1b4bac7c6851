"""Mininet at the same N as a comparison: a single Linux-bridge switch with N hosts, built
through Mininet's Python API and stopped with net.stop() (never `mn -c`, which deletes
things Mininet did not make). Mininet puts its switch and veths in the namespace it runs
in, so the whole run happens inside a namespace of ours, removed afterwards."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass

import paths
from memory import run_measured

NETNS = "bnmininet"
PYTHON = "/usr/bin/python3"       # Debian's mininet package installs for the system python


@dataclass
class Mininet:
    n: int
    up_ms: float        # per host: Mininet(...) build + start
    down_ms: float      # per host: net.stop()


def unavailable() -> str | None:
    """Why Mininet cannot be measured here, or None."""
    if not shutil.which("mn") or not shutil.which("mnexec") or not shutil.which("brctl"):
        return "not installed (apt install mininet bridge-utils)"
    if subprocess.run([PYTHON, "-P", "-c", "import mininet.net"], capture_output=True).returncode != 0:
        return f"not installed (no mininet module for {PYTHON})"
    return None


def measure(n: int) -> Mininet:
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    fd, pidfile = tempfile.mkstemp(prefix="bnmininet-pids-")
    os.close(fd)
    try:
        subprocess.run(["ip", "-n", NETNS, "link", "set", "lo", "up"], check=True)
        res = run_measured(["ip", "netns", "exec", NETNS, PYTHON, "-P",
                            os.path.join(paths.BENCH, "mininet_child.py"), str(n), pidfile])
        if res.code != 0:
            raise RuntimeError(f"Mininet N={n} failed ({res.code}): {res.stderr.strip()[-500:]}")
        times = json.loads(res.stdout.strip().splitlines()[-1])
        return Mininet(n, times["build_s"] * 1000 / n, times["stop_s"] * 1000 / n)
    finally:
        _end_nodes(pidfile)
        subprocess.run(["ip", "netns", "del", NETNS], check=False)


def _end_nodes(pidfile: str) -> None:
    """Node shells that outlived a failed run: only the pids the child recorded, and only
    while they still are Mininet's (`mininet:<node>` in their command line)."""
    try:
        with open(pidfile) as f:
            pids = json.load(f)
        os.unlink(pidfile)
    except (OSError, ValueError):
        return
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"mininet:" in f.read():
                    os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
