"""IPv6 against a real Docker 28.5 (issue 14, Conformance): each scenario is a dual-stack lab
and the docker commands that build the same networks and containers in the same order. The
lab comes up with netlab while the engine oracle builds it in Docker, and then the same
readers run on both sides' namespaces (Docker's containers pinned by name):
- per container: its v4 and v6 addresses per interface (link-local shown as present, not by
  value), its IPv4 and IPv6 routes, disable_ipv6 of all, default and each interface;
- the host's iptables-save and ip6tables-save (every table), Docker's bridges renamed to the
  lab's, its IPv4 and IPv6 forwarding, and its bridges' IPv6 addresses;
- what the embedded DNS answers each container for every container name: A, AAAA, and the
  PTR of every IPv6 address;
- a reachability matrix over both families: ping between containers on every address, tcp
  to every exposed port on every address, to the stand-in internet hosts, and each published
  port from outside, from the host (loopback and own address) and from each container.
Every difference of a scenario is listed in its one failure, Docker's side as expected.

What these runs found netlab doing otherwise, fixed and pinned by unit tests: the dual-stack
network gives the default routes and the ports (a6gw, test_ipv6_gateway_choice.py), IPv6 off
per interface rather than for the whole namespace from 26.0 (a6dual, a6gw,
test_ipv6_kernel.py), no DNS forwarding from the host for internal-only containers (a6int,
test_dns_internal_forwarding.py). Run: `pytest tests/integration/test_conformance_ipv6.py`
(root, `make engines` first); each scenario takes seconds."""
from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path

import pytest
from conformance import resolver_ports_blanked, route_lines
from engine_oracle import OUTSIDE, OUTSIDE6, lan6
from engines import ENGINES, oracle_args, tag
from oracle import Oracle, unavailable

from netlab.kernel.dnsquery import ask, nameserver
from netlab.kernel.probe import tcp_connect
from netlab.model import load_file
from netlab.plan.firewall import normalize

needs_oracle = pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")
LISTENER = (str(Path(__file__).with_name("listener.py")), "--dual")     # both families
RESOLVER = "127.0.0.11"


@dataclass(frozen=True)
class Case:
    """A lab (name a6...) and what to tell Docker, in the lab's order."""

    name: str
    lab: str
    commands: tuple[str, ...]
    dockerd_args: str = ""


@dataclass(frozen=True)
class Run:
    """A case on one engine: the lab a6<rest><tag> under that engine's profile (8 characters:
    the case's name cut to 6), the engine's netns f6<rest><tag> (one per case and engine, so
    runs may go side by side)."""

    case: Case
    engine: str

    @property
    def name(self) -> str:
        return f"{self.case.name[:6]}{tag(self.engine)}"

    @property
    def oracle(self) -> str:
        return f"f6{self.case.name[2:]}{tag(self.engine)}"

    @property
    def text(self) -> str:
        return f'name: {self.name}\nengine: "{self.engine}"\n{self.case.lab}'


def dual(name: str, v4: str, v6: str, extra: str = "") -> str:
    """A network block with both families, as Compose writes it."""
    return (f"  {name}:\n    enable_ipv6: true\n{extra}"
            f"    ipam: {{config: [{{subnet: {v4}}}, {{subnet: \"{v6}\"}}]}}\n")


def create(name: str, v4: str, v6: str, options: str = "") -> str:
    return f"network create --ipv6 --subnet {v4} --subnet {v6} {options}{name}".replace("  ", " ")


