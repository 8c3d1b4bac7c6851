"""A Compose file run by the real `docker compose` (Debian's 2.40, as fetched by
scripts/fetch-engines) against an Oracle engine (28.5), and what it built, as plain data.

    python3 tests/integration/compose_oracle.py FILE [--runs N] [--profile P] [--out DIR]

Images do not exist here (no registry), so `substitute` rewrites the file before Compose sees
it: every service's image becomes the Oracle's local busybox, and its command a long-running
shell that serves a TCP listener (busybox `nc -ll -e hostname`: it answers with the
container's hostname) on every exposed and published container port; a command whose first
word is a busybox applet of the image is kept. Keys that need what is not here (build,
volumes, secrets, configs, healthcheck, entrypoint, user, working_dir, env_file) are dropped
and `depends_on` conditions become `service_started` (no health checks run). Each run's
`notes` list every substitution. Networking keys are never touched.

`collect` reads the project from the engine: networks, containers (inspect, and from inside:
interfaces in eth order, default routes, hostname, /etc/hosts, /etc/resolv.conf), what the
embedded DNS (busybox nslookup against 127.0.0.11) answers for every service, container
name, alias, link alias and `<service>.<network>` name asked from one container per network,
the engine host's iptables-save (and ip6tables-save), a ping matrix between every container
and every address (and the stand-in internet host), and TCP to every published port from the
outside namespace. Machine-specific and random identifiers are replaced by stable tokens
(`normalised`): container ids by `<cid:NAME>`, network ids by `<nid:NAME>`, so two runs can be
compared line by line; tests/compose_facts.py names each address, subnet, gateway and MAC by
who holds it, so that the facts that hold exactly can be told from those that are only
permutations (see tests/fixtures/compose/README.md)."""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from compose_facts import map_strings
from engine_oracle import APPLETS, IMAGE, OUTSIDE, OUTSIDE6, lan6
from engines import _manifest, oracle_args
from oracle import Oracle

ENGINE = "28.5"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "compose"
RECORDED = FIXTURES / "recorded"
HOST = "10.10.101.105"
HOST6 = lan6(HOST + "/24").split("/")[0]
LONG_RUNNING = "sleep 3600"
# a shell script run in a container by its name, its stdout back
Run = Callable[[str, str], str]
# what exists before `docker compose up` (a fixture's external network and container), as
# docker commands; `{image}` is a long-running busybox
BEFORE = {
    "12-external": ("network create infra-shared", "run -d --name registry --network infra-shared {image}"),
}
# the fixtures and the profiles each is run with
FILES = {
    "01-nginx-flask-mysql": (), "02-wordpress-mysql": (), "03-macvlan": (), "04-replicas": (),
    "05-network-modes": (), "06-names": (), "07-ports": (), "08-depends-chain": (),
    "09-profiles": ("debug",), "10-dual-stack": (), "11-ipam-named": (), "12-external": (),
}
# what needs files, builds, registries or health checks that are not here
DROPPED = ("build", "volumes", "secrets", "configs", "healthcheck", "entrypoint", "user",
           "working_dir", "env_file", "init")
DROPPED_TOP = ("volumes", "secrets", "configs")


# -- the file Compose is given ----------------------------------------------------------

def container_ports(service: dict) -> list[int]:
    """TCP container ports a service exposes or publishes (ranges expanded)."""
    out: list[int] = []

    def add(spec: str) -> None:
        spec, _, proto = str(spec).partition("/")
        if proto and proto != "tcp":
            return
        first, _, last = spec.partition("-")
        out.extend(range(int(first), int(last or first) + 1))

    for port in service.get("ports") or []:
        if isinstance(port, dict):
            if port.get("protocol", "tcp") == "tcp":
                add(str(port["target"]))
            continue
        text, _, proto = str(port).partition("/")
        text = text.rsplit("]", 1)[-1]          # [::1]:8080:80
        if proto and proto != "tcp":
            continue
        add(text.rsplit(":", 1)[-1])
    for port in service.get("expose") or []:
        add(str(port))
    return sorted(set(out))


