"""netlab's reference engine: a real Docker (Debian's docker.io, 20.10, unless DOCKERD says
otherwise) in network namespaces of its own, for the conformance tests to compare against.

    python3 tests/integration/engine_oracle.py up NAME     start it; prints `export DOCKER_HOST=...`
    python3 tests/integration/engine_oracle.py env NAME    print that line again
    python3 tests/integration/engine_oracle.py down NAME   stop it, remove everything it made
    python3 tests/integration/engine_oracle.py sweep       down every engine whose owner is gone

What it builds (the conformance tests' expectations depend on it): netns NAME is the engine's
host, with eth0 10.10.101.105/24 and a default route via 10.10.101.254, the `uplink` end of a
veth pair in netns NAME-ext (another address in that /24 may be asked for: `address`), which also holds 203.0.113.10/32 on its lo as a stand-in internet
host. IPv6 twins of that LAN (as netlab's lab LAN has them): eth0 2001:db8:a:101::105/64
(the v4 LAN's third octet in the fourth group, the host's last digits after ::), the uplink
::254 and the default IPv6 route via it, 2001:db8:ff::10/128 on NAME-ext's lo as the IPv6
stand-in internet host. dockerd runs in NAME (entered with nsenter --net only, so it sees the machine's /sys and
cgroups) with its data root, exec root, socket, pid file and an empty daemon.json all below
/tmp/netlab-engine-oracle/NAME; extra daemon flags come from `dockerd_args` (the CLI: $DOCKERD_ARGS).
Another engine: DOCKERD=/path/to/dockerd; its directory goes first in the daemon's PATH, so it
finds its own docker-proxy and docker-init. CONTAINERD=/path/to/containerd: that containerd
is started in NAME too, with its config, root, state and socket below the engine's directory
(its own directory first in PATH, for its shim), instead of the one dockerd starts itself.
The engine is driven with the docker CLI shipped with it (DOCKER_CLI=/path/to/docker, else the
`docker` beside dockerd or in the sibling bin/, else the one on PATH): a newer CLI than the
daemon negotiates the daemon's API, but the tests should say what that engine's users type.
No registry is reachable, so the image `busybox:lab` is imported from busybox-static.

Safety: every link, address and route is made with `ip -n` in the two namespaces made here,
and the daemons only ever run inside NAME; the machine's own namespace is never touched.
`up` that fails takes down whatever it had made (the daemons' log is kept as NAME.failed-up.log
beside the engines' directories, and its tail is in the error); `down` can be run any number
of times. An engine made by a test records its owner (pid and start time), so `sweep` takes
down only engines whose owner has gone (a killed test run), never those of a run still going;
engines started from the command line have no owner and are left to `down`.
"""
from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import time
from pathlib import Path

BASE = Path(os.environ.get("NETLAB_ENGINE_ORACLE_DIR", "/tmp/netlab-engine-oracle"))
IMAGE = "busybox:lab"
HOST_ADDRESS = "10.10.101.105/24"
GATEWAY = "10.10.101.254"
OUTSIDE = "203.0.113.10"
OUTSIDE6 = "2001:db8:ff::10"
APPLETS = ("sh", "ls", "ping", "ip", "ifconfig", "nc", "sleep", "cat", "nslookup", "route",
           "hostname", "httpd")
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")   # the socket path must stay below 108 bytes

START_TIMEOUT = float(os.environ.get("NETLAB_ENGINE_ORACLE_START_TIMEOUT", "60"))   # dockerd answering
CONTAINERD_TIMEOUT = 15.0       # an own containerd's socket appearing
STOP_TIMEOUT = 20.0             # SIGTERM to SIGKILL, per daemon
COMMAND_TIMEOUT = 60.0          # any one ip/docker/umount command


class OracleError(RuntimeError):
    pass


def lan6(address: str) -> str:
    """The IPv6 twin of an IPv4 LAN address: 10.10.101.105/24 -> 2001:db8:a:101::105/64 (the
    digits are kept as written, so a person reads one address off the other)."""
    ip, _, _ = address.partition("/")
    octets = ip.split(".")
    return f"2001:db8:a:{octets[2]}::{octets[3]}/64"


def _which(program: str) -> str | None:
    """An absolute path for a program given by name or by path."""
    if os.sep in program:
        return os.path.abspath(program) if os.access(program, os.X_OK) else None
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")


