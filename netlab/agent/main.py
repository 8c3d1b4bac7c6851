"""The agent's event loop: reload the state file on SIGHUP, hand the plan to each
component, and publish what runs in agent.json for `up`, `verify` and `ls`."""
from __future__ import annotations

import asyncio
import json
import os
import signal

from ..app import state
from ..plan.plan import Plan
from . import control
from .commands import Commands, reap_orphans
from .dns import Dns
from .proxy import Proxies
from .standin import Standins


class Agent:
    def __init__(self, lab: str):
        self.lab = lab
        self.generation = 0
        self.reload = asyncio.Event()
        self.stop = asyncio.Event()
        self.commands = Commands(lab)
        self.components = [self.commands, Proxies(), Dns(), Standins()]

    def plan(self) -> Plan:
        st = state.load(self.lab)
        return st.plan if st else Plan(self.lab)

    def report(self) -> None:
        body = {"pid": os.getpid(), "generation": self.generation, "settled": True}
        for c in self.components:
            body.update(c.status())
        d = state.lab_dir(self.lab)
        tmp = f"{d}/agent.json.tmp"
        with open(tmp, "w") as f:
            json.dump(body, f)
        os.replace(tmp, f"{d}/agent.json")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, self.reload.set)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        reap_orphans(control.status(self.lab))
        with open(f"{state.lab_dir(self.lab)}/agent.pid", "w") as f:
            f.write(str(os.getpid()))
        self.reload.set()
        try:
            while not self.stop.is_set():
                if self.reload.is_set():
                    self.reload.clear()
                    plan = self.plan()
                    for c in self.components:
                        await c.apply(plan)
                    self.generation += 1
                    self.report()
                if self.commands.changed.is_set():
                    self.commands.changed.clear()
                    self.report()
                waiters = [asyncio.ensure_future(e.wait())
                           for e in (self.reload, self.stop, self.commands.changed)]
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for w in waiters:
                    w.cancel()
        finally:
            for c in self.components:
                await c.close()
            try:
                os.unlink(f"{state.lab_dir(self.lab)}/agent.pid")
            except FileNotFoundError:
                pass
