"""What netlab built from a Compose file, in the shape of the real Compose records
(tests/integration/compose_oracle.py `collect`), so that tests/compose_facts.py can hold
the two side by side.

    python3 tests/integration/compose_netlab.py FILE [--project P] [--profile P]

The file goes to `netlab up` unmodified (the oracle had to swap images and commands; netlab
runs none, and its stand-in listeners answer on every exposed and published TCP port as the
oracle's `nc -ll -e hostname` did). Everything a container sees is read from the kernel the
way the oracle read it from `docker exec`: hostname, /etc/hosts and /etc/resolv.conf, `ip -o
addr` and the default routes inside its namespace; DNS answers from busybox `nslookup`
against 127.0.0.11 inside the asker's namespace; the ping and TCP matrices and the published
ports from the lab's own namespaces; the host's iptables-save. What the records take from
Docker's API (network options, endpoint aliases, links, ports) comes from `netlab inspect`,
netlab's rendering of the same API, Compose's labels included (service, container number,
depends_on)."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from compose_oracle import (
    _default_dev,
    _interfaces,
    _resolv_blanked,
    _rules,
    _sections,
    endpoint_facts,
    inspect_facts,
    network_facts,
    normalised,
    probe_dns,
    probe_published,
    probe_reach,
    probe_tcp,
)

ROOT = Path(os.environ.get("NETLAB_ROOT") or Path(__file__).resolve().parents[2])
STEP_TIMEOUT = 120


def netlab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netlab", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


def _in(ns: str, script: str, uts: str | None = None) -> str:
    """`sh -c SCRIPT` in a container's namespaces (`uts`: its UTS pin), as `netlab exec` runs it."""
    from netlab.kernel.processes import run_shell
    return run_shell(ns, script, timeout=STEP_TIMEOUT, uts=uts).stdout


class NetlabProject:
    """A Compose file brought up by `netlab up -f FILE -p PROJECT`; `down()` removes it."""

    def __init__(self, file: Path, project: str, profiles: tuple[str, ...] = ()):
        self.file, self.project, self.profiles = file, project, profiles
        self.doc = yaml.safe_load(file.read_text())
        self.up_output = ""

    def args(self) -> list[str]:
        out = ["-f", str(self.file), "-p", self.project]
        for p in self.profiles:
            out += ["--profile", p]
        return out

    def up(self) -> None:
        r = netlab("up", *self.args())
        self.up_output = r.stdout + r.stderr
        if r.returncode != 0:
            raise RuntimeError(f"netlab up {self.file.name} failed:\n{self.up_output}")

    def down(self) -> None:
        netlab("down", self.project)

    @property
    def lab(self) -> str:
        from netlab.app.compose_labs import lab_of
        return lab_of(self.project)

    def __enter__(self) -> NetlabProject:
        self.up()
        return self

    def __exit__(self, *exc) -> None:
        self.down()


INSIDE = "; echo '==sep=='; ".join([
    "hostname", "cat /etc/hosts", "cat /etc/resolv.conf", "ip -o addr", "ip route", "ip -6 route 2>/dev/null; true"])


