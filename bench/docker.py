"""Docker 20.10 at the same N as a comparison: the tests' engine oracle
(tests/integration/engine_oracle.py) runs dockerd in a namespace of its own; we time N
`docker run -d` on one user network, as a user would type them, then `docker rm -f` of them
all, and always stop the engine afterwards."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

import paths

NAME = "bndock"          # the oracle's namespaces: bndock and bndock-ext
IMAGE = "busybox:lab"    # imported by the engine oracle from busybox-static


@dataclass
class Docker:
    n: int
    up_ms: float        # per container: `docker run -d`
    down_ms: float      # per container: one `docker rm -f` of all


def oracle(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, paths.ENGINE_ORACLE, *args], capture_output=True, text=True)


def unavailable() -> str | None:
    for tool, pkg in (("dockerd", "docker.io"), ("docker", "docker.io"), ("busybox", "busybox-static")):
        if not shutil.which(tool):
            return f"not installed ({tool}: apt install {pkg})"
    if not os.path.isfile(paths.ENGINE_ORACLE):
        return f"no engine oracle at {paths.ENGINE_ORACLE}"
    return None


def measure(n: int) -> Docker:
    try:
        up = oracle("up", NAME)
        if up.returncode != 0:
            raise RuntimeError(f"engine oracle up failed: {up.stderr.strip()[-300:]}")
        env = dict(os.environ, DOCKER_HOST=up.stdout.strip().split("DOCKER_HOST=", 1)[1])

        def docker(*args):
            return subprocess.run(["docker", *args], env=env, capture_output=True, text=True, check=True).stdout

        docker("network", "create", "bnnet")
        t0 = time.perf_counter()
        ids = [docker("run", "-d", "--network", "bnnet", "--name", f"bnc{i}", IMAGE, "sleep", "86400").strip()
               for i in range(n)]
        t1 = time.perf_counter()
        docker("rm", "-f", *ids)
        t2 = time.perf_counter()
        return Docker(n, (t1 - t0) * 1000 / n, (t2 - t1) * 1000 / n)
    finally:
        oracle("down", NAME)