def _usable(command) -> bool:
    words = command.split() if isinstance(command, str) else list(command or [])
    return bool(words) and os.path.basename(str(words[0])) in APPLETS


def substitute(doc: dict) -> tuple[dict, list[str]]:
    """The Compose document to hand to `docker compose`, and what was changed, one note each."""
    doc, notes = copy.deepcopy(doc), []
    for key in DROPPED_TOP:
        if doc.pop(key, None) is not None:
            notes.append(f"top-level {key}: dropped")
    for name, service in (doc.get("services") or {}).items():
        notes.append(f"{name}: image {service.get('image', '(build)')} -> {IMAGE}")
        service["image"] = IMAGE
        for key in DROPPED:
            if service.pop(key, None) is not None:
                notes.append(f"{name}: {key} dropped")
        if service.get("network_mode") and str(service["network_mode"]).startswith("container:"):
            pass        # the named container must exist: the files name a project's container
        if _usable(service.get("command")):
            notes.append(f"{name}: command kept ({service['command']})")
        else:
            ports = container_ports(service)
            listeners = "".join(f"nc -ll -p {p} -e hostname & " for p in ports)
            was = service.get("command")
            service["command"] = ["sh", "-c", f"{listeners}exec {LONG_RUNNING}"]
            notes.append(f"{name}: command {was!r} -> listeners on {ports or 'no port'} and {LONG_RUNNING}")
        depends = service.get("depends_on")
        if isinstance(depends, dict):
            for dep, cond in depends.items():
                if isinstance(cond, dict) and cond.get("condition", "service_started") != "service_started":
                    notes.append(f"{name}: depends_on {dep} {cond['condition']} -> service_started")
                    cond["condition"] = "service_started"
    return doc, notes


# -- running it -------------------------------------------------------------------------

class Compose:
    """`docker compose` for one project on an Oracle."""

    def __init__(self, oracle: Oracle, project: str, file: Path, profiles: tuple[str, ...] = ()):
        self.oracle, self.project, self.file, self.profiles = oracle, project, file, profiles
        config = _manifest()["engines"][ENGINE]["docker_config"]
        self.env = {**oracle.env, "DOCKER_CONFIG": config}
        for key in ("COMPOSE_PROJECT_NAME", "COMPOSE_FILE", "COMPOSE_PROFILES"):
            self.env.pop(key, None)
        self.warnings: list[str] = []       # what Compose warned about, in order

    def __call__(self, *args: str) -> str:
        profiles = [a for p in self.profiles for a in ("--profile", p)]
        argv = [self.oracle.engine.cli, "compose", "-p", self.project, "-f", str(self.file), *profiles, *args]
        r = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"docker compose {' '.join(args)} failed: {r.stderr.strip()}")
        self.warnings += [line.strip() for line in r.stderr.splitlines() if "warn" in line.lower()]
        return r.stdout

    def version(self) -> str:
        return self("version", "--short").strip()


def _exec(oracle: Oracle, container: str, script: str) -> str:
    r = subprocess.run([oracle.engine.cli, "exec", container, "sh", "-c", script],
                       capture_output=True, text=True, env=oracle.env, timeout=120)
    return r.stdout


def _sections(text: str, count: int) -> list[str]:
    parts: list[list[str]] = [[]]
    for line in text.splitlines():
        if line == "==sep==":
            parts.append([])
        else:
            parts[-1].append(line)
    out = ["\n".join(p) for p in parts]
    return out + [""] * (count - len(out))


INSIDE = "; echo '==sep=='; ".join([
    "hostname", "hostname -d 2>/dev/null; true", "cat /etc/hosts", "cat /etc/resolv.conf",
    "ip -o addr", "ip route", "ip -6 route 2>/dev/null; true"])


