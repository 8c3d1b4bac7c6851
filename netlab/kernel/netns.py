"""Network namespaces made in-process: unshare + bind mount to pin, setns to enter.

No `ip netns add` per namespace: one process, a few syscalls each. A namespace is the
lab's when its `lo` carries the ifalias `netlab:<lab>` (set right after creation)."""
from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import struct

from ..errors import KernelError

CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
MS_BIND = 4096
MNT_DETACH = 2
RUN = "/run/netns"
RTM_NEWLINK, NLMSG_ERROR, NLM_F_REQUEST, NLM_F_ACK, IFLA_IFALIAS, IFF_UP = 16, 2, 1, 4, 20, 1
ETC = "/etc/netns"

_libc = ctypes.CDLL(None, use_errno=True)


def check(rc: int, what: str) -> None:
    """A libc call's return code: non-zero raises KernelError with errno's words."""
    if rc != 0:
        e = ctypes.get_errno()
        raise KernelError(f"{what}: {os.strerror(e)}")


def path(name: str) -> str:
    return f"{RUN}/{name}"


def exists(name: str) -> bool:
    """True when /run/netns/<name> really pins a namespace (an nsfs mount), not just a file."""
    return pinned(path(name), "net")


def pinned(pin: str, kind: str) -> bool:
    """`pin` is a bind mount of a namespace of that kind (nsfs), not just a file."""
    try:
        return os.stat(pin).st_dev == os.stat(f"/proc/self/ns/{kind}").st_dev
    except OSError:
        return False


def clear_stale(name: str) -> bool:
    """A `kill -9` between creating the pin file and mounting it leaves a plain file."""
    target = path(name)
    if os.path.exists(target) and not exists(name):
        os.unlink(target)
        return True
    return False


def listed() -> list[str]:
    try:
        return sorted(os.listdir(RUN))
    except FileNotFoundError:
        return []


def _mount_run(run: str = RUN) -> None:
    """/run/netns must be a shared mount point, as `ip netns add` makes it, so that the
    pins are visible in every mount namespace (and `ip netns exec` works on them); so must
    the directory of the UTS pins (kernel/uts.py)."""
    os.makedirs(run, exist_ok=True)
    with open("/proc/self/mountinfo") as f:
        mount = next((line.split() for line in f if line.split()[4] == run), None)
    if mount is not None:
        optional = mount[6:mount.index("-")]
        if any(o.startswith("master:") for o in optional) and not any(o.startswith("shared:") for o in optional):
            # `ip netns exec` makes / a slave in its own mount namespace: pins made here would
            # be seen by no one else and vanish with this process
            raise KernelError(f"netlab runs in a mount namespace that does not share {run} (as under "
                              "`ip netns exec`): its namespaces would be invisible elsewhere; enter only the "
                              "network namespace instead: nsenter --net=/run/netns/NAME netlab ...")
        return
    check(_libc.mount(run.encode(), run.encode(), b"none", MS_BIND | (1 << 14), None), f"bind {run}")
    MS_SHARED, MS_REC = 1 << 20, 1 << 14
    check(_libc.mount(b"none", run.encode(), None, MS_SHARED | MS_REC, None), f"share {run}")


def _mark_lo(mark: str) -> None:
    """`lo` up with the ifalias `mark`, in the namespace this thread is in: one RTM_NEWLINK."""
    alias = mark.encode() + b"\0"
    attr = struct.pack("=HH", 4 + len(alias), IFLA_IFALIAS) + alias
    attr += b"\0" * (-len(attr) % 4)
    body = struct.pack("=BxHiII", 0, 0, 1, IFF_UP, IFF_UP) + attr          # ifinfomsg for index 1
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.send(struct.pack("=LHHLL", 16 + len(body), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body)
        reply = sock.recv(4096)
    err = -struct.unpack_from("=i", reply, 16)[0] if struct.unpack_from("=H", reply, 4)[0] == NLMSG_ERROR else 0
    if err:
        raise KernelError(f"mark lo: {os.strerror(err)}")


def create(name: str, mark: str | None = None) -> None:
    """Make and pin a new namespace, its `lo` up and marked with `mark` before the pin
    appears (so no one, not even a `kill -9` at the wrong moment, sees it unmarked); the
    calling thread ends where it started."""
    _mount_run()
    target = path(name)
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_RDONLY, 0o444)
    os.close(fd)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        check(_libc.unshare(CLONE_NEWNET), f"unshare for netns {name}")
        if mark is not None:
            _mark_lo(mark)
        check(_libc.mount(b"/proc/thread-self/ns/net", target.encode(), b"none", MS_BIND, None),
               f"pin netns {name}")
    except Exception:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise
    finally:
        check(_libc.setns(home, CLONE_NEWNET), "return to the original netns")
        os.close(home)


def adopt(name: str) -> None:
    """--in-place: pin the namespace this thread runs in (a VM's own) under `name`, so the
    rest of netlab reaches it like any other; `delete` later only removes the pin."""
    if same(name):
        return
    _mount_run()
    target = path(name)
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_RDONLY, 0o444)
    os.close(fd)
    try:
        check(_libc.mount(b"/proc/thread-self/ns/net", target.encode(), b"none", MS_BIND, None),
               f"pin this namespace as {name}")
    except Exception:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise


def same(name: str, other: str = "/proc/thread-self/ns/net") -> bool:
    """Whether netns `name` is the namespace at `other` (a /proc/<pid>/ns/net path)."""
    try:
        a, b = os.stat(path(name)), os.stat(other)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def delete(name: str) -> None:
    target = path(name)
    _libc.umount2(target.encode(), MNT_DETACH)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(target)


def inode(name: str) -> int | None:
    try:
        return os.stat(path(name)).st_ino
    except OSError:
        return None


def entered(name: str):
    """Run the body with this thread inside netns `name` (sockets opened there stay there)."""
    return inside(path(name), "net", CLONE_NEWNET, f"netns {name}")


@contextlib.contextmanager
def inside(pin: str, kind: str, flag: int, what: str):
    """Run the body with this thread inside the namespace pinned at `pin` (`kind`: its
    /proc/thread-self/ns entry, `flag` its CLONE_NEW*), then back where it was."""
    home = os.open(f"/proc/thread-self/ns/{kind}", os.O_RDONLY)
    try:
        fd = os.open(pin, os.O_RDONLY)
    except FileNotFoundError:
        os.close(home)
        raise KernelError(f"{what} does not exist") from None
    try:
        check(_libc.setns(fd, flag), f"enter {what}")
        yield
    finally:
        os.close(fd)
        check(_libc.setns(home, flag), f"return to the original {kind} namespace")
        os.close(home)


def read_sysctl(name: str, key: str) -> str | None:
    """/proc/sys/net follows the netns of the thread that opens it."""
    with entered(name):
        try:
            with open(f"/proc/sys/{key}") as f:
                return f.read().strip()
        except OSError:
            return None


def write_sysctl(name: str, key: str, value: str) -> None:
    with entered(name):
        try:
            with open(f"/proc/sys/{key}", "w") as f:
                f.write(value)
        except FileNotFoundError:
            raise KernelError(f"sysctl {key.replace('/', '.')} does not exist in this kernel") from None


def etc_dir(name: str) -> str:
    return f"{ETC}/{name}"
