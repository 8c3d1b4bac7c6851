"""`netlab verify`: run the lab file's `expect:` entries and compare with what happens."""
from __future__ import annotations

import time
from dataclasses import dataclass

from ..agent import control as agent
from ..errors import LabError
from ..kernel import netns, probe
from ..model.targets import address, endpoint
from ..model.topology import Expectation, Topology
from . import state
from .dnscheck import dns_problems
from .standins import standin_notes, standin_problems


@dataclass(frozen=True)
class Outcome:
    expectation: Expectation
    target: str                 # address[:port] probed
    seen: bool
    missing: str | None = None  # the source's namespace, when it is gone (not probed)

    @property
    def ok(self) -> bool:
        return self.missing is None and self.seen == self.expectation.ok


def check(topo: Topology) -> list[Outcome]:
    probes, targets = [], []
    for e in topo.expect:
        src = endpoint(topo, e.source)
        dst = str(address(topo, e.source, e.target))
        if e.proto == "tcp":
            probes.append((probe.tcp_connect, src.netns, dst, e.port))
            targets.append(f"{dst}:{e.port}")
        elif e.proto == "icmp":
            probes.append((probe.ping, src.netns, dst))
            targets.append(dst)
        else:
            raise LabError(f"expect line {e.line}: verify can check icmp and tcp, not {e.proto}")
    # a namespace deleted behind netlab's back is drift (reported as such), not a probe error
    runnable = [i for i, p in enumerate(probes) if netns.exists(p[1])]
    seen = dict(zip(runnable, probe.run_all([probes[i] for i in runnable])))
    return [Outcome(e, t, seen.get(i, False), None if i in seen else probes[i][1])
            for i, (e, t) in enumerate(zip(topo.expect, targets))]


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
