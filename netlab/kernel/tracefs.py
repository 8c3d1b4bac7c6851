"""The one place netlab touches tracefs: a private tracing instance that records a few
tracepoints during one trace (the kernel's drop reasons, its route lookups, the devices a
packet crossed), read back as text lines and removed afterwards.

Nothing global changes. The instance is a directory of its own under `instances/` with its
own buffer, events, filters and clock; the host's top-level tracing settings are not
touched. Where tracefs is not mounted on the host, it is mounted by a short-lived child in
a mount namespace of its own, which hands back a directory handle of that mount and exits:
the host's mount table never shows it, and the mount goes when the handle closes.

Every instance is named `netlab-<pid>-<n>` after the process that made it. A process killed
with -9 cannot remove its own, so each new one (and `netlab doctor`) first removes every
`netlab-*` instance whose process is gone: `reap()`."""
from __future__ import annotations

import contextlib
import ctypes
import errno
import itertools
import os
import socket
from collections.abc import Callable, Iterable

from ..errors import KernelError

HOST_MOUNT = "/sys/kernel/tracing"
PREFIX = "netlab-"
CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x00020000, 0x4000, 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)
_serial = itertools.count(1)


class TracefsMissing(KernelError):
    """No tracefs here (the kernel lacks it, or it cannot be mounted): say so and go on."""


def available() -> str | None:
    """None when tracefs can be used here, else the one-line reason."""
    try:
        with open("/proc/filesystems") as f:
            if "tracefs" not in f.read():
                return "the kernel has no tracefs"
    except OSError as e:
        return f"/proc/filesystems: {e.strerror}"
    if os.geteuid() != 0:
        return "tracefs needs root"
    return None


def open_root() -> int:
    """A directory handle of tracefs' root: the host's mount when there is one, else a
    private mount made in a child's own mount namespace."""
    why = available()
    if why is not None:
        raise TracefsMissing(why)
    with contextlib.suppress(OSError):
        fd = os.open(HOST_MOUNT, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if "instances" in os.listdir(fd):
                return fd
        except OSError:
            pass
        os.close(fd)
    return _private_mount()


def _private_mount() -> int:
    """Fork a child that unshares its mount namespace, mounts tracefs there and sends back a
    handle of the mount's root. The child runs only syscalls (the parent may have threads)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:                                        # the child: no Python imports, no locks
        code = 1
        try:
            ours.close()
            if _libc.unshare(CLONE_NEWNS) == 0 and \
                    _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) == 0 and \
                    _libc.mount(b"tracefs", HOST_MOUNT.encode(), b"tracefs", 0, None) == 0:
                socket.send_fds(theirs, [b"."], [os.open(HOST_MOUNT, os.O_RDONLY | os.O_DIRECTORY)])
                code = 0
            else:
                theirs.send(str(ctypes.get_errno()).encode())
        finally:
            os._exit(code)
    theirs.close()
    try:
        msg, fds, _, _ = socket.recv_fds(ours, 64, 1)
    finally:
        ours.close()
        os.waitpid(pid, 0)
    if not fds:
        why = os.strerror(int(msg)) if msg.isdigit() else "the child died"
        raise TracefsMissing(f"mounting tracefs in a private mount namespace: {why}")
    return fds[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_pid(name: str) -> int | None:
    """The pid in an instance's name `netlab-<pid>-<n>`, None for another name."""
    parts = name.split("-")
    if len(parts) == 3 and name.startswith(PREFIX) and parts[1].isdigit():
        return int(parts[1])
    return None


def stale(names: Iterable[str], alive: Callable[[int], bool] = _alive) -> list[str]:
    """The netlab instances among `names` whose process is gone."""
    return [n for n in names if (pid := owner_pid(n)) is not None and pid != os.getpid() and not alive(pid)]


def reap(root: int | None = None) -> list[str]:
    """Remove every netlab instance whose process is gone (a trace killed with -9); the
    names removed. Without tracefs there is nothing to reap."""
    mine = root is None
    if mine:
        try:
            root = open_root()
        except TracefsMissing:
            return []
    try:
        found = stale(listed(root))
        for name in found:
            _remove(root, name)
        return found
    finally:
        if mine:
            os.close(root)


def listed(root: int) -> list[str]:
    """Every netlab instance now in tracefs."""
    fd = os.open("instances", os.O_RDONLY | os.O_DIRECTORY, dir_fd=root)
    try:
        return sorted(n for n in os.listdir(fd) if n.startswith(PREFIX))
    finally:
        os.close(fd)


def _write(root: int, path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC, dir_fd=root)
    try:
        os.write(fd, text.encode())
    except OSError as e:
        raise KernelError(f"tracefs {path} <- {text!r}: {e.strerror}") from None
    finally:
        os.close(fd)


def _remove(root: int, name: str) -> None:
    """Tracing off, then the directory (the kernel frees its buffer and event files)."""
    base = f"instances/{name}"
    with contextlib.suppress(OSError):
        _write(root, f"{base}/tracing_on", "0")
    try:
        os.rmdir(base, dir_fd=root)
    except FileNotFoundError:
        pass
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise KernelError(f"removing tracefs instance {name}: {e.strerror}") from None


class Instance:
    """A private instance with the kernel's defaults (its clock, a 1.4 MB buffer per CPU:
    changing either costs a buffer reset); `enable` the events wanted, `start`, `mark` the
    moments that matter (a line in the instance's own clock), `read` after the probe,
    `close`."""

    def __init__(self) -> None:
        self.root = open_root()
        self.name = f"{PREFIX}{os.getpid()}-{next(_serial)}"
        self.base = f"instances/{self.name}"
        try:
            reap(self.root)
            os.mkdir(self.base, dir_fd=self.root)
            _write(self.root, f"{self.base}/tracing_on", "0")
        except BaseException:
            self.close()
            raise

    def has(self, event: str) -> bool:
        """`event` ("fib6/fib6_table_lookup") exists in this kernel."""
        try:
            os.stat(f"{self.base}/events/{event}", dir_fd=self.root)
        except FileNotFoundError:
            return False
        return True

    def enable(self, event: str, condition: str = "") -> None:
        """Record `event`, only where `condition` (a tracefs filter) holds."""
        if condition:
            _write(self.root, f"{self.base}/events/{event}/filter", condition)
        _write(self.root, f"{self.base}/events/{event}/enable", "1")

    def start(self) -> None:
        _write(self.root, f"{self.base}/tracing_on", "1")

    def mark(self, text: str) -> None:
        """A `tracing_mark_write: TEXT` line, timed as the events are."""
        _write(self.root, f"{self.base}/trace_marker", text)

    def format(self, event: str) -> str:
        """An event's format file (its fields, and the names its enums print)."""
        return self._read(f"events/{event}/format")

    def read(self) -> list[str]:
        """Every line recorded (recording stops first), comments left out."""
        _write(self.root, f"{self.base}/tracing_on", "0")
        return [line for line in self._read("trace").splitlines() if line and not line.startswith("#")]

    def _read(self, path: str) -> str:
        fd = os.open(f"{self.base}/{path}", os.O_RDONLY, dir_fd=self.root)
        chunks = []
        try:
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(fd)
        return b"".join(chunks).decode(errors="replace")

    def close(self) -> None:
        if self.root < 0:
            return
        try:
            _remove(self.root, self.name)
        finally:
            os.close(self.root)
            self.root = -1

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