def collect(p: NetlabProject) -> dict:
    """Everything the project built, in the records' shape (see the module's doc)."""
    from netlab.app.state import snapshot_topology
    from netlab.compose.networks import lab_network_name
    from netlab.model.inspect import inspect_lab
    from netlab.plan.hostnames import uts_name
    topo = snapshot_topology(p.lab)
    api = inspect_lab(topo)
    assert isinstance(api, dict)
    declared = p.doc.get("networks") or {}
    key_of = {lab_network_name(p.project, k, v or {}): k for k, v in declared.items()}
    key_of.setdefault(f"{p.project}_default", "default")
    networks = {}
    nets = [n for n in api["Networks"] if n["Name"] in key_of]
    for n in nets:
        networks[key_of[n["Name"]]] = network_facts(n, external=False)
    for key, net in declared.items():
        if key not in networks:
            networks[key] = {"name": (net or {}).get("name"), "not_created": True}

    project_ctrs = [c for c in api["Containers"]
                    if (c["Config"]["Labels"] or {}).get("com.docker.compose.project") == p.project]
    names = sorted(c["Name"].lstrip("/") for c in project_ctrs)
    netns = {c.name: c.netns for c in topo.containers}
    mode_of = {c.name: c.mode for c in topo.containers}
    own = [n for n in names if mode_of[n] not in ("container", "host")]
    with ThreadPoolExecutor(max_workers=8) as pool:
        insides = dict(zip(own, pool.map(lambda n: _sections(_in(netns[n], INSIDE, uts_name(topo.name, n)), 6), own)))
    containers = {}
    for c in sorted(project_ctrs, key=lambda c: c["Name"]):
        name = c["Name"].lstrip("/")
        mode = c["HostConfig"]["NetworkMode"]
        endpoints = endpoint_facts(c, key_of)
        owner = {ep[f]: net for net, ep in endpoints.items() for f in ("ipv4", "ipv6") if ep[f]}
        interfaces = []
        hostname, hosts, resolv, addrs, routes, routes6 = insides.get(name, [""] * 6)
        if name in insides:
            for i in _interfaces(addrs):
                net = next((owner[a.split("/")[0]] for a in i["ipv4"] + i["ipv6"] if a.split("/")[0] in owner), None)
                interfaces.append({**i, "network": net})
        dev_net = {i["ifname"]: i["network"] for i in interfaces}
        host_mode = mode_of[name] == "host"
        containers[name] = {
            **inspect_facts(c),
            "running": True,
            "hostname": "<the machine's hostname>" if host_mode else
            hostname.strip() if name in insides else _in(netns[name], "hostname", uts_name(topo.name, name)).strip(),
            "config_hostname": "<the machine's hostname>" if host_mode else c["Config"]["Hostname"],
            "network_mode": mode, "endpoints": endpoints, "interfaces": interfaces,
            "default_route": dev_net.get(_default_dev(routes)) if name in insides else None,
            "default_route6": dev_net.get(_default_dev(routes6)) if name in insides else None,
            "hosts": "<the machine's /etc/hosts>" if host_mode else hosts if name in insides else
            _in(netns[name], "cat /etc/hosts").rstrip("\n"),
            "resolv_conf": "<the machine's /etc/resolv.conf>" if host_mode else _resolv_blanked(
                resolv if name in insides else _in(netns[name], "cat /etc/resolv.conf").rstrip("\n")),
        }
    order = [c.name for c in topo.containers if c.name in containers]
    for rank, name in enumerate(order):
        containers[name]["created_rank"] = rank
    running = {c["service"] for c in containers.values()}
    config = {"services": {k: v for k, v in compose_config(p.doc).items() if k in running}}

    def run(name: str, script: str) -> str:
        return _in(netns[name], script)

    host_ns = topo.host(topo.containers[0].host).netns if topo.containers else f"{p.lab}-host"
    facts = {
        "project": p.project, "engine": "28.5", "compose": "netlab",
        "networks": networks, "containers": containers, "creation_order": order,
        "dns": probe_dns(run, config, containers, networks, nslookup="busybox nslookup", again=True),
        "reach": probe_reach(run, containers, any(n.get("ipv6") for n in networks.values())),
        "tcp": probe_tcp(run, containers, nc="busybox nc", workers=4),
        "published": probe_published(f"{p.lab}-outside", containers),
        "iptables": _rules(_save(host_ns, "iptables-save")),
        "ip6tables": _rules(_save(host_ns, "ip6tables-save")),
    }
    facts = normalised(facts, project_ctrs, nets)
    # a stand-in answers with its container's name; the oracle's listener with its hostname
    hostname = {n: c["hostname"] for n, c in facts["containers"].items()}
    for cells in facts["tcp"].values():
        for k, v in cells.items():
            cells[k] = hostname.get(v, v) if v else v
    facts["published"] = {k: hostname.get(v, v) if v else v for k, v in facts["published"].items()}
    facts["file"] = p.file.name
    facts["profiles"] = list(p.profiles)
    return facts


def compose_config(doc: dict) -> dict:
    """The services as `docker compose config` gives them to the oracle: `networks` as a
    mapping, `default` for a service that names none (and has no network_mode)."""
    out = {}
    for name, spec in (doc.get("services") or {}).items():
        spec = dict(spec or {})
        if "network_mode" not in spec:
            raw = spec.get("networks") or {"default": None}
            spec["networks"] = {n: None for n in raw} if isinstance(raw, list) else raw
        out[name] = spec
    return out


def _save(ns: str, tool: str) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, tool], capture_output=True, text=True, check=True).stdout


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", type=lambda s: Path(s).resolve())
    ap.add_argument("--project")
    ap.add_argument("--profile", action="append", default=[])
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    doc = yaml.safe_load(a.file.read_text())
    project = a.project or doc.get("name") or a.file.stem
    with NetlabProject(a.file, project, tuple(a.profile)) as p:
        facts = collect(p)
    text = json.dumps(facts, indent=1, sort_keys=True) + "\n"
    if a.out:
        a.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT / "tests")]
    sys.exit(main(sys.argv[1:]))
