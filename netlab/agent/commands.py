"""Each container's `command:`, run in its namespace (with `ip netns exec` semantics, so it
sees the container's /etc/hosts and resolv.conf) and its UTS namespace (its hostname),
restarted with backoff when it dies."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass, field

from ..app import state
from ..kernel import processes
from ..plan.items import Process, Uts
from ..plan.plan import Plan

BACKOFF = (0.5, 1, 2, 5, 10, 30)
HEALTHY_AFTER = 60.0          # a child that ran this long starts its backoff afresh


def reap_orphans(previous: dict) -> None:
    """Process groups a dead agent left behind (grandchildren escape PDEATHSIG): each command
    led its own group, recorded in the last agent.json; kill those still inside their netns."""
    for p in previous.get("processes", {}).values():
        pgid, ns = p.get("pid"), p.get("netns")
        if pgid and ns:
            for pid in processes.in_namespaces([ns]):
                try:
                    if os.getpgid(pid) == pgid:
                        os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@dataclass(kw_only=True)
class Child:
    item: Process
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0
    task: asyncio.Task | None = None
    stopping: bool = False
    last_exit: int | None = None        # its exit status the last time it ended


@dataclass
class Commands:
    lab: str
    children: dict[str, Child] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    uts: dict[str, str] = field(default_factory=dict)       # container -> its UTS pin

    async def apply(self, plan: Plan) -> None:
        self.uts = {u.container: u.name for u in plan.of(Uts)}
        want = {p.name: p for p in plan.of(Process)}
        for name in list(self.children):
            if want.get(name) != self.children[name].item:
                await self.stop(self.children.pop(name))
        for name, item in want.items():
            if name not in self.children:
                # started before `up` returns, so its pid is in the first report
                child = Child(item=item)
                self.children[name] = child
                await self.start(child)
                child.task = asyncio.create_task(self.keep_running(child))

    async def keep_running(self, child: Child) -> None:
        while not child.stopping:
            started = time.monotonic()
            if child.proc is None:
                await self.start(child)
                self.changed.set()
            child.last_exit = await child.proc.wait()
            child.proc = None
            self.changed.set()
            if child.stopping:
                return
            if time.monotonic() - started > HEALTHY_AFTER:
                child.restarts = 0
            await asyncio.sleep(BACKOFF[min(child.restarts, len(BACKOFF) - 1)])
            child.restarts += 1

    async def start(self, child: Child) -> None:
        os.makedirs(state.log_dir(self.lab), exist_ok=True)
        with open(f"{state.log_dir(self.lab)}/{child.item.name}.log", "ab") as log:
            log.write(f"--- netlab: starting {child.item.command!r} in {child.item.netns}\n".encode())
            log.flush()
            # killed with the agent (PDEATHSIG), its own process group (stop() kills the group)
            child.proc = await processes.spawn_shell(child.item.netns, child.item.command, log,
                                                     uts=self.uts.get(child.item.name))

    async def stop(self, child: Child, grace: float = 2.0) -> None:
        child.stopping = True
        proc = child.proc
        if proc is not None and proc.returncode is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    await asyncio.wait_for(proc.wait(), grace)
                    break
                except TimeoutError:
                    continue
        if child.task is not None:
            child.task.cancel()

    async def close(self) -> None:
        for child in list(self.children.values()):
            await self.stop(child)

    def status(self) -> dict:
        return {"processes": {
            n: {"netns": c.item.netns, "command": c.item.command,
                "pid": c.proc.pid if c.proc and c.proc.returncode is None else None,
                "restarts": c.restarts, "last_exit": c.last_exit}
            for n, c in self.children.items()}}
