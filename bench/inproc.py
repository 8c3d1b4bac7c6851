"""Child process: netlab's Python API timed in-process, to separate interpreter start-up and
imports from the work itself. Run as a script with `python -P` (so bench/ is not on sys.path):

    inproc.py [--profile STEP=OUT.prof ...] FILE LAB OP [OP ...]     OP: up | down

`up` takes the file, `down` the lab's name (as `netlab down LAB`: no YAML to parse).

Prints one JSON object: import time, then each step's time and change count, and the
process's peak RSS. Only the steps named with --profile run under cProfile (the profiler
slows them, so a profiled step's time is not reported as a measurement)."""
from __future__ import annotations

import argparse
import cProfile
import json
import time


def peak_rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", action="append", default=[], metavar="STEP=OUT")
    ap.add_argument("file")
    ap.add_argument("lab")
    ap.add_argument("ops", nargs="+", choices=["up", "down"])
    args = ap.parse_args()
    profiled = {int(k): v for k, v in (p.split("=", 1) for p in args.profile)}

    t0 = time.perf_counter()
    from netlab.app.lifecycle import down, up
    out = {"import_s": time.perf_counter() - t0, "steps": []}

    def quiet(_msg):   # lock-wait messages; the benchmark runs alone per lab
        pass

    def run(op):
        if op == "up":
            return len(up(args.file, say=quiet).changes)
        return len(down(args.lab, say=quiet))

    for step, op in enumerate(args.ops):
        prof = cProfile.Profile() if step in profiled else None
        t = time.perf_counter()
        if prof:
            prof.enable()
        changed = run(op)
        if prof:
            prof.disable()
            prof.dump_stats(profiled[step])
        out["steps"].append({"op": op, "s": time.perf_counter() - t, "changes": changed, "profiled": bool(prof)})
    out["peak_rss_kb"] = peak_rss_kb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