def _static(path: str) -> bool:
    """An ELF file without a program interpreter (a dynamic busybox in a bare image cannot run)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return False
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(struct.unpack_from("<I", table, i * phentsize)[0] != 3 for i in range(phnum))   # PT_INTERP


def cli_for(dockerd: str | None = None, cli: str | None = None) -> str:
    """The docker CLI that came with this dockerd: DOCKER_CLI, else `docker` beside it (an
    unpacked engine's bin/) or in the sibling bin/ (/usr/sbin/dockerd, /usr/bin/docker),
    else whatever `docker` is on PATH."""
    chosen = cli or os.environ.get("DOCKER_CLI")
    if chosen:
        return chosen
    daemon = _which(dockerd or os.environ.get("DOCKERD") or "dockerd")
    if daemon:
        here = os.path.dirname(daemon)
        for candidate in (os.path.join(here, "docker"),
                          os.path.join(os.path.dirname(here), "bin", "docker")):
            if os.access(candidate, os.X_OK):
                return candidate
    return "docker"


def missing(dockerd: str | None = None, containerd: str | None = None, cli: str | None = None) -> str | None:
    """Why an engine cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root: the engine oracle makes network namespaces and runs dockerd"
    cli = cli_for(dockerd, cli)
    dockerd = dockerd or os.environ.get("DOCKERD") or "dockerd"
    containerd = containerd or os.environ.get("CONTAINERD") or None
    needs = [(dockerd, "docker.io"), (cli, "docker.io"), ("busybox", "busybox-static"),
             ("iptables-save", "iptables"), ("ip", "iproute2"), ("nsenter", "util-linux"),
             ("umount", "mount")]
    if containerd:
        needs.append((containerd, "containerd"))
    for program, package in needs:
        if _which(program) is None:
            return f"{program} is not installed (apt-get install -y {package})"
    busybox = _which("busybox")
    assert busybox is not None
    if not _static(busybox):
        return f"{busybox} is not statically linked (apt-get install -y busybox-static)"
    return None


# -- processes ---------------------------------------------------------------------------

def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), None when it is gone or a zombie
    (a zombie we started is reaped here)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in "ZX":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return None
    return fields[19]


def _alive(record: dict | None) -> bool:
    if not record or not record.get("pid") or record.get("start") is None:
        return False
    return _start_time(record["pid"]) == record["start"]


def _record(pid: int) -> dict:
    return {"pid": pid, "start": _start_time(pid)}


