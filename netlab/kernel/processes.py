"""Find and stop every process living in a lab's namespaces, whoever started it:
after a `kill -9` of the agent its children are orphans, and only their netns tells."""
from __future__ import annotations

import os
import signal
import subprocess
import time

from . import netns


def in_namespaces(names: list[str]) -> list[int]:
    inodes = {netns.inode(n) for n in names} - {None}
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            link = os.readlink(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        if int(link[5:-1]) in inodes:
            found.append(int(entry))
    return found


def kill_in(names: list[str], grace: float = 2.0) -> None:
    pids = in_namespaces(names)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if _alive(p)]
            time.sleep(0.02)
        if not pids:
            return


def _alive(p: int) -> bool:
    try:
        with open(f"/proc/{p}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def run_shell(ns: str, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`sh -c COMMAND` in namespace NS as `ip netns exec` runs it (/etc/netns/NS bound over
    /etc), its stdout and stderr captured as text."""
    return subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", command], capture_output=True, text=True,
                          timeout=timeout)