CASES = [
    # a user bridge with both families: addresses in order, a static --ip6, and a container
    # on the IPv4-only default bridge beside them (IPv6 off in its namespace)
    Case("a6dual",
         "networks:\n" + dual("dual", "172.30.0.0/24", "2001:db8:2::/64")
         + "containers:\n  a1: {networks: [dual]}\n"
           "  b1: {networks: {dual: {ipv6_address: \"2001:db8:2::99\"}}}\n"
           "  c1: {}\n",
         (create("dual", "172.30.0.0/24", "2001:db8:2::/64"),
          "run -d --name a1 --network dual {image}",
          "run -d --name b1 --network dual --ip6 2001:db8:2::99 {image}",
          "run -d --name c1 {image}")),
    # a published port: DNAT in both families, reached over IPv6 from outside
    Case("a6pub",
         "networks:\n" + dual("web", "10.10.1.0/24", "fd00:10:1::/64")
         + "containers:\n  w1: {networks: [web], ports: [\"8080:80\"]}\n"
           "  w2: {networks: [web], expose: [81]}\n",
         (create("web", "10.10.1.0/24", "fd00:10:1::/64"),
          "run -d --name w1 --network web -p 8080:80 {image}",
          "run -d --name w2 --network web --expose 81 {image}")),
    # the same without the userland proxy: the hairpin and loopback DNATs of both families
    Case("a6pubnp",
         "hosts:\n  node1: {daemon: {userland-proxy: false}}\n"
         "networks:\n" + dual("web", "10.10.1.0/24", "fd00:10:1::/64")
         + "containers:\n  w1: {networks: [web], ports: [\"8080:80\"]}\n"
           "  w2: {networks: [web]}\n",
         (create("web", "10.10.1.0/24", "fd00:10:1::/64"),
          "run -d --name w1 --network web -p 8080:80 {image}",
          "run -d --name w2 --network web {image}"),
         "--userland-proxy=false"),
    # icc off on a dual-stack network: each family drops between its containers
    Case("a6icc",
         "networks:\n" + dual("quiet", "10.10.5.0/24", "fd00:10:5::/64",
                              "    driver_opts: {com.docker.network.bridge.enable_icc: \"false\"}\n")
         + "containers:\n  q1: {networks: [quiet], ports: [\"8100:80\"]}\n"
           "  q2: {networks: [quiet], expose: [81]}\n",
         (create("quiet", "10.10.5.0/24", "fd00:10:5::/64", "-o com.docker.network.bridge.enable_icc=false "),
          "run -d --name q1 --network quiet -p 8100:80 {image}",
          "run -d --name q2 --network quiet --expose 81 {image}")),
    # an internal dual-stack network beside a routed one: no way out in either family
    Case("a6int",
         "networks:\n" + dual("priv", "10.10.6.0/24", "fd00:10:6::/64", "    internal: true\n")
         + dual("pub", "10.10.7.0/24", "fd00:10:7::/64")
         + "containers:\n  db: {networks: [priv], expose: [5432]}\n"
           "  app: {networks: [priv, pub], ports: [\"8080:80\"]}\n"
           "  solo: {networks: [pub]}\n",
         (create("priv", "10.10.6.0/24", "fd00:10:6::/64", "--internal "),
          create("pub", "10.10.7.0/24", "fd00:10:7::/64"),
          "run -d --name db --network priv --expose 5432 {image}",
          "run -d --name app --network priv -p 8080:80 {image}",
          "network connect pub app",
          "run -d --name solo --network pub {image}")),
    # docker0 with IPv6 (daemon ipv6 and fixed-cidr-v6)
    Case("a6d0",
         "hosts:\n  node1: {daemon: {ipv6: true, fixed-cidr-v6: \"fd00:d0::/64\"}}\n"
         "containers:\n  d1: {ports: [\"8080:80\"]}\n  d2: {}\n",
         ("run -d --name d1 -p 8080:80 {image}", "run -d --name d2 {image}"),
         "--ipv6 --fixed-cidr-v6 fd00:d0::/64"),
    # which network gives the default routes: an IPv4-only network whose name sorts first
    # and a dual-stack one, joined in both orders
    Case("a6gw",
         "networks:\n  aa: {}\n" + dual("zz", "10.10.8.0/24", "fd00:10:8::/64")
         + "containers:\n  m1: {networks: [zz, aa], ports: [\"8400:80\"]}\n"
           "  m2: {networks: [aa, zz], ports: [\"8401:80\"]}\n",
         ("network create aa", create("zz", "10.10.8.0/24", "fd00:10:8::/64"),
          "run -d --name m1 --network zz -p 8400:80 {image}", "network connect aa m1",
          "run -d --name m2 --network aa -p 8401:80 {image}", "network connect zz m2")),
]


# -- what both sides are read for ----------------------------------------------------------

def in_netns(ns: str, *argv: str) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True,
                          timeout=60).stdout


def addresses(ns: str) -> list[str]:
    """`dev family address/len` for every address but lo's IPv4 one (lo's ::1 tells whether
    IPv6 is on), a link-local one by presence."""
    out = []
    for line in subprocess.run(["ip", "-n", ns, "-o", "addr", "show"], capture_output=True,
                               text=True, check=True).stdout.splitlines():
        m = re.match(r"\d+:\s+(\S+?)(?:@\S+)?\s+(inet6?)\s+(\S+)", line)
        if not m or (m[1] == "lo" and m[2] == "inet"):
            continue
        cidr = "fe80::<link-local>/64" if m[3].startswith("fe80:") else m[3]
        out.append(f"{m[1]} {m[2]} {cidr}")
    return sorted(out)