def _interfaces(ip_o_addr: str) -> list[dict]:
    """`ip -o addr` as [{ifname, ipv4, ipv6}] in interface index order, lo left out."""
    seen: dict[str, dict] = {}
    for line in ip_o_addr.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        name = parts[1].split("@")[0]
        if name == "lo":
            continue
        entry = seen.setdefault(name, {"ifname": name, "ipv4": [], "ipv6": []})
        if parts[2] == "inet":
            entry["ipv4"].append(parts[3])
        elif parts[2] == "inet6" and not parts[3].startswith("fe80:"):
            entry["ipv6"].append(parts[3])
    return list(seen.values())


def _default_dev(routes: str) -> str | None:
    for line in routes.splitlines():
        words = line.split()
        if words[:1] == ["default"] and "dev" in words:
            return words[words.index("dev") + 1]
    return None


def _nslookup(answer_text: str) -> dict[str, list[str]]:
    """Blocks `==name` then busybox nslookup's output: the sorted addresses of each name."""
    out: dict[str, list[str]] = {}
    name = None
    answering = False
    for line in answer_text.splitlines():
        if line.startswith("==name "):
            name, answering = line.split()[1], False
            out[name] = []
        elif name is None:
            continue
        elif line.startswith("Name:"):
            answering = True
        elif line.startswith("Address:") and answering:
            value = line.split(None, 1)[1].strip()
            if "#" not in value and not value.startswith("127.0.0.11"):
                out[name].append(value)
    return {n: sorted(set(a)) for n, a in out.items()}


