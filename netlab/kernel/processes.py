"""Find and stop every process living in a lab's namespaces, whoever started it:
after a `kill -9` of the agent its children are orphans, and only their netns tells."""
from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import time
from typing import IO

from . import netns
from . import uts as uts_ns

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


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


def run_shell(ns: str, command: str, timeout: float = 60, uts: str | None = None) -> subprocess.CompletedProcess[str]:
    """`sh -c COMMAND` in namespace NS as `ip netns exec` runs it (/etc/netns/NS bound over
    /etc) and in the container's UTS namespace `uts` (its hostname), its stdout and stderr
    captured as text."""
    return subprocess.run(["ip", "netns", "exec", ns, *uts_ns.enter(uts), "sh", "-c", command],
                          capture_output=True, text=True, timeout=timeout)


def _die_with_parent() -> None:
    """Runs in the child before exec: if its parent is killed (even -9), so is the command."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


async def spawn_shell(ns: str, command: str, log: IO[bytes], uts: str | None = None) -> asyncio.subprocess.Process:
    """`sh -c COMMAND` started in namespace NS as `ip netns exec` runs it (/etc/netns/NS bound
    over /etc, so it sees the container's hosts and resolv.conf) and in the container's UTS
    namespace `uts` (nsenter execs, so the pid stays the command's), in the background: stdin
    from /dev/null, stdout and stderr appended to LOG, leading its own process group (stop
    it with os.killpg), and killed when the process that started it dies."""
    return await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", ns, *uts_ns.enter(uts), "sh", "-c", command,
        stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
        start_new_session=True, preexec_fn=_die_with_parent)