def routes(ns: str, rename: dict[str, str] | None = None) -> dict[str, list[str]]:
    """route_lines per family; veth names are the engine's random choice: `veth` only."""
    out = {}
    for family in ("-4", "-6"):
        shown = subprocess.run(["ip", "-n", ns, family, "route", "show"], capture_output=True, text=True,
                               check=True).stdout
        out[family] = sorted(re.sub(r"\bveth\w+", "veth", line)
                             for line in shown.splitlines() for line in route_lines(line, rename))
    return out


def ipv6_switches(ns: str) -> dict[str, str]:
    """disable_ipv6 (and forwarding) of all, default and each interface but bridges and veths."""
    text = in_netns(ns, "sh", "-c", "cd /proc/sys/net/ipv6/conf && for d in *; do "
                    "echo $d $(cat $d/disable_ipv6) $(cat $d/forwarding); done")
    out = {}
    for line in text.splitlines():
        dev, disabled, forwarding = line.split()
        if not dev.startswith(("veth", "br-", "docker0")):
            out[dev] = f"disable_ipv6={disabled} forwarding={forwarding}"
    return out


@dataclass
class Side:
    """One side's namespaces: containers by name, `host`, `outside`; its bridges renamed."""

    places: dict[str, str]
    rename: dict[str, str]
    host4: str
    host6: str
    resolver: dict[str, str]        # container -> its nameserver, embedded DNS only


