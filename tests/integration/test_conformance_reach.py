"""netlab's reachability against real Docker engines (issue 3, part c; 20.10, 26.1 and 28.5,
engines.py): for each scenario and engine a golden lab is brought up with netlab under that
engine's profile and built in that real engine (oracle.SCENARIOS), every container
port gets the same listener on both sides (listener.py), and the same matrix of probes runs
on both: container<->container by ICMP and on each exposed port (links under icc=false),
container->outside, and for each published port outside->host, host->127.0.0.1, host->its
own address and container->host address (hairpin). Every cell must match."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from engines import ENGINES, oracle_args, tag
from oracle import Oracle, cases_on, scenario, unavailable

from netlab.kernel import probe
from netlab.model import load_file, targets

needs_oracle = pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")
LISTENER = Path(__file__).with_name("listener.py")
OUTSIDE = "203.0.113.10"

# Golden labs whose options between them cover icc, ip-masq, internal, userland-proxy on and
# off, host_binding_ipv4, links under icc=false, published tcp and udp ports.
CASES = ["published_ports", "icc_off_hairpin", "user_networks", "ip_masq_off", "iptables_off",
         "ip_forward_off", "internal", "network_options", "host_binding", "snat", "links",
         "shared_bindings", "gateway_choice", "address_pools", "iptables28_gateway_modes"]


@dataclass(frozen=True)
class Cell:
    """One probe: from a place (container name, `host` or `outside`) to address:port."""

    source: str
    address: str
    port: int | None = None     # None: ICMP echo
    proto: str = "tcp"
    what: str = ""

    def __str__(self) -> str:
        to = self.address if self.port is None else f"{self.address}:{self.port}/{self.proto}"
        return f"{self.what}: {self.source} -> {to}"

    def probe(self, places: dict[str, str]) -> tuple:
        ns = places[self.source]
        if self.port is None:
            return probe.ping, ns, self.address
        fn = probe.tcp_connect if self.proto == "tcp" else probe.udp_echo
        return fn, ns, self.address, self.port


def probed(topo) -> list:
    """The containers with their own addresses: the probes' sources and targets."""
    return [c for c in topo.containers if c.mode not in ("host", "container") and c.attachments]


def matrix(topo) -> list[Cell]:
    containers = probed(topo)
    host = str(topo.hosts[0].address)
    cells = []
    for a in containers:
        cells.append(Cell(a.name, OUTSIDE, what="container->outside"))
        for b in containers:
            if a is b:
                continue
            to = str(targets.address(topo, a.name, b.name))
            same = {x.network for x in a.attachments} & {x.network for x in b.attachments}
            kind = "same network" if same else "other network"
            cells.append(Cell(a.name, to, what=f"ping {kind}"))
            cells += [Cell(a.name, to, port, proto, f"{kind} port") for port, proto in b.exposed]
    published = dict.fromkeys((p.host_port, p.proto) for c in containers for p in c.ports)
    for port, proto in published:
        cells.append(Cell("outside", host, port, proto, "outside->published"))
        cells.append(Cell("host", "127.0.0.1", port, proto, "host->loopback published"))
        cells.append(Cell("host", host, port, proto, "host->own address published"))
        cells += [Cell(c.name, host, port, proto, "hairpin") for c in containers]
    return cells


def listen(places: dict[str, str], topo) -> list[subprocess.Popen]:
    """A listener.py in each container on all its ports; this machine's python, since
    Docker's busybox image has no udp server."""
    procs = []
    try:
        for c in probed(topo):
            if c.exposed:
                procs.append(subprocess.Popen(
                    ["ip", "netns", "exec", places[c.name], sys.executable, str(LISTENER),
                     *(f"{port}/{proto}" for port, proto in c.exposed)],
                    stdout=subprocess.PIPE, text=True))
                assert procs[-1].stdout.readline().strip() == "ready", f"listener in {c.name}"
        return procs
    except BaseException:
        stop(procs)
        raise


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.kill()
        p.wait()


def measure(cells: list[Cell], sides: list[dict[str, str]], topo) -> list[list[bool]]:
    """The matrix on every side at once: all probes wait on their timeouts together (a refused
    or dropped one takes seconds, and one round beats probe.run_all's rounds of 16)."""
    procs: list[subprocess.Popen] = []
    try:
        for places in sides:
            procs += listen(places, topo)
        probes = [cell.probe(places) for places in sides for cell in cells]
        with ThreadPoolExecutor(max_workers=len(probes)) as pool:
            done = list(pool.map(lambda p: p[0](*p[1:]), probes))
        return [done[i * len(cells):(i + 1) * len(cells)] for i in range(len(sides))]
    finally:
        stop(procs)


def netlab_side(topo) -> dict[str, str]:
    places = {c.name: targets.endpoint(topo, c.name).netns for c in probed(topo)}
    return {**places, "host": topo.hosts[0].netns, "outside": topo.outside_netns}


def docker_side(docker: Oracle, topo) -> dict[str, str]:
    places = {c.name: docker.attach(c.name) for c in probed(topo)}
    return {**places, "host": docker.netns, "outside": f"{docker.netns}-ext"}


def as_rc_lab(text: str, engine: str) -> str:
    """The golden lab as `r<engine tag><name>` on that engine (a lab that names its engine
    names this one), so that it runs beside the other tests' labs and the other engines' runs
    of the same scenario."""
    text = re.sub(r"^name: (\w+)", rf"name: r{tag(engine)}\g<1>", text, count=1, flags=re.M)
    return text if re.search(r"^engine:", text, flags=re.M) else f"engine: '{engine}'\n{text}"


def built_in_docker(stack: ExitStack, name: str, spec, args: dict) -> Oracle:
    docker = stack.enter_context(Oracle(name, spec.dockerd_args, **args))
    for command in spec.commands:
        docker.docker(command)
    return docker


@pytest.mark.oracle
@pytest.mark.root
@needs_oracle
@pytest.mark.parametrize(("engine", "case"), cases_on(ENGINES, CASES))
def test_reachability_matches_docker(engine: str, case: str, make_lab):
    sc = scenario(case)
    args = oracle_args(engine)
    (spec,) = sc.hosts.values()
    name = f"nlr-{case.replace('_', '-')}-{tag(engine)}"
    try:
        with ExitStack() as stack:
            # the engine starts while netlab brings the lab up; leaving the pool waits for it,
            # so the stack always takes down an engine that came up
            with ThreadPoolExecutor(max_workers=1) as pool:
                started = pool.submit(built_in_docker, stack, name, spec, args)
                path, _ = make_lab(as_rc_lab(sc.lab, engine), f"{case}.yaml")
            docker = started.result()
            topo = load_file(path)
            assert topo.hosts[0].engine.name == engine
            cells = matrix(topo)
            ours, theirs = measure(cells, [netlab_side(topo), docker_side(docker, topo)], topo)
    finally:
        left = [n for n in os.listdir("/run/netns") if n == name or n.startswith(f"{name}-")]
        assert not left, f"the engine oracle left namespaces {left} behind"
    wrong = [f"{engine} {case}: {cell}: Docker {d}, netlab {n}" for cell, d, n in zip(cells, theirs, ours) if d != n]
    assert not wrong, "\n".join(wrong)


def test_cases_are_scenarios():
    for case in CASES:
        assert scenario(case).hosts.keys() == {"node1"}, case
