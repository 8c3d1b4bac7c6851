"""Each benchmark of issue 8 as rows of the table: it measures, picks its baseline from the
same invocation, and states its target (recorded, never asserted)."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

import docker
import guard
import labrun
import labs
import mininet
from floor import Floor
from labrun import LabRun
from memory import run_measured, vmhwm_kb
from runner import Netlab
from table import Row, verdict

SECTIONS = ("start-up", "bridge", "engines", "overlay", "ports", "memory", "compare")
OVERLAY_NA = "n/a (overlay driver not available)"


@dataclass
class Context:
    nl: Netlab
    workdir: str
    sections: dict[str, list[Row]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, tuple[str, float]] = field(default_factory=dict)   # title -> (.prof, seconds)

    def rows(self) -> list[Row]:
        return [r for s in SECTIONS for r in self.sections[s]]


def ms(seconds: float, n: int) -> float:
    return seconds * 1000 / n


def faster(baseline: float, ours: float) -> str:
    r = baseline / ours
    return f"{r:.1f} x faster" if r >= 1 else f"{1 / r:.1f} x slower"


def mb(kb: float) -> str:
    return f"{kb / 1024:.0f} MB"


def startup(ctx: Context, repeat: int = 5) -> None:
    """Interpreter start-up and the imports of `netlab up`: what every CLI figure carries on
    top of the work (the API figures do not)."""
    bare = min(run_measured([sys.executable, "-c", "pass"]).wall_s for _ in range(repeat))
    imports = min(ctx.nl.python("import netlab.cli, netlab.app.lifecycle").wall_s for _ in range(repeat))
    ctx.sections["start-up"].append(Row(
        f"start-up: python + imports of `netlab up` (best of {repeat})", "", f"{imports:.3f} s", "",
        f"`python -c pass` {bare:.3f} s", f"{imports / bare:.1f} x", ""))


def lab_rows(ctx: Context, section: str, title: str, run: LabRun, fl: Floor) -> None:
    n, rows = run.n, ctx.sections[section]
    up_cli, up_api = ms(run.up_cli, n), ms(run.up_api, n)
    judged = section == "bridge" and n >= 500
    rows.append(Row(f"up, {title}", str(n), f"{up_cli:.2f} ms/ctr", f"{up_api:.2f} ms/ctr",
                    fl.build_text(), f"{up_cli / fl.build_ms:.2f} x floor",
                    f"{up_api / fl.build_ms:.2f} x floor", "<= 1.3 x floor" if judged else "",
                    verdict(up_cli / fl.build_ms <= 1.3, up_api / fl.build_ms <= 1.3) if judged else ""))
    down_cli, down_api = ms(run.down_cli, n), ms(run.down_api, n)
    clean = not run.left
    rows.append(Row(f"down, {title}" + ("" if clean else f" (LEFT: {', '.join(run.left[:3])})"), str(n),
                    f"{down_cli:.2f} ms/ctr", f"{down_api:.2f} ms/ctr",
                    fl.teardown_text(), f"{down_cli / fl.teardown_ms:.1f} x floor",
                    f"{down_api / fl.teardown_ms:.1f} x floor", "<= 1 ms/ctr, nothing left",
                    verdict(down_cli <= 1 and clean, down_api <= 1 and clean)))
    judged = section == "bridge" and n == 1000
    rows.append(Row(f"no-op up, {title}", str(n), f"{run.noop_cli:.2f} s", f"{run.noop_api:.2f} s",
                    f"full up {run.up_cli:.2f} s", f"{run.noop_cli / run.up_cli:.2f} x up",
                    f"{run.noop_api / run.up_api:.2f} x up", "<= 1 s" if judged else "",
                    verdict(run.noop_cli <= 1, run.noop_api <= 1) if judged else ""))


def engine_rows(ctx: Context, engine: str, run: LabRun, fl: Floor) -> None:
    """`up` of the bridge lab under one engine profile, against the floor; the engine's rules
    cost one write per namespace and family (iptables, ip6tables, or one nft transaction)."""
    n = run.n
    up_cli, up_api = ms(run.up_cli, n), ms(run.up_api, n)
    most = max(run.writes.values(), default=0)
    families: dict[str, int] = {}
    for key in run.writes:
        family = key.rsplit(" ", 1)[1]
        families[family] = families.get(family, 0) + 1
    spread = ", ".join(f"{k} in {v} netns" for k, v in sorted(families.items())) or "none"
    ctx.sections["engines"].append(Row(
        f"up, `--engine {engine}`, 10 networks, 1 host (rule-set writes: {spread}, at most {most} each)",
        str(n), f"{up_cli:.2f} ms/ctr", f"{up_api:.2f} ms/ctr", fl.build_text(),
        f"{up_cli / fl.build_ms:.2f} x floor", f"{up_api / fl.build_ms:.2f} x floor",
        "<= 1.3 x floor, 1 write per netns and family",
        verdict(up_cli / fl.build_ms <= 1.3 and most <= 1, up_api / fl.build_ms <= 1.3 and most <= 1)))


def engine_na(ctx: Context, engine: str, n: int, why: str) -> None:
    ctx.sections["engines"].append(Row(f"up, `--engine {engine}`, 10 networks, 1 host", str(n),
                                       f"failed: {why}", "", "", "", "", "<= 1.3 x floor", "n/a"))


def overlay_unavailable(ctx: Context) -> str | None:
    """`netlab plan` of a small overlay lab: the driver validates and plans, or says why not."""
    res = ctx.nl.cli("plan", labs.overlay_lab(ctx.workdir, 8))
    if res.code == 0:
        return None
    return (res.stderr or res.stdout).strip().splitlines()[-1] if (res.stderr or res.stdout).strip() else "plan failed"


def overlay_na(ctx: Context, why: str) -> None:
    ctx.sections["overlay"].append(Row(f"up/down, 10 overlay networks, {labs.OVERLAY_HOSTS} hosts", "",
                                       OVERLAY_NA, "", "", "", "", "", "n/a"))
    ctx.notes.append(f"overlay: {why}")


def ports(ctx: Context, count: int = 1000, repeat: int = 3) -> int | None:
    """`up` of one container publishing `count` ports against the same lab without ports; the
    ports' cost is the difference, so both are small and the best of `repeat` runs is taken.
    Returns the agent's peak RSS while serving the ports."""
    best, agent_kb = {}, None
    for k in (0, count):
        path, lab = labs.ports_lab(ctx.workdir, k), f"bnp{k}"
        for _ in range(repeat):
            with guard.lab(ctx.nl, lab):
                cli = ctx.nl.cli("up", path, check=True)
                if k:
                    agent_kb = _check_ports_served(ctx, lab, count)
                ctx.nl.cli("down", lab, check=True)
            with guard.lab(ctx.nl, lab):
                api = ctx.nl.api(path, lab, ["up", "down"])
            times = (cli.wall_s, api["steps"][0]["s"])
            best[k] = tuple(map(min, zip(best.get(k, times), times)))
            labrun.settle(4)
    (base_cli, base_api), (cli, api) = best[0], best[count]
    ctx.sections["ports"].append(Row(
        f"{count} published ports on one container (`up` minus the same lab without ports, best of {repeat})",
        "1", f"{cli - base_cli:.2f} s (of {cli:.2f})", f"{api - base_api:.2f} s (of {api:.2f})",
        f"no ports: up {base_cli:.2f} s CLI, {base_api:.2f} s API", f"{cli / base_cli:.1f} x",
        f"{api / base_api:.1f} x", "<= 0.5 s", verdict(cli - base_cli <= 0.5, api - base_api <= 0.5)))
    return agent_kb