def collect(oracle: Oracle, compose: Compose) -> dict:
    """Everything the project built, normalised (see the module's doc)."""
    project = compose.project
    config = json.loads(compose("config", "--format", "json"))
    label = f"label=com.docker.compose.project={project}"
    net_ids = oracle.docker(f"network ls -q --filter {label}").split()
    external = [n.get("name") or key for key, n in (config.get("networks") or {}).items() if n.get("external")]
    net_ids += external
    nets = json.loads(oracle.docker("network inspect " + " ".join(net_ids))) if net_ids else []
    ids = oracle.docker(f"ps -aq --filter {label}").split()
    ctrs = json.loads(oracle.docker("inspect " + " ".join(ids))) if ids else []
    ctrs.sort(key=lambda c: c["Name"])
    by_docker_name = {}
    networks = {}
    for n in nets:
        key = (n.get("Labels") or {}).get("com.docker.compose.network") or next(
            (k for k, v in (config.get("networks") or {}).items() if v.get("name") == n["Name"]), n["Name"])
        by_docker_name[n["Name"]] = key
        networks[key] = network_facts(n, external=n["Name"] in external)
    for key, net in (config.get("networks") or {}).items():
        if key not in networks:     # external, or a network no running service uses
            networks[key] = {"name": net.get("name"), "not_created": True}

    containers = {}
    names = [c["Name"].lstrip("/") for c in ctrs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        insides = dict(zip(names, pool.map(lambda n: _sections(_exec(oracle, n, INSIDE), 7), names)))
    for c in ctrs:
        name = c["Name"].lstrip("/")
        hostname, domain, hosts, resolv, addrs, routes, routes6 = insides[name]
        endpoints = endpoint_facts(c, by_docker_name)
        owner = {}
        for net, ep in endpoints.items():
            for family in ("ipv4", "ipv6"):
                if ep[family]:
                    owner[ep[family]] = net
        mode = c["HostConfig"]["NetworkMode"]
        own_netns = not mode.startswith("container:") and mode not in ("host",)
        interfaces = []
        if own_netns:
            for i in _interfaces(addrs):
                net = next((owner[a.split("/")[0]] for a in i["ipv4"] + i["ipv6"] if a.split("/")[0] in owner), None)
                interfaces.append({**i, "network": net})
        dev_net = {i["ifname"]: i["network"] for i in interfaces}
        containers[name] = {
            **inspect_facts(c),
            "running": c["State"]["Running"], "created": c["Created"],
            "hostname": hostname.strip() if mode != "host" else "<the machine's hostname>",
            "config_hostname": c["Config"]["Hostname"] if mode != "host" else "<the machine's hostname>",
            "network_mode": mode, "endpoints": endpoints, "interfaces": interfaces,
            "default_route": dev_net.get(_default_dev(routes)) if own_netns else None,
            "default_route6": dev_net.get(_default_dev(routes6)) if own_netns else None,
            "hosts": hosts if mode != "host" else "<the machine's /etc/hosts>",
            "resolv_conf": _resolv_blanked(resolv) if mode != "host" else "<the machine's /etc/resolv.conf>",
        }
    order = sorted(containers, key=lambda n: (containers[n]["created"], n))
    for rank, name in enumerate(order):
        containers[name]["created_rank"] = rank
        del containers[name]["created"]

    facts = {
        "project": project, "engine": ENGINE, "compose": compose.version(),
        "networks": networks, "containers": containers, "creation_order": order,
        "dns": _dns(oracle, config, containers, networks),
        "reach": _reach(oracle, containers, any(n.get("ipv6") for n in networks.values())),
        "tcp": _tcp(oracle, containers),
        "published": _published(oracle, containers),
        "iptables": _rules(oracle.iptables_save()),
        "ip6tables": _rules(oracle.ip6tables_save()),
    }
    return normalised(facts, ctrs, nets)


def network_facts(n: dict, external: bool) -> dict:
    """A network from its `docker network inspect` (or netlab's)."""
    options = dict(n.get("Options") or {})
    bridge = options.get("com.docker.network.bridge.name") or (
        "br-" + n["Id"][:12] if n["Driver"] == "bridge" else None)
    return {
        "name": n["Name"], "driver": n["Driver"], "internal": n["Internal"],
        "attachable": n["Attachable"], "ipv4": n.get("EnableIPv4", True), "ipv6": n["EnableIPv6"],
        "options": options, "bridge": bridge,
        "ipam": [{k.lower(): v for k, v in cfg.items()} for cfg in (n["IPAM"].get("Config") or [])],
        "ipam_options": n["IPAM"].get("Options") or {}, "external": external}


def inspect_facts(c: dict) -> dict:
    """What a container's `docker inspect` (or netlab's) says of it: Compose's labels, its
    names, resolver settings, links and ports."""
    labels, hostconfig = c["Config"]["Labels"] or {}, c["HostConfig"]
    return {
        "service": labels.get("com.docker.compose.service"),
        "number": int(labels.get("com.docker.compose.container-number", 0)),
        "depends_on": labels.get("com.docker.compose.depends_on", ""),
        "domainname": c["Config"].get("Domainname", ""),
        "extra_hosts": hostconfig.get("ExtraHosts") or [],
        "dns": hostconfig.get("Dns") or [], "dns_search": hostconfig.get("DnsSearch") or [],
        "links": hostconfig.get("Links") or [],
        "exposed": sorted(c["Config"].get("ExposedPorts") or {}),
        "ports": {k: sorted(f"{b['HostIp']}:{b['HostPort']}" for b in (v or []))
                  for k, v in sorted((c["NetworkSettings"].get("Ports") or {}).items())}}


def endpoint_facts(inspected: dict, key_of: dict[str, str]) -> dict[str, dict]:
    """A container's endpoints from its `docker inspect`, by the Compose key of each network."""
    out = {}
    for docker_net, ep in (inspected["NetworkSettings"]["Networks"] or {}).items():
        out[key_of.get(docker_net, docker_net)] = {
            "ipv4": ep["IPAddress"] or None, "prefix4": ep["IPPrefixLen"] or None,
            "ipv6": ep["GlobalIPv6Address"] or None, "prefix6": ep["GlobalIPv6PrefixLen"] or None,
            "gateway": ep["Gateway"] or None, "gateway6": ep["IPv6Gateway"] or None,
            "mac": ep["MacAddress"] or None, "aliases": ep.get("Aliases") or [],
            "dns_names": ep.get("DNSNames") or [], "links": ep.get("Links") or [],
            "ipam": ep.get("IPAMConfig") or {}, "gw_priority": ep.get("GwPriority", 0)}
    return out


def _resolv_blanked(text: str) -> str:
    """The machine's own nameservers (host(...): where the engine forwards when the file
    sets no `dns:`) are not the project's."""
    return re.sub(r"host\([^)]*\)", "host(<the machine's>)", text)


def _rules(save: str) -> list[str]:
    return [re.sub(r"\[\d+:\d+\]", "[0:0]", line) for line in save.splitlines() if not line.startswith("#")]


def askers(containers: dict) -> dict[str, str]:
    """network -> the container asking its DNS: the first by name with its own netns there,
    one not asking for another network if there is one."""
    out: dict[str, str] = {}
    able = {net: [name for name in sorted(containers) if net in containers[name]["endpoints"]
                  and containers[name]["running"] and containers[name]["interfaces"]]
            for net in sorted({n for c in containers.values() for n in c["endpoints"]})}
    for net in sorted(able, key=lambda n: (len(able[n]), n)):     # the scarcest choose first
        fresh = [name for name in able[net] if name not in out.values()]
        if able[net]:
            out[net] = (fresh or able[net])[0]
    return dict(sorted(out.items()))


def dns_names(config: dict, containers: dict, networks: dict) -> list[str]:
    """Every name the project could make resolvable."""
    names = set(containers)
    for svc, s in (config.get("services") or {}).items():
        names.add(svc)
        if s.get("container_name"):
            names.add(s["container_name"])
        for link in (s.get("links") or []) + (s.get("external_links") or []):
            names.update(link.split(":"))
        for net, attach in (s.get("networks") or {}).items():
            names.add(f"{svc}.{net}")
            docker_name = (networks.get(net) or {}).get("name")
            if docker_name:
                names.add(f"{svc}.{docker_name}")
            names.update((attach or {}).get("aliases") or [])
        if s.get("hostname"):
            names.add(s["hostname"])
    return sorted(names)


def _dns(oracle: Oracle, config: dict, containers: dict, networks: dict) -> dict:
    return probe_dns(lambda name, script: _exec(oracle, name, script), config, containers, networks)


def probe_dns(run: Run, config: dict, containers: dict, networks: dict, nslookup: str = "nslookup",
              again: bool = False) -> dict:
    """What the embedded DNS answers each asker (`askers`) for every name of `dns_names`,
    `run(container, script)` running a shell script in a container. `again`: a question
    unanswered within 1 s is asked once more, alone, with 3 s (a loaded machine)."""
    names = dns_names(config, containers, networks)
    # in parallel: a name Docker does not know is forwarded to the machine's resolver,
    # which the engine's namespace cannot reach, and only a timeout ends that query
    chosen = askers(containers)

    def script(net: str) -> str:
        d = f"/tmp/dns-{net}-{os.getpid()}"
        return f"mkdir -p {d}; " + " ".join(
            f"(echo '==name {n}'; {nslookup} -timeout=1 -retry=1 {n} 127.0.0.11) >{d}/{i} 2>&1 &"
            for i, n in enumerate(names)) + f" wait; cat {d}/*; rm -rf {d}"

    def ask(net: str) -> dict[str, list[str]]:
        got = _nslookup(run(chosen[net], script(net)))
        retry = [n for n in names if not got.get(n)] if again else []
        if retry:
            got |= _nslookup(run(chosen[net], "; ".join(
                f"echo '==name {n}'; {nslookup} -timeout=3 -retry=1 {n} 127.0.0.11 2>&1" for n in retry)))
        return got

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = dict(zip(chosen, pool.map(ask, chosen)))
    return {net: {"asker": chosen[net], "answers": answers[net]} for net in sorted(chosen)}


def _reach(oracle: Oracle, containers: dict, ipv6: bool) -> dict[str, dict[str, bool]]:
    return probe_reach(lambda name, script: _exec(oracle, name, script), containers, ipv6)


def probe_reach(run: Run, containers: dict, ipv6: bool) -> dict[str, dict[str, bool]]:
    """ping from every container with its own netns to every address of every container."""
    targets: dict[str, str] = {}
    for name, c in sorted(containers.items()):
        for net, ep in c["endpoints"].items():
            if ep["ipv4"]:
                targets[f"{name}@{net}"] = ep["ipv4"]
            if ep["ipv6"]:
                targets[f"{name}@{net}/6"] = ep["ipv6"]
    targets["outside"] = OUTSIDE
    if ipv6:
        targets["outside/6"] = OUTSIDE6
    script = " ".join(f"(ping -c1 -W1 {a} >/dev/null 2>&1 && echo '{t} ok' || echo '{t} no') &"
                      for t, a in targets.items()) + " wait"
    sources = [n for n, c in sorted(containers.items()) if c["running"] and c["interfaces"]]

    def measure(source: str) -> dict[str, bool]:
        got = dict(line.split() for line in run(source, script).splitlines() if len(line.split()) == 2)
        return {t: got.get(t) == "ok" for t in targets}

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(sources, pool.map(measure, sources)))