def _stop(record: dict | None, timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout` (0: SIGKILL alone); only while pid and start
    time still match."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        if sig == signal.SIGTERM and not timeout:
            continue
        if not _alive(record):
            return
        assert record is not None
        try:
            os.kill(record["pid"], sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while _alive(record) and time.monotonic() < deadline:
            time.sleep(0.1)


def _processes() -> dict[int, int]:
    """pid -> ppid of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    out[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return out


def _in_namespaces(netns: list[str]) -> list[int]:
    """Processes in these network namespaces, and all their descendants (the containers)."""
    inodes = set()
    for name in netns:
        try:
            st = os.stat(f"/run/netns/{name}")
            inodes.add((st.st_dev, st.st_ino))
        except OSError:
            pass
    if not inodes:
        return []
    parents = _processes()
    found = set()
    for pid in parents:
        try:
            st = os.stat(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in inodes:
            found.add(pid)
    grew = True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in found and pid not in found}
        found |= more
        grew = bool(more)
    found.discard(os.getpid())
    return sorted(found)


# -- mounts ------------------------------------------------------------------------------

def _mounts_below(root: Path) -> list[str]:
    prefix = str(root)
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if point == prefix or point.startswith(prefix + "/"):
                out.append(point)
    return out


# -- the engine --------------------------------------------------------------------------

class Engine:
    """One Docker engine in netns `name` (uplink in `name`-ext). `up()` returns DOCKER_HOST."""

    def __init__(self, name: str, dockerd_args: str = "", dockerd: str | None = None,
                 containerd: str | None = None, owned: bool = True, base: Path = BASE,
                 cli: str | None = None, address: str = HOST_ADDRESS):
        if not NAME.match(name):
            raise OracleError(f"engine name {name!r}: 1-40 of a-z 0-9 _ . - please")
        self.name, self.ext = name, f"{name}-ext"
        self.dockerd_args = dockerd_args
        self.address = address     # eth0's, in GATEWAY's /24 (a lab's second host has another)
        self.dockerd = dockerd or os.environ.get("DOCKERD") or None         # None: the system's
        self.containerd = containerd or os.environ.get("CONTAINERD") or None
        self.cli = cli_for(self.dockerd, cli)
        self.owned = owned
        self.root = base / name
        self.failed_log = base / f"{name}.failed-up.log"

    @property
    def host(self) -> str:
        return f"unix://{self.root}/docker.sock"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host}

    # small helpers
    def _ip(self, *args: str) -> None:
        r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        if r.returncode != 0:
            raise OracleError(f"ip {' '.join(args)}: {r.stderr.strip()}")

    def _read(self, file: str) -> dict | None:
        try:
            return json.loads((self.root / file).read_text())
        except (OSError, ValueError):
            return None

    def _write(self, file: str, data) -> None:
        (self.root / file).write_text(json.dumps(data))

    def owner(self) -> dict | None:
        """{"pid", "start"} of the process the engine belongs to; None for a hand-started one."""
        return (self._read("owner.json") or {}).get("owner")

    def exists(self) -> bool:
        return self.root.exists() or any(os.path.exists(f"/run/netns/{n}") for n in (self.name, self.ext))

    # -- up
    def up(self) -> str:
        problem = missing(self.dockerd, self.containerd, self.cli)
        if problem:
            raise OracleError(problem)
        self._claim()
        try:
            self._network()
            path = self._path()
            extra = self._start_containerd(path) if self.containerd else []
            self._start_dockerd(path, extra)
            self._import_image()
        except BaseException as e:
            kept = self._keep_logs()
            try:
                self.down()
            except Exception as cleanup:    # noqa: BLE001 - reported with the first error
                e.add_note(f"and taking the engine down failed too: {cleanup}")
            if isinstance(e, OracleError):
                raise OracleError(f"engine {self.name} did not come up: {e}{kept}") from None
            raise
        return self.host

    def _claim(self) -> None:
        """Make the engine's directory, owner first; a stale engine of a dead owner goes first.
        Namespaces of these names that are not an engine's are someone else's: never touched."""
        if self.root.exists():
            owner = self.owner()
            if owner is None or _alive(owner):
                by = f"pid {owner['pid']}" if owner else "hand (engine_oracle.py up)"
                raise OracleError(f"engine {self.name} is already up, started by {by}; "
                                  f"`python3 {__file__} down {self.name}` takes it down")
            self.down()
        for n in (self.name, self.ext):
            if os.path.exists(f"/run/netns/{n}"):
                raise OracleError(f"netns {n} exists and is not an engine's ({self.root} is missing); "
                                  f"not touching it")
        for _ in range(5):      # a concurrent sweep may remove an empty BASE in between
            try:
                self.root.mkdir(parents=True, mode=0o700)
                break
            except FileNotFoundError:
                continue
        self.failed_log.unlink(missing_ok=True)
        self._write("owner.json", {"owner": _record(os.getpid()) if self.owned else None,
                                   "made": time.time()})

    def _network(self) -> None:
        self._ip("netns", "add", self.name)
        self._write("netns.json", [self.name])
        self._ip("netns", "add", self.ext)
        self._write("netns.json", [self.name, self.ext])
        n, x = ("-n", self.name), ("-n", self.ext)
        self._ip(*n, "link", "set", "lo", "up")
        self._ip(*x, "link", "set", "lo", "up")
        self._ip(*n, "link", "add", "eth0", "type", "veth", "peer", "name", "uplink", "netns", self.ext)
        self._ip(*n, "addr", "add", self.address, "dev", "eth0")
        self._ip(*n, "link", "set", "eth0", "up")
        self._ip(*x, "addr", "add", f"{GATEWAY}/24", "dev", "uplink")
        self._ip(*x, "link", "set", "uplink", "up")
        self._ip(*x, "addr", "add", f"{OUTSIDE}/32", "dev", "lo")
        self._ip(*n, "route", "add", "default", "via", GATEWAY)
        # the IPv6 twins; nodad: an address is usable at once, not tentative for a second
        gateway6 = lan6(f"{GATEWAY}/24")
        self._ip(*n, "addr", "add", lan6(self.address), "dev", "eth0", "nodad")
        self._ip(*x, "addr", "add", gateway6, "dev", "uplink", "nodad")
        self._ip(*x, "addr", "add", f"{OUTSIDE6}/128", "dev", "lo")
        self._ip(*n, "-6", "route", "add", "default", "via", gateway6.split("/")[0])

    def _path(self) -> str:
        """The daemons' PATH: a chosen containerd's and dockerd's directories first."""
        path = os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        for chosen in (self.dockerd, self.containerd):
            if chosen:
                path = os.path.dirname(_which(chosen) or chosen) + os.pathsep + path
        return path

    def _spawn(self, argv: list[str], path: str, log: Path, record: str) -> subprocess.Popen:
        """A daemon inside the engine's netns (nsenter execs it: its pid is the daemon's)."""
        with open(log, "ab") as out:
            proc = subprocess.Popen(["nsenter", f"--net=/run/netns/{self.name}", *argv],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env={**os.environ, "PATH": path}, start_new_session=True)
        self._write(record, _record(proc.pid))
        return proc

    def _start_containerd(self, path: str) -> list[str]:
        c = self.root / "containerd"
        c.mkdir()
        # its own config: nothing from /etc/containerd, no CRI plugin, every path below c
        (c / "config.toml").write_text("\n".join([
            "version = 2", f'root = "{c}/root"', f'state = "{c}/state"',
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
            "[grpc]", f'  address = "{c}/containerd.sock"',
            '[plugins."io.containerd.internal.v1.opt"]', f'  path = "{c}/opt"', ""]))
        binary = _which(self.containerd or "")
        assert binary is not None
        proc = self._spawn([binary, "--config", str(c / "config.toml")], path, c / "containerd.log",
                           "containerd.json")
        deadline = time.monotonic() + CONTAINERD_TIMEOUT
        while not (c / "containerd.sock").is_socket():
            if proc.poll() is not None:
                raise OracleError(f"containerd exited with status {proc.returncode}")
            if time.monotonic() > deadline:
                raise OracleError(f"containerd made no socket in {CONTAINERD_TIMEOUT:.0f} s")
            time.sleep(0.1)
        return ["--containerd", str(c / "containerd.sock")]

    def _start_dockerd(self, path: str, extra: list[str]) -> None:
        (self.root / "daemon.json").write_text("{}\n")     # nothing from /etc/docker/daemon.json
        binary = _which(self.dockerd or "dockerd")
        assert binary is not None
        argv = [binary, "--config-file", str(self.root / "daemon.json"),
                "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
                "--pidfile", str(self.root / "docker.pid"), "-H", self.host,
                *extra, *shlex.split(self.dockerd_args)]
        proc = self._spawn(argv, path, self.root / "dockerd.log", "dockerd.json")
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ping():
            if proc.poll() is not None:
                raise OracleError(f"dockerd exited with status {proc.returncode}")
            if time.monotonic() > deadline:
                raise OracleError(f"dockerd did not answer in {START_TIMEOUT:.0f} s")
            time.sleep(0.2)

    def _ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(str(self.root / "docker.sock"))
                s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
                return s.recv(64).split(b" ")[1:2] == [b"200"]
        except (OSError, IndexError):
            return False

    def docker(self, *args: str, input: bytes | None = None) -> str:
        r = subprocess.run([self.cli, *args], input=input, capture_output=True, env=self.env,
                           timeout=COMMAND_TIMEOUT)
        if r.returncode != 0:
            raise OracleError(f"docker {' '.join(args)}: {r.stderr.decode(errors='replace').strip()}")
        return r.stdout.decode()

    def _import_image(self) -> None:
        """busybox:lab: a bare rootfs of the static busybox and a few applet links."""
        busybox = _which("busybox")
        assert busybox is not None
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as tar:
            def entry(name: str, kind: bytes, mode: int, **more) -> tarfile.TarInfo:
                info = tarfile.TarInfo(name)
                info.type, info.mode, info.mtime = kind, mode, int(time.time())
                for key, value in more.items():
                    setattr(info, key, value)
                return info
            for d in (".", "./bin", "./etc", "./tmp"):
                tar.addfile(entry(d, tarfile.DIRTYPE, 0o755))
            with open(busybox, "rb") as f:
                body = f.read()
            tar.addfile(entry("./bin/busybox", tarfile.REGTYPE, 0o755, size=len(body)), io.BytesIO(body))
            for applet in APPLETS:
                tar.addfile(entry(f"./bin/{applet}", tarfile.SYMTYPE, 0o777, linkname="busybox"))
        self.docker("import", "-", IMAGE, input=data.getvalue())

    def _keep_logs(self) -> str:
        """The daemons' logs, kept beside the engines' directories after a failed up."""
        parts = []
        for log in (self.root / "containerd" / "containerd.log", self.root / "dockerd.log"):
            if log.exists():
                parts.append(f"==> {log.name} <==\n{log.read_text(errors='replace')}")
        if not parts:
            return ""
        self.failed_log.write_text("\n".join(parts))
        tail = "\n".join("\n".join(parts).splitlines()[-15:])
        return f"; the log is {self.failed_log}, ending:\n{tail}"

    # -- down
    def down(self, kill: bool = False) -> None:
        """Stop dockerd, then an own containerd, then whatever else runs in the namespaces;
        delete the namespaces and pinned container namespaces, unmount what is mounted below
        the engine's directory and remove it. Idempotent; bounded by the timeouts above.
        `kill`: the engine's state is thrown away, so the daemons get SIGKILL at once instead
        of stopping every container gracefully (what is left is cleaned up the same way)."""
        dockerd = self._read("dockerd.json")
        if dockerd is None and (self.root / "docker.pid").exists():
            try:    # dockerd's own pid file, only if that process is a dockerd of this engine
                pid = int((self.root / "docker.pid").read_text())
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if str(self.root).encode() in f.read():
                        dockerd = _record(pid)
            except (OSError, ValueError):
                pass
        grace = 0.0 if kill else STOP_TIMEOUT
        _stop(dockerd, grace)
        _stop(self._read("containerd.json"), grace)
        namespaces = [self.name, self.ext]
        for _ in range(3):      # what dockerd left running: docker-proxy, shims, containers
            left = [_record(pid) for pid in _in_namespaces(namespaces)]
            if not left:
                break
            for record in left:
                try:
                    os.kill(record["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while any(_alive(r) for r in left) and time.monotonic() < deadline:
                time.sleep(0.1)
        pins = self._read("pins.json") or []
        for n in [*pins, *namespaces]:
            if os.path.exists(f"/run/netns/{n}"):
                subprocess.run(["ip", "netns", "del", n], capture_output=True, timeout=COMMAND_TIMEOUT)
        # dockerd leaves nsfs bind mounts (exec/netns/...) and, when killed, overlays and shm
        for _ in range(3):
            mounts = _mounts_below(self.root)
            if not mounts:
                break
            for point in sorted(mounts, key=len, reverse=True):
                subprocess.run(["umount", "-l", point], capture_output=True, timeout=COMMAND_TIMEOUT)
        problems = [f"netns {n}" for n in [*pins, *namespaces] if os.path.exists(f"/run/netns/{n}")]
        problems += [f"mount {m}" for m in _mounts_below(self.root)]
        if problems:    # removing files below a mount could reach into another filesystem
            raise OracleError(f"engine {self.name}: could not remove {', '.join(problems)}")
        shutil.rmtree(self.root, ignore_errors=True)
        if self.root.exists():
            raise OracleError(f"engine {self.name}: could not remove {self.root}")
        try:
            self.root.parent.rmdir()
        except OSError:
            pass

    # -- for tests
    def pin(self, name: str, pid: int) -> None:
        """Pin a container's netns as /run/netns/<name>; removed by down()."""
        pins = self._read("pins.json") or []
        self._write("pins.json", [*pins, name])
        self._ip("netns", "attach", name, str(pid))


def engines(base: Path = BASE) -> list[str]:
    return sorted(d.name for d in base.iterdir() if d.is_dir() and NAME.match(d.name)) if base.is_dir() else []


def sweep(base: Path = BASE) -> list[str]:
    """Take down the engines whose owner has gone (a killed test run); returns their names."""
    gone = []
    for name in engines(base):
        engine = Engine(name, base=base)
        owner = engine.owner()
        if owner is not None and not _alive(owner):
            engine.down()
            gone.append(name)
    return gone


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in ("up", "down", "env", "sweep") or (argv[0] != "sweep" and len(argv) != 2):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        if argv[0] == "sweep":
            for name in sweep():
                print(f"took down {name}")
            return 0
        engine = Engine(argv[1], os.environ.get("DOCKERD_ARGS", ""), owned=False)
        if argv[0] == "up":
            print(f"export DOCKER_HOST={engine.up()}")
        elif argv[0] == "env":
            print(f"export DOCKER_HOST={engine.host}")
        else:
            engine.down()
    except OracleError as e:
        print(f"engine_oracle: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