def container_facts(side: Side, names: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for c in names:
        ns = side.places[c]
        out[f"{c} addresses"] = addresses(ns)
        for family, lines in routes(ns).items():
            out[f"{c} routes {family}"] = lines
        out[f"{c} ipv6"] = ipv6_switches(ns)
    return out


def bridge_addresses(ns: str, rename: dict[str, str]) -> list[str]:
    """`bridge address/len` of every IPv6 address on the host's bridges; a link-local one the
    kernel made by presence, fe80::1 (which dockerd before 27 adds) by value."""
    bridges = {line.split(":")[1].strip() for line in subprocess.run(
        ["ip", "-n", ns, "-o", "link", "show", "type", "bridge"], capture_output=True, text=True,
        check=True).stdout.splitlines()}
    out = []
    for line in subprocess.run(["ip", "-n", ns, "-o", "-6", "addr", "show"],
                               capture_output=True, text=True, check=True).stdout.splitlines():
        _, dev, _, cidr, *_ = line.split()
        if dev not in bridges:
            continue
        if cidr.startswith("fe80:") and cidr != "fe80::1/64":
            cidr = "fe80::<link-local>/64"
        out.append(f"{rename.get(dev, dev)} {cidr}")
    return sorted(out)


def host_facts(side: Side) -> dict[str, object]:
    ns = side.places["host"]
    out: dict[str, object] = {"host bridges' IPv6 addresses": bridge_addresses(ns, side.rename)}
    for tool in ("iptables-save", "ip6tables-save"):
        out[f"host {tool}"] = normalize(in_netns(ns, tool), side.rename)
    for family, lines in routes(ns, side.rename).items():
        out[f"host routes {family}"] = lines
    for path in ("ipv4/ip_forward", "ipv6/conf/all/forwarding", "ipv6/conf/default/forwarding",
                 "ipv6/conf/all/disable_ipv6"):
        out[f"host {path}"] = in_netns(ns, "cat", f"/proc/sys/net/{path}").strip()
    return out


def dns_facts(side: Side, names: list[str], v6: dict[str, list[str]]) -> dict[str, object]:
    """A, AAAA and ip6.arpa PTR answers, asked concurrently from every container with the
    embedded DNS."""
    questions = [(c, name, qtype) for c in side.resolver for name in names for qtype in ("A", "AAAA")]
    questions += [(c, arpa6(address), "PTR") for c in side.resolver for other in names for address in v6[other]]

    def answer(q: tuple[str, str, str]) -> list[str]:
        c, name, qtype = q
        reply = ask(side.resolver[c], name, qtype, ns=side.places[c], timeout=ASKED)
        if reply is None or reply.header.rcode == 3:
            # a name the embedded DNS does not know goes to the host's resolvers: none answers
            # in the oracle's namespace, netlab's stand-in says NXDOMAIN; a forward that goes
            # nowhere (an internal network on 20.10) is silent past ASKED on both sides
            return ["<forwarded>"]
        return sorted(str(rr.rdata).rstrip(".") for rr in reply.rr) or [f"<empty, rcode {reply.header.rcode}>"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        return {f"dns {c} {qtype} {name}": a for (c, name, qtype), a in zip(questions, pool.map(answer, questions))}


# how long a DNS question waits: below the agent's 2 s per upstream (netlab/agent/dns.py
# FORWARD_TRY; dockerd's is 4 s), so a forward that goes nowhere reads as unanswered on both
# sides rather than racing the agent's SERVFAIL
ASKED = 1.5


def arpa6(address: str) -> str:
    return ".".join(reversed(ip_address(address).exploded.replace(":", ""))) + ".ip6.arpa"


# -- the reachability matrix ----------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    source: str         # a container, `host` or `outside`
    target: str         # an address, or `host4`/`host6`: the side's own host address
    port: int | None = None
    what: str = ""

    def __str__(self) -> str:
        to = self.target if self.port is None else f"[{self.target}]:{self.port}"
        return f"{self.what}: {self.source} -> {to}"


def ping(ns: str, address: str) -> bool:
    return subprocess.run(["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", "2", "-i", "0.3", "-W", "1",
                           address], capture_output=True, timeout=30).returncode == 0


def matrix(topo) -> list[Cell]:
    containers = probed(topo)
    cells = []
    for a in containers:
        cells += [Cell(a.name, OUTSIDE, what="to the internet v4"), Cell(a.name, OUTSIDE6, what="to the internet v6")]
        for b in containers:
            if a is b:
                continue
            for att in b.attachments:
                for address in filter(None, (att.address, att.address6)):
                    to = str(address.ip)
                    cells.append(Cell(a.name, to, what=f"ping {b.name}.{att.network}"))
                    cells += [Cell(a.name, to, port, f"tcp {b.name}.{att.network}")
                              for port, proto in b.exposed if proto == "tcp"]
    published = dict.fromkeys(p.host_port for c in containers for p in c.ports if p.proto == "tcp")
    for port in published:
        for family in ("host4", "host6"):
            cells.append(Cell("outside", family, port, "outside->published"))
            cells.append(Cell("host", family, port, "host->own address published"))
            cells += [Cell(c.name, family, port, "container->host address published") for c in containers]
        cells += [Cell("host", "127.0.0.1", port, "host->loopback published"),
                  Cell("host", "::1", port, "host->loopback published")]
    return cells


def probed(topo) -> list:
    return [c for c in topo.containers if c.mode not in ("host", "container") and c.attachments]


def measure(cells: list[Cell], sides: list[Side], topo) -> list[list[bool]]:
    procs: list[subprocess.Popen] = []
    try:
        for side in sides:
            for c in probed(topo):
                if c.exposed:
                    procs.append(subprocess.Popen(
                        ["ip", "netns", "exec", side.places[c.name], sys.executable, *LISTENER,
                         *(f"{port}/{proto}" for port, proto in c.exposed)], stdout=subprocess.PIPE, text=True))
                    assert procs[-1].stdout.readline().strip() == "ready", f"listener in {c.name}"

        def run(job: tuple[Side, Cell]) -> bool:
            side, cell = job
            target = {"host4": side.host4, "host6": side.host6}.get(cell.target, cell.target)
            ns = side.places[cell.source]
            return ping(ns, target) if cell.port is None else tcp_connect(ns, target, cell.port)
        jobs = [(side, cell) for side in sides for cell in cells]
        with ThreadPoolExecutor(max_workers=64) as pool:
            done = list(pool.map(run, jobs))
        per_side = [done[i * len(cells):(i + 1) * len(cells)] for i in range(len(sides))]
        # a cell the sides disagree on is measured again, alone: 64 probes at once on a loaded
        # machine can time a slow path out (seen once: 26.1's docker-proxy to [host6]:8080)
        for i, cell in enumerate(cells):
            if len({row[i] for row in per_side}) > 1:
                for row, side in zip(per_side, sides):
                    row[i] = run((side, cell))
        return per_side
    finally:
        for p in procs:
            p.kill()
            p.wait()


# -- the two sides ---------------------------------------------------------------------------

def embedded_dns(topo) -> list[str]:
    """Containers with a user-defined network: their nameserver is the embedded one."""
    return [c.name for c in probed(topo) if any(a.network != "bridge" for a in c.attachments)]


def netlab_side(topo) -> Side:
    host = topo.hosts[0]
    places = {c.name: c.netns for c in probed(topo)}
    resolver = {c: nameserver(f"/etc/netns/{places[c]}/resolv.conf") for c in embedded_dns(topo)}
    assert host.address6 is not None, "a lab with IPv6 gives its hosts the LAN's IPv6 twin"
    return Side({**places, "host": host.netns, "outside": topo.outside_netns}, {},
                str(host.address), str(host.address6), resolver)


def docker_side(docker: Oracle, topo) -> Side:
    places = {c.name: docker.attach(c.name) for c in probed(topo)}
    by_subnet = docker.bridges()
    rename = {by_subnet[s.subnet]: s.device for s in topo.segments_on(topo.hosts[0].name)
              if s.driver == "bridge" and s.subnet in by_subnet}
    address = docker.engine.address
    return Side({**places, "host": docker.netns, "outside": f"{docker.netns}-ext"}, rename,
                address.split("/")[0], lan6(address).split("/")[0], dict.fromkeys(embedded_dns(topo), RESOLVER))


def facts(side: Side, topo) -> dict[str, object]:
    names = [c.name for c in probed(topo)]
    v6 = {c.name: [str(a.address6.ip) for a in c.attachments if a.address6] for c in probed(topo)}
    out = {**host_facts(side), **container_facts(side, names), **dns_facts(side, names, v6)}
    return {k: resolver_ports_blanked(v) if isinstance(v, str) else v for k, v in out.items()}


def differences(ours: dict[str, object], theirs: dict[str, object]) -> list[str]:
    wrong = []
    for key in dict.fromkeys([*theirs, *ours]):
        if ours.get(key) != theirs.get(key):
            a, b = theirs.get(key), ours.get(key)
            if isinstance(a, str) and isinstance(b, str):
                diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "Docker", "netlab", lineterm="", n=1)
                wrong.append(f"{key}:\n" + "\n".join(f"    {d}" for d in diff))
            else:
                wrong.append(f"{key}: expected (Docker) {a}, got (netlab) {b}")
    return wrong


def built_in_docker(stack: ExitStack, run: Run, args: dict) -> Oracle:
    docker = stack.enter_context(Oracle(run.oracle, run.case.dockerd_args, **args))
    for command in run.case.commands:
        docker.docker(command)
    return docker


RUNS = [pytest.param(Run(c, e), id=f"{e}-{c.name}") for e in ENGINES for c in CASES]


@pytest.mark.oracle
@pytest.mark.root
@needs_oracle
@pytest.mark.parametrize("run", RUNS)
def test_ipv6_matches_docker(run: Run, make_lab):
    case, engine = run.case, run.engine
    args = oracle_args(engine)
    try:
        with ExitStack() as stack:
            with ThreadPoolExecutor(max_workers=1) as pool:
                started = pool.submit(built_in_docker, stack, run, args)
                path, _ = make_lab(run.text, f"{run.name}.yaml")
            docker = started.result()
            topo = load_file(path)
            ours, theirs = netlab_side(topo), docker_side(docker, topo)
            seen, expected_facts = facts(ours, topo), facts(theirs, topo)
            wrong = differences(seen, expected_facts)
            cells = matrix(topo)
            got, expected = measure(cells, [ours, theirs], topo)
    finally:
        left = [n for n in os.listdir("/run/netns") if n == run.oracle or n.startswith(f"{run.oracle}-")]
        assert not left, f"the engine oracle left namespaces {left} behind"
    wrong += [f"{cell}: Docker {d}, netlab {n}" for cell, d, n in zip(cells, expected, got) if d != n]
    print(f"{engine} {case.name}: {len(expected_facts)} facts and {len(cells)} probes compared")
    assert not wrong, f"engine {engine}, scenario {case.name}: {len(wrong)} differences\n" + "\n".join(wrong)
    assert any(expected), "the matrix must have cells that pass"
    if theirs.resolver:     # the embedded DNS gave IPv6 addresses: AAAA was compared for real
        assert any(":" in "".join(v) for k, v in expected_facts.items() if " AAAA " in k and isinstance(v, list))
