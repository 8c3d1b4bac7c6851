"""`netlab verify`: run the lab file's `expect:` entries and compare with what happens."""
from __future__ import annotations

import time
from dataclasses import dataclass

from . import probe
from .agent import control as agent
from .dnscheck import dns_problems
from .errors import LabError
from .topology.model import Expectation, Topology
from .targets import address, endpoint


@dataclass(frozen=True)
class Outcome:
    expectation: Expectation
    target: str                 # address[:port] probed
    seen: bool

    @property
    def ok(self) -> bool:
        return self.seen == self.expectation.ok


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
    return [Outcome(e, t, seen) for e, t, seen in zip(topo.expect, targets, probe.run_all(probes))]


def agent_problems(topo: Topology) -> list[str]:
    """Stopped commands are drift (the diff names each); a dead agent is worth its own line."""
    if agent.pid(topo.name) is None:
        return ["the lab's agent is not running (commands, DNS and proxies are down); "
                "`netlab up` restarts it"]
    return dns_problems(topo)


def agent_notes(topo: Topology) -> list[str]:
    """Past outages: each time `up` found the agent dead and started it again."""
    return [f"the lab's agent (pid {old}) had died; `netlab up` restarted it at "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(when))} (DNS, proxies and commands "
            "were down until then)" for when, old in agent.restarts(topo.name)]
