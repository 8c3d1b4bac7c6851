"""Nothing of a benchmark may outlive it: every lab is taken down in a finally block, and
the leftovers check looks where a lab lives (pinned namespaces, state, /etc/netns files,
its agent) for anything named with the benchmark's `bn` prefix."""
from __future__ import annotations

import contextlib
import glob
import os

RUN_NETLAB = os.environ.get("NETLAB_RUN", "/run/netlab")
PREFIX = "bn"


def _agent_labs() -> dict[str, int]:
    """lab -> pid of every running `python -m netlab.agent LAB`."""
    found = {}
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{d}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if "netlab.agent" in argv and argv[-1] != "netlab.agent":
            found[argv[-1]] = int(os.path.basename(d))
    return found


def leftovers(match=lambda name: name.startswith(PREFIX)) -> list[str]:
    """Everything whose name `match`es: namespaces (/run/netns, /etc/netns), lab state
    (/run/netlab) and agents. The default: every benchmark name at once."""
    paths = glob.glob("/run/netns/*") + glob.glob("/etc/netns/*") + glob.glob(f"{RUN_NETLAB}/*")
    found = sorted(p for p in paths if match(os.path.basename(p)))
    return found + [f"agent of {lab} (pid {pid})" for lab, pid in _agent_labs().items() if match(lab)]


def of_lab(lab: str) -> list[str]:
    # a lab's namespaces are `<lab>-<name>`; an exact match keeps bnb100 off bnb1000's things
    return leftovers(lambda name: name == lab or name.startswith(f"{lab}-"))


@contextlib.contextmanager
def lab(netlab, name: str):
    """Take the lab down afterwards whatever happened, unless the body already did."""
    try:
        yield
    finally:
        if of_lab(name):
            netlab.cli("down", name)
