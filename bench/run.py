#!/usr/bin/env python3
"""netlab's benchmarks (issue 8), as one command: prints one table in which every figure
stands next to a baseline measured in the same invocation, and optionally writes it with
the machine's facts and cProfile hotspots to docs/benchmarks.md.

    .venv/bin/python bench/run.py                    # N = 100, 500, 1000 and everything else
    .venv/bin/python bench/run.py --quick            # N = 100 only (each engine at N = 500 still)
    .venv/bin/python bench/run.py --n 200 --skip docker,mininet,profile
    .venv/bin/python bench/run.py --rev HEAD         # measure a committed revision
    .venv/bin/python bench/run.py --report docs/benchmarks.md

Needs root. Every lab is named bn*, taken down in a finally block, and checked to be gone."""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time

import floor
import guard
import labrun
import labs
import machine
import paths
import report
import scenarios
import source
import table
from runner import Netlab, NetlabFailed

PARTS = ("engines", "overlay", "ports", "mininet", "docker", "profile", "startup")


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="100,500,1000", help="container counts, comma-separated (default: %(default)s)")
    ap.add_argument("--quick", action="store_true", help="N = 100 only")
    ap.add_argument("--compare-n", type=int, default=100, help="N of the Mininet and Docker comparison (default: %(default)s)")
    ap.add_argument("--engine-n", type=int, default=500, help="N of `up` under each engine profile (default: %(default)s)")
    ap.add_argument("--engines", default="", help="comma-separated engine profiles (default: all of netlab.engine)")
    ap.add_argument("--skip", default="", help=f"comma-separated parts to leave out: {', '.join(PARTS)}")
    ap.add_argument("--rev", help="measure this git revision (exported) instead of the working tree")
    ap.add_argument("--report", metavar="FILE", help="also write the results into FILE (Markdown)")
    args = ap.parse_args()
    args.ns = [100] if args.quick else sorted({int(x) for x in args.n.split(",") if x})
    args.skip = {s for s in args.skip.split(",") if s}
    if args.skip - set(PARTS):
        ap.error(f"unknown part(s) to skip: {', '.join(sorted(args.skip - set(PARTS)))}")
    return args


def say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def main() -> int:
    args = parse()
    if os.geteuid() != 0:
        say("needs root (network namespaces)")
        return 2
    if guard.leftovers():
        say(f"something of an earlier run is still there: {', '.join(guard.leftovers())}; remove it first")
        return 2
    started, load_at_start = time.monotonic(), machine.load()
    scratch = tempfile.mkdtemp(prefix="bnbench-")
    ctx = scenarios.Context(Netlab(source.environment(args.rev, scratch), scratch), scratch)
    try:
        _measure(ctx, args)
    finally:
        left = guard.leftovers()
        if left:
            ctx.notes.append(f"LEFT BEHIND: {', '.join(left)}")
        else:
            ctx.notes.append("nothing left: no /run/netns/bn*, /etc/netns/bn*, /run/netlab/bn* or bn* agents after the run")
        rows = ctx.rows()
        print(table.text(rows))
        for note in ctx.notes:
            print(f"- {note}")
        if args.report:
            facts = {**machine.facts(),
                     "load average (1/5/15 min)": f"{load_at_start} at start, {machine.load()} at end",
                     "netlab measured": source.describe(args.rev),
                     "command": _command(),
                     "run time": f"{(time.monotonic() - started) / 60:.1f} min"}
            report.write(args.report, report.generated(facts, table.markdown(rows), ctx.notes, ctx.profiles))
            say(f"wrote {args.report}")
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if left else 0


def _command() -> str:
    python = os.path.relpath(sys.executable, paths.REPO)
    line = f"`{shlex.join([python, 'bench/run.py', *sys.argv[1:]])}`"
    return f"`make bench`, which runs {line}" if "MAKELEVEL" in os.environ else line


