"""One lab measured the two ways: the CLI (`up`, no-op `up`, `down`, each a fresh process, as
a user types them) and then the API in one process (up, no-op up, down), with peak memory
and a check that each `down` left nothing."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import guard
from memory import vmhwm_kb
from runner import Netlab, NetlabFailed


@dataclass
class LabRun:
    lab: str
    n: int                      # containers
    up_cli: float               # seconds, wall clock of the whole command
    noop_cli: float
    down_cli: float
    up_api: float               # seconds inside the already started process
    noop_api: float
    down_api: float
    cli_peak_kb: int            # the largest of the three CLI processes
    api_peak_kb: int
    agent_peak_kb: int | None   # the lab's agent, read just before `down`
    left: list[str] = field(default_factory=list)
    # the API `up`'s rule-set writes, "<netns> <family>" -> count (iptables/ip6tables restores
    # as ipv4/ipv6, nft transactions as nft)
    writes: dict[str, int] = field(default_factory=dict)


def settle(namespaces: int) -> None:
    """The kernel frees deleted namespaces in a background worker; let it finish before the
    next measurement, or that one pays for this one's teardown."""
    time.sleep(min(8.0, 0.5 + namespaces * 0.004))


def measure(nl: Netlab, path: str, lab: str, n: int, engine: str | None = None) -> LabRun:
    """`engine`: every host runs this Docker engine (`--engine`), whatever the file says."""
    flags = ["--engine", engine] if engine else []
    with guard.lab(nl, lab):
        up = nl.cli("up", path, *flags, check=True)
        noop = nl.cli("up", path, *flags, check=True)
        if "no changes" not in noop.stdout:
            raise NetlabFailed(f"{lab}: a second `up` changed things: {noop.stdout.strip().splitlines()[-1:]}")
        agent = nl.agent_pid(lab)
        agent_kb = vmhwm_kb(agent) if agent else None
        down = nl.cli("down", lab, check=True)
    left = guard.of_lab(lab)
    settle(n)
    with guard.lab(nl, lab):
        api = nl.api(path, lab, ["up", "up", "down"], engine=engine, count_writes=True)
    left += guard.of_lab(lab)
    settle(n)
    s_up, s_noop, s_down = api["steps"]
    if s_noop["changes"]:
        raise NetlabFailed(f"{lab}: a second API up made {s_noop['changes']} changes")
    return LabRun(lab, n, up.wall_s, noop.wall_s, down.wall_s, s_up["s"], s_noop["s"], s_down["s"],
                  max(up.peak_rss_kb, noop.peak_rss_kb, down.peak_rss_kb), api["peak_rss_kb"],
                  agent_kb, left, s_up.get("writes", {}))
