"""Child process: netlab's Python API timed in-process, to separate interpreter start-up and
imports from the work itself. Run as a script with `python -P` (so bench/ is not on sys.path):

    inproc.py [--profile STEP=OUT.prof ...] [--engine E] [--count-writes] FILE LAB OP [OP ...]

OP: up | down. `up` takes the file (under engine E, as `--engine E`), `down` the lab's name
(as `netlab down LAB`: no YAML to parse).

Prints one JSON object: import time, then each step's time and change count, and the
process's peak RSS. With --count-writes, each step also counts the rule-set writes it made
(an iptables/ip6tables restore or an nft transaction) per namespace and family. Only the steps named with --profile run under cProfile (the profiler
slows them, so a profiled step's time is not reported as a measurement)."""
from __future__ import annotations

import argparse
import cProfile
import json
import threading
import time
from collections import Counter

WRITES: Counter = Counter()         # (netns, family) -> rule-set writes in the current step
_COUNTING = threading.Lock()        # restores run in the backend's worker threads


def peak_rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", action="append", default=[], metavar="STEP=OUT")
    ap.add_argument("--engine", default=None)
    ap.add_argument("--count-writes", action="store_true")
    ap.add_argument("file")
    ap.add_argument("lab")
    ap.add_argument("ops", nargs="+", choices=["up", "down"])
    args = ap.parse_args()
    profiled = {int(k): v for k, v in (p.split("=", 1) for p in args.profile)}

    t0 = time.perf_counter()
    from netlab.app.lifecycle import down, up
    out = {"import_s": time.perf_counter() - t0, "steps": []}
    if args.count_writes:
        count_writes()

    def quiet(_msg):   # lock-wait messages; the benchmark runs alone per lab
        pass

    def run(op):
        if op == "up":
            return len(up(args.file, say=quiet, engine=args.engine).changes)
        return len(down(args.lab, say=quiet))

    for step, op in enumerate(args.ops):
        WRITES.clear()
        prof = cProfile.Profile() if step in profiled else None
        t = time.perf_counter()
        if prof:
            prof.enable()
        changed = run(op)
        if prof:
            prof.disable()
            prof.dump_stats(profiled[step])
        out["steps"].append({"op": op, "s": time.perf_counter() - t, "changes": changed, "profiled": bool(prof),
                             "writes": {f"{ns} {family}": k for (ns, family), k in WRITES.items()}})
    out["peak_rss_kb"] = peak_rss_kb()
    print(json.dumps(out))


def count_writes() -> None:
    """Every firewall backend's restore and every nft transaction counted on the way through
    (a counter: nothing measurable added to the step's time)."""
    from netlab.kernel import firewall, system

    def counted(write, family_of):
        def wrapper(self, ns, text, *rest, **kw):
            with _COUNTING:
                WRITES[(ns, family_of(rest, kw))] += 1
            return write(self, ns, text, *rest, **kw)
        return wrapper
    for cls in firewall.BACKENDS.values():
        cls.restore = counted(cls.restore, lambda rest, kw: kw.get("family", rest[0] if rest else "ipv4"))
    if hasattr(system.Kernel, "write_nft"):        # a revision that writes engines' nft tables
        system.Kernel.write_nft = counted(system.Kernel.write_nft, lambda rest, kw: "nft")


if __name__ == "__main__":
    main()
