"""Running a command with its wall time and peak memory, and reading a live process's peak.

wait4() hands back the child's rusage, whose ru_maxrss is that process's peak RSS (kB), so
no /usr/bin/time wrapper is needed; a daemon such as the lab's agent is still running when
we look, so its peak comes from /proc/<pid>/status (VmHWM)."""
from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_kb: int


def run_measured(argv: list[str], env: dict | None = None, cwd: str | None = None) -> Result:
    # Output goes to files, not pipes: we reap the child with wait4 ourselves, so nothing
    # would drain a pipe, and `netlab up` prints a line per change (~9 per container).
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Result(proc.returncode, out.read(), err.read(), wall, usage.ru_maxrss)


def vmhwm_kb(pid: int) -> int | None:
    """Peak resident set of a running process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
