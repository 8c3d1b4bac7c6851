"""The floor: the least work one process can do to give N namespaces an `eth0` on one bridge,
the same endpoints a lab's `up` makes (netns, veth pair with one end moved in, bridge port,
address, links up, default route), with pyroute2's netlink calls and unshare/setns through
libc: no subprocess, no iptables, no state. A lab's `up` of N containers is judged against
it. It runs in a process of its own (`floor.py N PREFIX`, as `run` starts it), so its peak
RSS is the memory baseline, and just before and just after each netlab measurement of the
same N, so that both see the same machine load: the figures are divided by the mean of the
two, and the two are shown, as a measure of how noisy the machine was."""
from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from memory import run_measured

# The floor's namespaces carry a bn prefix of ours, so that the bench's leftover check sees them.
PREFIX = "bnfl"
LINE = re.compile(r"build ([\d.]+) ms/endpoint, teardown ([\d.]+) ms/endpoint")
RUN = "/run/netns"
CLONE_NEWNET, MS_BIND, MNT_DETACH = 0x40000000, 4096, 2
BRIDGE, GATEWAY, PREFIXLEN = "br0", "10.200.0.1", 16     # inside the floor's own namespaces only


@dataclass
class Floor:
    n: int
    build_ms: float        # per endpoint
    teardown_ms: float     # per endpoint
    peak_rss_kb: int       # of the floor process, the memory baseline
    builds: tuple[float, ...] = ()      # the runs averaged, when more than one
    teardowns: tuple[float, ...] = ()

    def build_text(self) -> str:
        return f"floor build {self.build_ms:.2f} ms/ep" + _spread(self.builds)

    def teardown_text(self) -> str:
        return f"floor teardown {self.teardown_ms:.3f} ms/ep" + _spread(self.teardowns, 3)


def _spread(values: tuple[float, ...], digits: int = 2) -> str:
    return f" ({' / '.join(f'{v:.{digits}f}' for v in values)})" if len(values) > 1 else ""


def average(*runs: Floor) -> Floor:
    builds, teardowns = tuple(r.build_ms for r in runs), tuple(r.teardown_ms for r in runs)
    return Floor(runs[0].n, sum(builds) / len(runs), sum(teardowns) / len(runs),
                 max(r.peak_rss_kb for r in runs), builds, teardowns)


def run(n: int) -> Floor:
    """The floor for N endpoints, measured in a child process (the venv's interpreter, so that
    floor and netlab use the same pyroute2)."""
    res = run_measured([sys.executable, os.path.abspath(__file__), str(n), PREFIX])
    m = LINE.search(res.stdout)
    if res.code != 0 or not m:
        _remove_pins()
        raise RuntimeError(f"floor N={n} failed ({res.code}): {res.stdout}{res.stderr}")
    return Floor(n, float(m[1]), float(m[2]), res.peak_rss_kb)


def _remove_pins() -> None:
    """A floor that died leaves its namespaces pinned; they carry our prefix, so remove them."""
    for pin in glob.glob(f"{RUN}/{PREFIX}*"):
        subprocess.run(["ip", "netns", "del", os.path.basename(pin)], capture_output=True)


# ---- the measurement (the child process) --------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)


def _ok(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


@contextlib.contextmanager
def _entered(pin: str | None) -> Iterator[None]:
    """This thread in the namespace pinned at `pin` (None: a new one), and back afterwards."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        if pin is None:
            _ok(_libc.unshare(CLONE_NEWNET), "unshare")
        else:
            fd = os.open(pin, os.O_RDONLY)
            try:
                _ok(_libc.setns(fd, CLONE_NEWNET), f"setns {pin}")
            finally:
                os.close(fd)
        yield
    finally:
        _ok(_libc.setns(home, CLONE_NEWNET), "back home")
        os.close(home)


def new_netns(name: str) -> str:
    pin = f"{RUN}/{name}"
    os.close(os.open(pin, os.O_CREAT | os.O_EXCL | os.O_RDONLY, 0o444))
    with _entered(None):
        _ok(_libc.mount(b"/proc/thread-self/ns/net", pin.encode(), b"none", MS_BIND, None), f"pin {name}")
    return pin


def drop_netns(pin: str) -> None:
    _libc.umount2(pin.encode(), MNT_DETACH)
    os.unlink(pin)


def netlink_in(pin: str):
    """A netlink socket opened inside the namespace: it stays bound to it wherever we go."""
    from pyroute2 import IPRoute
    with _entered(pin):
        return IPRoute()


def endpoint(host, bridge: int, i: int, prefix: str) -> str:
    """Namespace `prefix<i>` with eth0 on the host's bridge: what `up` makes for a container."""
    pin = new_netns(f"{prefix}{i}")
    outer = f"v{prefix}{i}"
    fd = os.open(pin, os.O_RDONLY)
    try:
        host.link("add", ifname=outer, kind="veth", peer={"ifname": "eth0", "net_ns_fd": fd})
    finally:
        os.close(fd)
    (index,) = host.link_lookup(ifname=outer)
    host.link("set", index=index, master=bridge, state="up")
    with netlink_in(pin) as inside:
        (eth0,) = inside.link_lookup(ifname="eth0")
        inside.addr("add", index=eth0, address=f"10.200.{i // 250}.{i % 250 + 2}", prefixlen=PREFIXLEN)
        inside.link("set", index=eth0, state="up")
        inside.link("set", index=1, state="up")                 # lo
        inside.route("add", dst="0.0.0.0/0", gateway=GATEWAY)
    return pin


def measure(n: int, prefix: str) -> tuple[float, float]:
    """Seconds to build and to tear down N endpoints (the host's bridge not counted)."""
    os.makedirs(RUN, exist_ok=True)
    host_pin = new_netns(f"{prefix}h")
    pins: list[str] = []
    try:
        with netlink_in(host_pin) as host:
            host.link("add", ifname=BRIDGE, kind="bridge")
            (bridge,) = host.link_lookup(ifname=BRIDGE)
            host.addr("add", index=bridge, address=GATEWAY, prefixlen=PREFIXLEN)
            host.link("set", index=bridge, state="up")
            t0 = time.perf_counter()
            for i in range(1, n + 1):
                pins.append(endpoint(host, bridge, i, prefix))
            t1 = time.perf_counter()
        for pin in pins:
            drop_netns(pin)
        pins = []
        drop_netns(host_pin)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1
    finally:
        for pin in pins + [host_pin]:
            if os.path.exists(pin):
                drop_netns(pin)


def main(argv: list[str]) -> int:
    n, prefix = int(argv[0]), argv[1] if len(argv) > 1 else PREFIX
    build, teardown = measure(n, prefix)
    print(f"floor N={n}: build {build / n * 1000:.2f} ms/endpoint, teardown {teardown / n * 1000:.3f} ms/endpoint")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
