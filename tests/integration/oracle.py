"""A real Docker 20.10 engine in its own namespaces (../shared/tools/docker-oracle), to
compare netlab against. Everything it makes is removed on exit, even when `up` fails."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from ipaddress import IPv4Network
from pathlib import Path

ORACLE = Path(os.environ.get("NETLAB_DOCKER_ORACLE",
                             Path(__file__).resolve().parents[3] / "shared/tools/docker-oracle"))
IMAGE = "busybox:lab"       # made by docker-oracle from busybox-static
KEEP_RUNNING = "sleep 3600"


def unavailable() -> str | None:
    """Why the oracle cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root: docker-oracle makes network namespaces and runs dockerd"
    if not ORACLE.exists():
        return f"docker-oracle not found at {ORACLE} (set NETLAB_DOCKER_ORACLE)"
    for tool, package in (("dockerd", "docker.io"), ("docker", "docker.io"),
                          ("busybox", "busybox-static"), ("iptables-save", "iptables")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install -y {package})"
    return None


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


class Oracle:
    """`with Oracle("nlo-x", "--icc=false") as docker:` runs dockerd in netns nlo-x."""

    def __init__(self, netns: str, dockerd_args: str = ""):
        self.netns = netns
        self.dockerd_args = dockerd_args
        self.env = dict(os.environ)

    def __enter__(self) -> Oracle:
        try:
            out = self._oracle("up", DOCKERD_ARGS=self.dockerd_args)
        except BaseException:
            self._oracle("down", check=False)
            raise
        host = out.strip().rsplit("DOCKER_HOST=", 1)[1]
        self.env["DOCKER_HOST"] = host
        return self

    def __exit__(self, *exc) -> None:
        try:
            # dockerd stops running containers gracefully on exit, 10 s each for a `sleep` that
            # ignores SIGTERM as pid 1; killing them first makes `down` take a second
            ids = self.docker("ps -aq").split()
            if ids:
                self.docker("rm -f " + " ".join(ids))
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        finally:
            self._oracle("down", check=False)

    def _oracle(self, verb: str, check: bool = True, **env) -> str:
        r = subprocess.run([str(ORACLE), verb, self.netns], capture_output=True, text=True,
                           env={**os.environ, **env}, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"docker-oracle {verb} {self.netns} failed: {r.stderr.strip()}")
        return r.stdout

    def docker(self, command: str) -> str:
        """One docker CLI command; `{image}` stands for a long-running busybox container."""
        args = shlex.split(command.replace("{image}", f"{IMAGE} {KEEP_RUNNING}"))
        r = subprocess.run(["docker", *args], capture_output=True, text=True, env=self.env, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"docker {command} failed: {r.stderr.strip()}")
        return r.stdout

    def _in_netns(self, *command: str) -> str:
        return subprocess.run(["ip", "netns", "exec", self.netns, *command],
                              capture_output=True, text=True, check=True).stdout

    def iptables_save(self) -> str:
        return self._in_netns("iptables-save")

    def sysctl(self, path: str) -> str:
        """A value below /proc/sys, as the engine's namespace sees it."""
        return self._in_netns("cat", f"/proc/sys/{path}").strip()

    def hairpin_modes(self) -> set[str]:
        """hairpin_mode of every bridge port (`ip netns exec` mounts the namespace's /sys)."""
        out = self._in_netns("sh", "-c", "cat /sys/class/net/*/brport/hairpin_mode 2>/dev/null; true")
        return set(out.split())

    def bridges(self) -> dict[IPv4Network, str]:
        """Each bridge network's subnet and the Linux bridge Docker made for it."""
        names = self.docker("network ls --filter driver=bridge --format {{.Name}}").split()
        out = {}
        for net in json.loads(self.docker("network inspect " + " ".join(names))):
            device = net["Options"].get("com.docker.network.bridge.name") or "br-" + net["Id"][:12]
            for cfg in net["IPAM"]["Config"]:
                out[IPv4Network(cfg["Subnet"])] = device
        return out
