"""`netlab verify`: run the lab file's `expect:` entries and compare with what happens."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..agent import control as agent
from ..errors import LabError
from ..kernel import netns, probe
from ..model.targets import address, endpoint
from ..model.topology import Expectation, Topology
from ..trace.model import Resolution
from ..trace.resolve_live import observe_resolution
from . import state
from .dnscheck import dns_problems
from .standins import standin_notes, standin_problems


@dataclass(frozen=True)
class Outcome:
    expectation: Expectation
    target: str                 # address[:port] probed ("" when a name did not resolve)
    seen: bool
    missing: str | None = None  # the source's namespace, when it is gone (not probed)
    # `name: true`: the name resolved from the source, for real, before any probe
    resolution: Resolution | None = None

    @property
    def ok(self) -> bool:
        return self.missing is None and self.seen == self.expectation.ok

    @property
    def resolved(self) -> bool | None:
        """Whether the name resolved (None: not asked by name)."""
        return None if self.resolution is None else self.resolution.resolved


def _resolved(topo: Topology, e: Expectation) -> Resolution | None:
    """The name of a `name: true` expectation, resolved as its source would (no files of
    its own, as `outside`: the lab's view)."""
    if not e.name:
        return None
    src = endpoint(topo, e.source)
    if not netns.exists(src.netns):
        return None
    return observe_resolution(topo, src.netns, e.source, e.target, 4)


def check(topo: Topology) -> list[Outcome]:
    probes: list[tuple | None] = []     # (probe function, netns, arguments...), None: nothing to send
    targets: list[str] = []
    named = [e for e in topo.expect if e.name]
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(named)))) as pool:   # a silent server waits 1 s
        names = list(pool.map(lambda e: _resolved(topo, e), topo.expect))
    for e, name in zip(topo.expect, names):
        src = endpoint(topo, e.source)
        if name is not None and not name.resolved:
            probes.append(None)         # a name that does not resolve: nothing is sent
            targets.append("")
            continue
        dst = name.addresses[0] if name is not None else str(address(topo, e.source, e.target))
        if e.proto == "tcp":
            probes.append((probe.tcp_connect, src.netns, dst, e.port))
            targets.append(f"{dst}:{e.port}")
        elif e.proto == "icmp":
            probes.append((probe.ping, src.netns, dst))
            targets.append(dst)
        else:
            raise LabError(f"expect line {e.line}: verify can check icmp and tcp, not {e.proto}")
    # a namespace deleted behind netlab's back is drift (reported as such), not a probe error
    runnable = {i: p for i, p in enumerate(probes) if p is not None and netns.exists(p[1])}
    seen = dict(zip(runnable, probe.run_all(list(runnable.values()))))
    return [Outcome(e, t, seen.get(i, False), _missing(topo, e, probes[i], i in seen), names[i])
            for i, (e, t) in enumerate(zip(topo.expect, targets))]


def _missing(topo: Topology, e: Expectation, sent: tuple | None, probed: bool) -> str | None:
    if probed:
        return None
    where = endpoint(topo, e.source).netns
    return None if sent is None and netns.exists(where) else where


def agent_problems(topo: Topology) -> list[str]:
    """Stopped commands are drift (the diff names each); a dead agent is worth its own line."""
    if agent.pid(topo.name) is None:
        return ["the lab's agent is not running (commands, DNS and proxies are down); "
                "`netlab up` restarts it"]
    return dns_problems(topo) + command_problems(topo) + standin_problems(topo)


def command_problems(topo: Topology) -> list[str]:
    """A `command:` that keeps ending: its exit status and where its output went."""
    out = []
    for name, p in sorted(agent.status(topo.name).get("processes", {}).items()):
        if p.get("pid") is None and p.get("last_exit") is not None:
            code = p["last_exit"]
            how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            out.append(f"{name}: `{p['command']}` is not running ({how}, restarted {p.get('restarts', 0)} "
                       f"times); its output is in {state.log_dir(topo.name)}/{name}.log")
    return out


def agent_notes(topo: Topology) -> list[str]:
    """Past outages: each time `up` found the agent dead and started it again; the
    stand-in listeners the agent holds."""
    return [f"the lab's agent (pid {old}) had died; `netlab up` restarted it at "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(when))} (DNS, proxies and commands "
            "were down until then)" for when, old in agent.restarts(topo.name)] + standin_notes(topo)