def _tcp(oracle: Oracle, containers: dict) -> dict[str, dict[str, str | None]]:
    return probe_tcp(lambda name, script: _exec(oracle, name, script), containers)


def probe_tcp(run: Run, containers: dict, nc: str = "nc", workers: int = 1) -> dict[str, dict[str, str | None]]:
    """TCP from every container with its own netns to every listener (each exposed or
    published TCP port) on every address of every container: the hostname that answered,
    None when refused or silent."""
    targets: dict[str, tuple[str, str]] = {}
    for name, c in sorted(containers.items()):
        ports = [p.split("/")[0] for p in c["exposed"] if p.endswith("/tcp") or "/" not in p]   # expose: "3306"
        for net, ep in c["endpoints"].items():
            for family, suffix in (("ipv4", ""), ("ipv6", "/6")):
                for port in ports:
                    if ep[family]:
                        targets[f"{name}@{net}{suffix}:{port}"] = (ep[family], port)
    if not targets:
        return {}
    # one connection at a time: probed concurrently, busybox `nc -ll` listeners missed some
    # connections at random (3 cells in 5 runs of 10-dual-stack), as if they queued only one
    script = " ".join(f"r=$({nc} -w 1 {a} {p} </dev/null 2>/dev/null); echo \"{t} ${{r:-none}}\";"
                      for t, (a, p) in targets.items())
    sources = [n for n, c in sorted(containers.items()) if c["running"] and c["interfaces"]]

    def measure(source: str) -> dict[str, str | None]:
        got = dict(line.split(None, 1) for line in run(source, script).splitlines() if " " in line)
        return {t: (None if got.get(t, "none").strip() == "none" else got[t].strip()) for t in targets}

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(sources, pool.map(measure, sources)))


