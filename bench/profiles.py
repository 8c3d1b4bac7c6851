"""A cProfile dump as a short table: the top entries by cumulative time (where the time goes
from the top down) and by own time (which functions burn it), with short file names."""
from __future__ import annotations

import os
import pstats
import sys


def _where(file: str, line: int, func: str) -> str:
    if file == "~":                       # built-ins: pstats keys them by file "~"
        return func
    parts = file.split(os.sep)
    for anchor in ("netlab", "site-packages", f"python{sys.version_info[0]}.{sys.version_info[1]}"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            file = "/".join(parts[i + (anchor != "netlab"):])
            break
    return f"{file}:{line}({func})"


def top(path: str, count: int = 15, key: str = "cumulative") -> str:
    st = pstats.Stats(path)
    column = {"cumulative": 3, "own": 2}[key]
    # the benchmark's own frames (inproc.py) wrap every step: leave them out
    entries = sorted(((k, v) for k, v in st.stats.items() if not k[0].endswith("inproc.py")),
                     key=lambda kv: kv[1][column], reverse=True)[:count]
    lines = [f"{'cum s':>8} {'own s':>8} {'calls':>9}  function"]
    for (file, line, func), (_, ncalls, tottime, cumtime, _) in entries:
        lines.append(f"{cumtime:8.3f} {tottime:8.3f} {ncalls:9d}  {_where(file, line, func)}")
    return "\n".join(lines)


def total_s(path: str) -> float:
    return pstats.Stats(path).total_tt
