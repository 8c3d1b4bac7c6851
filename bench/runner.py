"""netlab as the benchmark drives it: the CLI in a subprocess, as a user runs it, and the
API in a child process (inproc.py), to tell interpreter start-up from the work."""
from __future__ import annotations

import json
import os
import sys

import paths
from guard import RUN_NETLAB
from memory import Result, run_measured


class NetlabFailed(RuntimeError):
    pass


class Netlab:
    def __init__(self, env: dict, cwd: str):
        self.env, self.cwd = env, cwd

    def cli(self, *args: str, check: bool = False) -> Result:
        res = run_measured([sys.executable, "-m", "netlab", *args], env=self.env, cwd=self.cwd)
        if check and res.code != 0:
            raise NetlabFailed(f"netlab {' '.join(args)} exited {res.code}: {_last_line(res.stderr or res.stdout)}")
        return res

    def python(self, code: str) -> Result:
        return run_measured([sys.executable, "-c", code], env=self.env, cwd=self.cwd)

    def api(self, path: str, lab: str, ops: list[str], profile: dict[int, str] | None = None,
            engine: str | None = None, count_writes: bool = False) -> dict:
        """Run `ops` (up/down) in one child; returns inproc.py's JSON. `profile`: step -> .prof;
        `engine`: as `--engine`; `count_writes`: each step counts its rule-set writes."""
        flags = [f"--profile={step}={out}" for step, out in (profile or {}).items()]
        flags += ([f"--engine={engine}"] if engine else []) + (["--count-writes"] if count_writes else [])
        res = run_measured([sys.executable, "-P", os.path.join(paths.BENCH, "inproc.py"), *flags, path, lab, *ops],
                           env=self.env, cwd=self.cwd)
        if res.code != 0:
            raise NetlabFailed(f"netlab API {' '.join(ops)} exited {res.code}: {_last_line(res.stderr)}")
        return json.loads(res.stdout.strip().splitlines()[-1])

    def agent_pid(self, lab: str) -> int | None:
        try:
            with open(f"{RUN_NETLAB}/{lab}/agent.pid") as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def agent_status(self, lab: str) -> dict:
        try:
            with open(f"{RUN_NETLAB}/{lab}/agent.json") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}


def _last_line(text: str) -> str:
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else "(no output)"
