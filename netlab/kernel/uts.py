"""UTS namespaces, one per container: its hostname and NIS domain name. Made in-process like
network namespaces (kernel/netns.py: unshare, then a bind mount of the namespace file pins
it) at /run/netlab-uts/<name>, and entered by every program netlab runs for the container
(`nsenter --uts=PATH`, see `enter`). Not under /run/netlab, which holds one directory per
lab (and `uts` is a valid lab name). A pin is the lab's when its name starts `<lab>-`."""
from __future__ import annotations

import contextlib
import ctypes
import os

from . import netns

CLONE_NEWUTS = 0x04000000
RUN = "/run/netlab-uts"

_libc = ctypes.CDLL(None, use_errno=True)


def path(name: str) -> str:
    return f"{RUN}/{name}"


def exists(name: str) -> bool:
    """True when the pin really holds a namespace (an nsfs mount), not just a file."""
    return netns.pinned(path(name), "uts")


def listed() -> list[str]:
    try:
        return sorted(os.listdir(RUN))
    except FileNotFoundError:
        return []


def clear_stale(name: str) -> bool:
    """A `kill -9` between creating the pin file and mounting it leaves a plain file."""
    if os.path.exists(path(name)) and not exists(name):
        os.unlink(path(name))
        return True
    return False


def machine() -> tuple[str, str]:
    """The hostname and NIS domain name of the UTS namespace this thread is in."""
    with open("/proc/sys/kernel/domainname") as f:
        return os.uname().nodename, f.read().strip()


def _set(hostname: str | None, domainname: str | None) -> None:
    """In the namespace this thread is in; None leaves a name as it is."""
    for value, call, what in ((hostname, _libc.sethostname, "hostname"),
                              (domainname, _libc.setdomainname, "domainname")):
        if value is not None:
            raw = value.encode()
            netns.check(call(raw, len(raw)), f"set the {what} {value!r}")


def entered(name: str):
    """Run the body with this thread inside UTS namespace `name`."""
    return netns.inside(path(name), "uts", CLONE_NEWUTS, f"UTS namespace {name}")


def create(name: str, hostname: str | None, domainname: str | None) -> None:
    """Make and pin a UTS namespace holding these names (None: the machine's, which a new
    namespace starts with, as runc leaves a domain name Docker does not pass). A pin that
    is already there (its netns was deleted behind netlab's back) is given the names."""
    if exists(name):
        write(name, hostname, domainname)
        return
    netns._mount_run(RUN)
    clear_stale(name)
    target = path(name)
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_RDONLY, 0o444))
    home = os.open("/proc/thread-self/ns/uts", os.O_RDONLY)
    try:
        netns.check(_libc.unshare(CLONE_NEWUTS), f"unshare for UTS namespace {name}")
        _set(hostname, domainname)
        netns.check(_libc.mount(b"/proc/thread-self/ns/uts", target.encode(), b"none", netns.MS_BIND, None),
               f"pin UTS namespace {name}")
    except Exception:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise
    finally:
        netns.check(_libc.setns(home, CLONE_NEWUTS), "return to the original UTS namespace")
        os.close(home)


def read(name: str) -> tuple[str, str] | None:
    """(hostname, NIS domain name) the pin holds; None when there is no pin."""
    if not exists(name):
        return None
    with entered(name):
        return machine()


def write(name: str, hostname: str | None, domainname: str | None) -> None:
    """Give a pinned namespace these names; None: the machine's (this thread's own)."""
    own = machine()
    with entered(name):
        _set(hostname if hostname is not None else own[0], domainname if domainname is not None else own[1])


def delete(name: str) -> None:
    netns._libc.umount2(path(name).encode(), netns.MNT_DETACH)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path(name))


def remove_lab(lab: str) -> list[str]:
    """Every pin of lab `lab` (a stale pin file too): what `down` takes out, whatever the
    state file says; the names removed."""
    gone = [n for n in listed() if n.startswith(f"{lab}-")]
    for name in gone:
        delete(name)
    return gone


def enter(name: str | None) -> list[str]:
    """The argv prefix that puts a program in UTS namespace `name`; none when there is no such
    pin (a lab made before netlab pinned one keeps running in the machine's)."""
    return ["nsenter", f"--uts={path(name)}"] if name and exists(name) else []
