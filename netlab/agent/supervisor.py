"""Runs each container's `command:` in its namespace, restarts it when it dies (with
backoff), and reports what runs in agent.json. Reloads the state file on SIGHUP."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

from .. import state
from ..plan.items import Process

BACKOFF = (0.5, 1, 2, 5, 10, 30)


@dataclass
class Child:
    item: Process
    proc: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    started: float = 0.0


@dataclass
class Supervisor:
    lab: str
    children: dict[str, Child] = field(default_factory=dict)
    generation: int = 0
    reload: bool = True
    stopping: bool = False

    def wanted(self) -> dict[str, Process]:
        st = state.load(self.lab)
        if st is None:
            return {}
        return {p.name: p for p in st.plan.of(Process)}

    def apply_state(self) -> None:
        want = self.wanted()
        for name in list(self.children):
            if name not in want or want[name] != self.children[name].item:
                self.stop_child(self.children.pop(name))
        for name, item in want.items():
            if name not in self.children:
                self.children[name] = Child(item)
        self.generation += 1

    def start_child(self, child: Child) -> None:
        os.makedirs(state.log_dir(self.lab), exist_ok=True)
        with open(f"{state.log_dir(self.lab)}/{child.item.name}.log", "ab") as log:
            log.write(f"--- netlab: starting {child.item.command!r} in {child.item.netns}\n".encode())
            log.flush()
            child.proc = subprocess.Popen(
                ["ip", "netns", "exec", child.item.netns, "sh", "-c", child.item.command],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True)
        child.started = time.monotonic()

    def stop_child(self, child: Child, grace: float = 2.0) -> None:
        proc = child.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()

    def tick(self) -> None:
        now = time.monotonic()
        for child in self.children.values():
            if child.proc is not None and child.proc.poll() is not None:
                # it died: restart later, sooner if it had run for a while
                if now - child.started > 60:
                    child.restarts = 0
                child.next_start = now + BACKOFF[min(child.restarts, len(BACKOFF) - 1)]
                child.restarts += 1
                child.proc = None
            if child.proc is None and now >= child.next_start:
                self.start_child(child)

    def report(self, settled: bool) -> None:
        body = {"pid": os.getpid(), "generation": self.generation, "settled": settled,
                "processes": {n: {"netns": c.item.netns, "command": c.item.command,
                                  "pid": c.proc.pid if c.proc and c.proc.poll() is None else None,
                                  "restarts": c.restarts}
                              for n, c in self.children.items()}}
        d = state.lab_dir(self.lab)
        tmp = f"{d}/agent.json.tmp"
        with open(tmp, "w") as f:
            json.dump(body, f)
        os.replace(tmp, f"{d}/agent.json")

    def run(self) -> None:
        signal.signal(signal.SIGHUP, lambda *_: setattr(self, "reload", True))
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        signal.signal(signal.SIGINT, lambda *_: setattr(self, "stopping", True))
        with open(f"{state.lab_dir(self.lab)}/agent.pid", "w") as f:
            f.write(str(os.getpid()))
        last = None
        while not self.stopping:
            if self.reload:
                self.reload = False
                self.apply_state()
            self.tick()
            snapshot = (self.generation, tuple((n, c.proc.pid if c.proc else None, c.restarts)
                                               for n, c in self.children.items()))
            if snapshot != last:
                self.report(settled=True)
                last = snapshot
            time.sleep(0.1)
        for child in self.children.values():
            self.stop_child(child)
        try:
            os.unlink(f"{state.lab_dir(self.lab)}/agent.pid")
        except FileNotFoundError:
            pass
