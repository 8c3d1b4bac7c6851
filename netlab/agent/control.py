"""Starting, signalling and reading the status of a lab's agent (used by the CLI side)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from ..app import state

STATUS = "agent.json"
PIDFILE = "agent.pid"
RESTARTS = "agent.restarts"   # one line per agent found dead: "<unix time> <old pid>"


def _read(lab: str, name: str):
    try:
        with open(f"{state.lab_dir(lab)}/{name}") as f:
            return f.read()
    except OSError:
        return None


def pid(lab: str) -> int | None:
    text = _read(lab, PIDFILE)
    if not text or not text.strip().isdigit():
        return None
    p = int(text)
    return p if alive(p) and _is_agent(p, lab) else None


def alive(p: int) -> bool:
    try:
        os.kill(p, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{p}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _is_agent(p: int, lab: str) -> bool:
    try:
        with open(f"/proc/{p}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return b"netlab.agent" in argv and lab.encode() in argv


def status(lab: str) -> dict:
    text = _read(lab, STATUS)
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def observed(lab: str) -> dict:
    """What the agent serves, for the diff: {} when the agent is down (so all is missing)."""
    if pid(lab) is None:
        return {}
    st = status(lab)
    served = st.get("dns", []) + st.get("standins", [])
    return {"processes": processes(lab), "proxies": {tuple(k) for k in st.get("proxies", [])},
            "dns": {tuple(k): digest for k, digest in served}}


def processes(lab: str) -> dict[str, tuple[str, str, bool]]:
    """name -> (netns, command, running) as the agent last reported, if the agent lives."""
    if pid(lab) is None:
        return {}
    out = {}
    for name, p in status(lab).get("processes", {}).items():
        out[name] = (p["netns"], p["command"], bool(p.get("pid")) and alive(p["pid"]))
    return out


def ensure(lab: str, timeout: float = 10.0) -> int:
    """Start the agent, or make the running one reload the state file; wait until it has."""
    before = status(lab).get("generation", 0)
    p = pid(lab)
    if p is None:
        _note_death(lab)
        os.makedirs(state.log_dir(lab), exist_ok=True)
        log = open(f"{state.log_dir(lab)}/agent.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "netlab.agent", lab], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                close_fds=True)
        log.close()
        p = proc.pid
        before = -1
    else:
        os.kill(p, signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = status(lab)
        if st.get("pid") == p and st.get("generation", 0) != before and st.get("settled"):
            return p
        if not alive(p):
            break
        time.sleep(0.02)
    return p


def _note_death(lab: str) -> None:
    """A pid file left behind means the agent died without cleaning up (a clean stop removes
    it): remember when it was found, so `verify` can say DNS and proxies were down."""
    text = _read(lab, PIDFILE)
    if text and text.strip().isdigit():
        with open(f"{state.lab_dir(lab)}/{RESTARTS}", "a") as f:
            f.write(f"{time.time():.0f} {text.strip()}\n")


def restarts(lab: str) -> list[tuple[float, int]]:
    """(when `up` found it dead, its pid) for each agent that died."""
    out = []
    for line in (_read(lab, RESTARTS) or "").splitlines():
        when, _, old = line.partition(" ")
        if when.isdigit() and old.isdigit():
            out.append((float(when), int(old)))
    return out


def stop(lab: str, timeout: float = 5.0) -> None:
    p = pid(lab)
    if p is None:
        return
    os.kill(p, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(p) and time.monotonic() < deadline:
        time.sleep(0.02)
    if alive(p):
        os.kill(p, signal.SIGKILL)