def _published(oracle: Oracle, containers: dict) -> dict[str, str | None]:
    return probe_published(f"{oracle.netns}-ext", containers)


def probe_published(outside: str, containers: dict) -> dict[str, str | None]:
    """TCP from the outside namespace to each published port on the host's LAN address(es):
    the hostname the listener answered with, None when refused or silent."""
    probes: dict[str, tuple[str, str]] = {}
    for c in containers.values():
        for spec, bindings in c["ports"].items():
            if not spec.endswith("/tcp"):
                continue
            for binding in bindings:
                host_ip, _, port = binding.rpartition(":")
                if host_ip in ("0.0.0.0", ""):
                    probes[f"{HOST}:{port}"] = (HOST, port)
                elif host_ip == "::":
                    probes[f"[{HOST6}]:{port}"] = (HOST6, port)

    def probe(target: tuple[str, str]) -> str | None:
        r = subprocess.run(["ip", "netns", "exec", outside, "busybox", "nc", "-w", "2", *target],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
        return r.stdout.strip() or None

    with ThreadPoolExecutor(max_workers=8) as pool:
        out = dict(zip(probes, pool.map(probe, probes.values())))
    return dict(sorted(out.items()))


# -- ids out --------------------------------------------------------------

def normalised(facts: dict, ctrs: list[dict], nets: list[dict]) -> dict:
    """Container and network ids (random per run) replaced by <cid:NAME> and <nid:NAME>."""
    swaps = []
    for c in ctrs:
        swaps.append((c["Id"], f"<cid:{c['Name'].lstrip('/')}>"))
    for n in nets:
        swaps.append((n["Id"], f"<nid:{n['Name']}>"))
    pattern = re.compile("|".join(f"{i[:12]}[0-9a-f]*" for i, _ in swaps)) if swaps else None
    table = {i[:12]: token for i, token in swaps}

    return map_strings(facts, lambda v: pattern.sub(lambda m: table[m.group(0)[:12]], v) if pattern else v)


# -- one whole run ------------------------------------------------------------------

def run_file(file: Path, netns: str, project: str | None = None, profiles: tuple[str, ...] = (),
             workdir: Path | None = None) -> dict:
    """A fresh engine, `docker compose up -d`, collect, `docker compose down`, engine gone."""
    doc = yaml.safe_load(file.read_text())
    given, notes = substitute(doc)
    project = project or doc.get("name") or file.stem
    workdir = workdir or Path("/tmp") / f"{netns}-compose"
    workdir.mkdir(parents=True, exist_ok=True)
    substituted = workdir / file.name
    substituted.write_text(yaml.safe_dump(given, sort_keys=False))
    with Oracle(netns, **oracle_args(ENGINE)) as oracle:
        for command in BEFORE.get(file.stem, ()):
            oracle.docker(command)
        compose = Compose(oracle, project, substituted, profiles)
        compose("up", "-d", "--quiet-pull")
        facts = collect(oracle, compose)
        compose("down", "--timeout", "0")    # sleep as pid 1 ignores SIGTERM: 10 s saved
        left = oracle.docker(f"network ls -q --filter label=com.docker.compose.project={project}").split()
        left += oracle.docker(f"ps -aq --filter label=com.docker.compose.project={project}").split()
    facts["file"] = file.name
    facts["profiles"] = list(profiles)
    facts["notes"] = notes
    facts["warnings"] = compose.warnings
    facts["left_after_down"] = len(left)
    return facts


def dump(facts: dict) -> str:
    return json.dumps(facts, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", type=Path, nargs="+")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--profile", action="append", default=[])
    p.add_argument("--out", type=Path, default=None, help="write <stem>.run<N>.json here")
    p.add_argument("--netns", default="e-compose")
    args = p.parse_args(argv)
    for run in range(1, args.runs + 1):
        for file in args.file:
            started = time.monotonic()
            profiles = tuple(args.profile) or FILES.get(file.stem, ())
            try:
                facts = run_file(file, args.netns, profiles=profiles)
            except Exception as e:      # noqa: BLE001 - one file's failure is reported, the rest run
                print(f"{file.name} run {run}: FAILED {e}", file=sys.stderr)
                continue
            took = time.monotonic() - started
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / f"{file.stem}.run{run}.json").write_text(dump(facts))
            else:
                sys.stdout.write(dump(facts))
            print(f"{file.name} run {run}: {took:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