def _measure(ctx: scenarios.Context, args: argparse.Namespace) -> None:
    runs: dict[int, tuple[labrun.LabRun, floor.Floor]] = {}
    compare_ns = [] if {"mininet", "docker"} <= args.skip else [args.compare_n]
    for n in sorted(set(args.ns) | set(compare_ns)):
        say(f"floor, bridge lab, floor, N={n}")
        fl, run = _between_floors(n, lambda: labrun.measure(ctx.nl, labs.bridge_lab(ctx.workdir, n), f"bnb{n}", n))
        runs[n] = run, fl
        if n in args.ns:
            scenarios.lab_rows(ctx, "bridge", "10 networks, 1 host", run, fl)
        if n in compare_ns:     # right after netlab's run of the same N, under the same load
            say(f"Mininet and Docker, N={n}")
            scenarios.compare(ctx, run, args.skip)
    if "engines" not in args.skip:
        _engines(ctx, args.engine_n, [e for e in args.engines.split(",") if e])
    if "startup" not in args.skip:
        scenarios.startup(ctx)
    if "overlay" not in args.skip:
        _overlay(ctx, args.ns)
    agent_kb = None
    if "ports" not in args.skip:
        say("1000 published ports")
        agent_kb = scenarios.ports(ctx)
    biggest = max(args.ns)
    scenarios.memory(ctx, *runs[biggest], agent_kb)
    if "profile" not in args.skip:
        _profiles(ctx, args.ns)


def _between_floors(n: int, measure):
    """The floor just before and just after `measure()`, averaged: on a shared machine the
    load changes during a run, and this is what the figures in between saw."""
    before = floor.run(n)
    labrun.settle(n)
    result = measure()
    after = floor.run(n)
    labrun.settle(n)
    return floor.average(before, after), result


def _engines(ctx: scenarios.Context, n: int, chosen: list[str]) -> None:
    """`up` of the bridge lab at N under each engine profile (`--engine`), between floors."""
    listed = ctx.nl.python("from netlab.engine import ENGINES; print(' '.join(ENGINES))")
    names = chosen or listed.stdout.split()
    for engine in names:
        lab = "bne" + engine.replace(".", "").replace("-nftables", "n")
        path = labs.bridge_lab(ctx.workdir, n, name=lab)
        say(f"floor, bridge lab under engine {engine}, floor, N={n}")
        try:
            fl, run = _between_floors(n, lambda: labrun.measure(ctx.nl, path, lab, n, engine=engine))
        except NetlabFailed as e:
            scenarios.engine_na(ctx, engine, n, str(e))
            continue
        scenarios.engine_rows(ctx, engine, run, fl)


def _overlay(ctx: scenarios.Context, ns: list[int]) -> None:
    why = scenarios.overlay_unavailable(ctx)
    if why:
        scenarios.overlay_na(ctx, f"`netlab plan` of an overlay lab fails: {why}")
        return
    for n in ns:
        say(f"floor, overlay lab, floor, N={n}")
        try:
            fl, run = _between_floors(n, lambda: labrun.measure(ctx.nl, labs.overlay_lab(ctx.workdir, n), f"bno{n}", n))
        except NetlabFailed as e:
            scenarios.overlay_na(ctx, f"it plans but does not build: {e}")
            return
        scenarios.lab_rows(ctx, "overlay", f"10 overlay networks, {labs.OVERLAY_HOSTS} hosts", run, fl)


def _profiles(ctx: scenarios.Context, ns: list[int]) -> None:
    """up and down at N=500, no-op up at N=1000 (the largest N measured when those are not)."""
    n = 500 if 500 in ns else max(ns)
    say(f"profiles of up and down, N={n}")
    scenarios.profile(ctx, labs.bridge_lab(ctx.workdir, n), f"bnb{n}", n, ["up", "down"], {0: "up", 1: "down"})
    n = 1000 if 1000 in ns else max(ns)
    say(f"profile of no-op up, N={n}")
    scenarios.profile(ctx, labs.bridge_lab(ctx.workdir, n), f"bnb{n}", n, ["up", "up", "down"], {1: "no-op up"})


if __name__ == "__main__":
    sys.exit(main())
