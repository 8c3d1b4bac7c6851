"""What a lab has built, on disk under /run/netlab/<lab>/: the applied plan, the file it
came from, a lock, the agent's pid and the logs. `down` works from this alone."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from dataclasses import dataclass, field, replace

from ..errors import LabError
from ..plan.plan import Plan

ROOT = os.environ.get("NETLAB_RUN", "/run/netlab")


def lab_dir(lab: str) -> str:
    return f"{ROOT}/{lab}"


SNAPSHOT = "lab.yaml"           # the lab file as last brought up


def snapshot_topology(lab: str):
    """The lab as it was last brought up (the file may have changed since). Here rather
    than in lifecycle so that readers (trace, graph, inspect) need no kernel-writing code."""
    from ..model import load_text
    from .compose_labs import project_of
    path = f"{lab_dir(lab)}/{SNAPSHOT}"
    try:
        with open(path, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        raise not_up(lab) from None
    st = load(lab)
    topo = load_text(text, st.file if st else path, st.engine if st else None)
    project = project_of(lab)       # the snapshot is the translated lab file: it has no project
    return replace(topo, project=project) if project else topo


def not_up(lab: str) -> LabError:
    """The error for a LAB argument that names no lab here (or a FILE that does not exist)."""
    if "/" in lab or lab.endswith((".yaml", ".yml")):
        return LabError(f"{lab}: no such lab file (and no lab of that name is up)")
    return LabError(f"no lab named {lab!r} is up (see `netlab ls`)")


def log_dir(lab: str) -> str:
    return f"{lab_dir(lab)}/log"


@dataclass(kw_only=True)
class LabState:
    lab: str
    file: str                   # absolute path of the lab file
    plan: Plan
    complete: bool              # false while `up` is running or after it died
    firewall: str = "nft"       # the iptables backend its rules were written with
    engine: str | None = None   # `up --engine`: the engine every host runs, whatever the file says
    # netns -> nftables fingerprint taken right after its rules were written (kernel/nft_dump)
    prints: dict[str, str] = field(default_factory=dict)

    def save(self) -> None:
        d = lab_dir(self.lab)
        os.makedirs(d, exist_ok=True)
        tmp = f"{d}/state.json.tmp"
        with open(tmp, "w") as f:
            json.dump({"lab": self.lab, "file": self.file, "complete": self.complete, "firewall": self.firewall,
                       "engine": self.engine, "prints": self.prints,
                       "plan": self.plan.to_dict()}, f, separators=(",", ":"))
        os.replace(tmp, f"{d}/state.json")


def load(lab: str) -> LabState | None:
    try:
        with open(f"{lab_dir(lab)}/state.json") as f:
            d = json.load(f)
        if not isinstance(d, dict):
            raise TypeError(f"a JSON {type(d).__name__}, not an object")
        return LabState(lab=d["lab"], file=d["file"], plan=Plan.from_dict(d["plan"]), complete=d.get("complete", False),
                        firewall=d.get("firewall", "nft"), engine=d.get("engine"), prints=d.get("prints", {}))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, LookupError, TypeError, AttributeError) as e:
        # damaged or edited by hand: whatever shape it has, it is reported, never a traceback
        raise UnreadableState(lab, f"{type(e).__name__}: {e}") from None


class UnreadableState(LabError):
    """state.json exists but cannot be read back: `down` sweeps by mark instead."""

    def __init__(self, lab: str, why: str):
        super().__init__(f"lab {lab!r}: its state file is unreadable ({why}); "
                         f"`netlab down {lab}` removes the lab by its ownership marks")
        self.why = why


def labs() -> list[str]:
    try:
        return sorted(n for n in os.listdir(ROOT) if os.path.isdir(f"{ROOT}/{n}"))
    except FileNotFoundError:
        return []


def remove(lab: str) -> None:
    shutil.rmtree(lab_dir(lab), ignore_errors=True)


@contextlib.contextmanager
def locked(lab: str, wait: float = 120.0, say=print):
    """One `up` or `down` of a lab at a time; a second one waits, then gives up clearly."""
    os.makedirs(lab_dir(lab), exist_ok=True)
    path = f"{lab_dir(lab)}/lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                if not told:
                    say(f"lab {lab!r} is being changed by another netlab (pid {holder or '?'}); waiting...")
                    told = True
                if time.monotonic() > deadline:
                    raise LabError(f"lab {lab!r} is still locked by pid {holder or '?'} after "
                                   f"{wait:.0f} s; try again when it has finished") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
