#!/usr/bin/env python3
"""`netlab trace` wall time on the demo lab, CLI start included: each case is run as a fresh
`netlab` process N times, and the median printed next to a baseline measured in the same
run, in alternating turns: `netlab --help`, which is Python plus click plus netlab's CLI
module and nothing else (the floor every `netlab` command pays).

    .venv/bin/python bench/trace.py              # 11 runs per case
    .venv/bin/python bench/trace.py --runs 21

Targets (issue 6): live `netlab trace` <= 1.0 s median; `--predict` <= 0.3 s. Needs root for
the live cases; the lab (topologies/demo.yaml renamed `trbench`) is taken down in a finally
block.

The runs may write Python's bytecode cache, as on any machine netlab is installed on (the
warm-up run does): an environment with PYTHONDONTWRITEBYTECODE=1 and no cache yet would
recompile every netlab module on every run, about 0.2 s more."""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, TOP)

LAB = "trbench"
NETLAB = [sys.executable, "-m", "netlab"]
LIVE = [("a1", "a2"), ("a1", "203.0.113.10"), ("a1", "web"), ("outside", "node1:8080")]
# a1 cannot resolve web (another network): by name that trace stops before the probe, so
# it is timed in the lab's view, where the probe is sent and dropped by isolation
FLAGS = {("a1", "web"): ["--no-resolve"]}
TARGET_LIVE, TARGET_PREDICT = 1.0, 0.3


ENV = dict(os.environ)


def run(argv: list[str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one fresh process: on a busy machine the CPU time says what
    the run costs, the wall time what waiting for a CPU added."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=TOP, env=ENV)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout}{proc.stderr}")
    return elapsed, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def medians(cases: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Every case once per turn, turn after turn, so load changes hit all cases alike."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, argv in cases.items():
            times[name].append(run(argv))
    return {name: (statistics.median(w for w, _ in ts), statistics.median(c for _, c in ts))
            for name, ts in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    demo = os.path.join(TOP, "topologies", "demo.yaml")
    with open(demo) as f:
        text = f.read().replace("name: demo", f"name: {LAB}", 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"{LAB}.yaml")
        with open(path, "w") as f:
            f.write(text)
        cases = {"baseline: netlab --help": NETLAB + ["--help"],
                 "--predict a1 web (FILE)": NETLAB + ["trace", path, "a1", "web", "--predict", "--no-resolve"],
                 "--predict outside node1:8080": NETLAB + ["trace", path, "outside", "node1:8080", "--predict"]}
        live = os.geteuid() == 0
        if live:
            cases.update({f"live {src} -> {dst}": NETLAB + ["trace", LAB, src, dst, *FLAGS.get((src, dst), [])]
                          for src, dst in LIVE})
            subprocess.run(NETLAB + ["up", path], check=True, capture_output=True)
            _wait_for_web()
        try:
            medians(cases, 1)                   # warm: bytecode written, page cache filled
            result = medians(cases, args.runs)
        finally:
            if live:
                subprocess.run(NETLAB + ["down", LAB], capture_output=True)
    base = result["baseline: netlab --help"][0]
    print(f"netlab trace on the demo lab: median of {args.runs} runs per case (fresh process each; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"  {'case':34} {'wall':>8}  {'cpu':>7}  {'wall/baseline':>13}")
    for name, (t, cpu) in result.items():
        target = TARGET_PREDICT if "--predict" in name else TARGET_LIVE if name.startswith("live") else None
        verdict = "" if target is None else f"  target <= {target:.1f} s: {'ok' if t <= target else 'MISSED'}"
        print(f"  {name:34} {t * 1000:6.0f} ms {cpu * 1000:5.0f} ms  {t / base:9.2f} x{verdict}")
    if not live:
        print("  (live cases skipped: they need root)")


def _wait_for_web() -> None:
    """The published web server starts with the lab's agent; the TCP case needs it up."""
    from netlab.kernel.probe import tcp_connect
    for _ in range(100):
        if tcp_connect(f"{LAB}-outside", "10.10.101.105", 8080, timeout=0.2):
            return
        time.sleep(0.1)


if __name__ == "__main__":
    main()