def _check_ports_served(ctx: Context, lab: str, count: int) -> int | None:
    """`up` returns once the agent says it has settled: check it serves every port then."""
    served = len(ctx.nl.agent_status(lab).get("proxies", []))
    if served != count:
        ctx.notes.append(f"ports: the agent served {served} of {count} ports when `up` returned")
    pid = ctx.nl.agent_pid(lab)
    return vmhwm_kb(pid) if pid else None


def memory(ctx: Context, run: LabRun, fl: Floor, ports_agent_kb: int | None) -> None:
    rows, n, base = ctx.sections["memory"], str(run.n), f"floor process {mb(fl.peak_rss_kb)}"

    def ratio(kb):
        return f"{kb / fl.peak_rss_kb:.1f} x floor" if kb else ""
    rows.append(Row("peak RSS: netlab process (CLI: largest of up/no-op/down; API: up+up+down)", n,
                    mb(run.cli_peak_kb), mb(run.api_peak_kb), base, ratio(run.cli_peak_kb), ratio(run.api_peak_kb)))
    agent = run.agent_peak_kb or 0
    rows.append(Row("peak RSS: the lab's agent", n, mb(agent) if agent else "not running", "", base, ratio(agent)))
    if ports_agent_kb:
        rows.append(Row("peak RSS: the agent serving 1000 published ports", "1", mb(ports_agent_kb), "", base,
                        ratio(ports_agent_kb)))
    total = run.cli_peak_kb + agent
    rows.append(Row("peak RSS: all netlab processes (CLI + agent)", n, mb(total), mb(run.api_peak_kb + agent),
                    base, ratio(total), ratio(run.api_peak_kb + agent), "<= 150 MB" if run.n == 1000 else "",
                    verdict(total <= 150 * 1024, run.api_peak_kb + agent <= 150 * 1024) if run.n == 1000 else ""))


def compare(ctx: Context, run: LabRun, skip: set[str]) -> None:
    """Mininet and Docker building the same number of endpoints; ratios are how many times
    faster netlab is per container (CLI: each tool's own command line; API: in-process)."""
    n, rows = run.n, ctx.sections["compare"]
    up_cli, up_api, down_cli, down_api = (ms(s, n) for s in (run.up_cli, run.up_api, run.down_cli, run.down_api))
    tools = [("Mininet", "mininet", mininet, "1 Linux bridge, Python API; stop: net.stop()", 3),
             ("Docker", "docker", docker, "`docker run -d` each; down: one `docker rm -f`", 50)]
    for name, key, tool, how, target in tools:
        why = "skipped (--skip)" if key in skip else tool.unavailable()
        if why is None:
            try:
                m = tool.measure(n)
            except Exception as e:   # a comparison failing must not lose netlab's own figures
                why = f"failed: {e}"
        if why is not None:
            rows.append(Row(f"up vs {name}", str(n), "", "", f"{name}: {why}", "", "", f">= {target} x faster", "n/a"))
            continue
        build, teardown = m.up_ms, m.down_ms
        rows.append(Row(f"up vs {name} ({how})", str(n), f"{up_cli:.2f} ms/ctr", f"{up_api:.2f} ms/ctr",
                        f"{name} {build:.1f} ms/ctr", faster(build, up_cli), faster(build, up_api),
                        f">= {target} x faster",
                        verdict(build / up_cli >= target, build / up_api >= target)))
        rows.append(Row(f"down vs {name}", str(n), f"{down_cli:.2f} ms/ctr", f"{down_api:.2f} ms/ctr",
                        f"{name} {teardown:.1f} ms/ctr", faster(teardown, down_cli),
                        faster(teardown, down_api)))
        labrun.settle(n)


def profile(ctx: Context, path: str, lab: str, n: int, ops: list[str], titles: dict[int, str]) -> None:
    """cProfile of chosen steps of an API run (separate from the timed runs: profiling slows)."""
    outs = {step: f"{ctx.workdir}/{lab}-{title.replace(' ', '-')}.prof" for step, title in titles.items()}
    with guard.lab(ctx.nl, lab):
        api = ctx.nl.api(path, lab, ops, profile=outs)
    labrun.settle(n)
    for step, title in titles.items():
        ctx.profiles[f"{title}, N={n}"] = (outs[step], api["steps"][step]["s"])
