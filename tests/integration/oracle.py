"""A real Docker engine in its own namespaces (engine_oracle.py, run in-process), to compare
netlab against: the machine's docker.io 20.10 unless DOCKERD=/path/to/dockerd and
CONTAINERD=/path/to/containerd (or Oracle's dockerd, containerd and cli; engines.py gives them
for 26.1 and 28.5) choose another. Everything it makes is removed on exit, even when `up`
fails. NETLAB_DOCKER_ORACLE, the path of an external script, is gone with it."""
from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

import pytest
import yaml
from engine_oracle import HOST_ADDRESS, IMAGE, Engine, missing

from netlab.engine import engine_named

KEEP_RUNNING = "sleep 3600"


def unavailable() -> str | None:
    """Why the oracle cannot run here, or None when it can."""
    return missing()


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


class Oracle:
    """`with Oracle("nlo-x", "--icc=false") as docker:` runs dockerd in netns nlo-x."""

    def __init__(self, netns: str, dockerd_args: str = "", dockerd: str | None = None,
                 containerd: str | None = None, cli: str | None = None, address: str = HOST_ADDRESS):
        self.netns = netns
        self.engine = Engine(netns, dockerd_args, dockerd=dockerd, containerd=containerd, cli=cli,
                             address=address)
        self.env = self.engine.env

    def __enter__(self) -> Oracle:
        self.engine.up()        # takes down what it made and raises, naming the log, if it fails
        return self

    def __exit__(self, *exc) -> None:
        # dockerd would stop running containers gracefully on exit (10 s each for a `sleep` that
        # ignores SIGTERM as pid 1), and even `docker rm -f` first costs a second or two per
        # engine: the engine is thrown away, so its daemons are killed and cleaned up after
        self.engine.down(kill=True)

    def docker(self, command: str) -> str:
        """One docker CLI command; `{image}` stands for a long-running busybox container."""
        args = shlex.split(command.replace("{image}", f"{IMAGE} {KEEP_RUNNING}"))
        r = subprocess.run([self.engine.cli, *args], capture_output=True, text=True, env=self.env, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"docker {command} failed: {r.stderr.strip()}")
        return r.stdout

    def attach(self, container: str) -> str:
        """Pin a container's netns as /run/netns/<oracle>-c-<container>, so the code that
        probes netlab's namespaces by name probes Docker's the same way; removed on exit."""
        pid = self.docker(f"inspect -f {{{{.State.Pid}}}} {container}").strip()
        name = f"{self.netns}-c-{container}"
        self.engine.pin(name, int(pid))
        return name

    def _in_netns(self, *command: str, netns: str | None = None) -> str:
        return subprocess.run(["ip", "netns", "exec", netns or self.netns, *command],
                              capture_output=True, text=True, check=True).stdout

    def iptables_save(self, netns: str | None = None) -> str:
        """The engine host's (or a pinned container's) iptables-save."""
        return self._in_netns("iptables-save", netns=netns)

    def ip6tables_save(self, netns: str | None = None) -> str:
        return self._in_netns("ip6tables-save", netns=netns)

    def routes(self, netns: str | None = None, family: str = "-4") -> str:
        """`ip -4 route show` (the main table; family "-6" for IPv6's) of the engine host or a
        pinned container."""
        return subprocess.run(["ip", "-n", netns or self.netns, family, "route", "show"],
                              capture_output=True, text=True, check=True).stdout

    def sysctl(self, path: str) -> str:
        """A value below /proc/sys, as the engine's namespace sees it."""
        return self._in_netns("cat", f"/proc/sys/{path}").strip()

    def hairpin_modes(self) -> set[str]:
        """hairpin_mode of every bridge port (`ip netns exec` mounts the namespace's /sys)."""
        out = self._in_netns("sh", "-c", "cat /sys/class/net/*/brport/hairpin_mode 2>/dev/null; true")
        return set(out.split())

    def bridges(self) -> dict[IPv4Network | IPv6Network, str]:
        """Each bridge network's subnets (IPv4 and IPv6) and the Linux bridge Docker made for it."""
        names = self.docker("network ls --filter driver=bridge --format {{.Name}}").split()
        out = {}
        for net in json.loads(self.docker("network inspect " + " ".join(names))):
            device = net["Options"].get("com.docker.network.bridge.name") or "br-" + net["Id"][:12]
            for cfg in net["IPAM"]["Config"]:
                out[ip_network(cfg["Subnet"])] = device
        return out


# The scenarios: golden labs and the docker commands that build the same thing, shared by
# the rules and the reachability conformance tests.
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "rules"


@dataclass(frozen=True)
class Host:
    dockerd_args: str = ""
    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """A golden lab (tests/golden/rules/<case>.yaml) and, per host, what to tell Docker."""

    case: str
    hosts: dict[str, Host]

    @property
    def lab(self) -> str:
        return (GOLDEN / f"{self.case}.yaml").read_text()

    @property
    def engine(self) -> str | None:
        return pinned_engine(self.case)

    def netns(self, topo, host: str, tag: str = "") -> str:
        """nlo-<lab name>[-<host>][-<engine tag>]: unique per scenario, host and engine, since
        every golden lab has its own name (engines.tag gives the tag)."""
        name = f"nlo-{topo.name}" if len(self.hosts) == 1 else f"nlo-{topo.name}-{host}"
        return f"{name}-{tag}" if tag else name


def one(case: str, dockerd_args: str, *commands: str) -> Scenario:
    return Scenario(case, {"node1": Host(dockerd_args, commands)})


# Networks and containers in the lab's file order; `{image}` is a long-running busybox.
SCENARIOS = [
    one("daemon_defaults", ""),
    one("published_ports", "",
        "run -d --name web -p 8080:80 -p 127.0.0.1:8081:81 -p 5353:53/udp {image}",
        "run -d --name plain {image}"),
    one("reference_ports", "",
        "run -d --name first {image}",
        "run -d --name p8181 -p 8181:80 {image}",
        "run -d --name p8182 -p 127.0.0.1:8182:80 {image}",
        "run -d --name p8183 -p 8183:80/udp {image}",
        "run -d --name prange -p 8184-8186:80-82 {image}",
        "run -d --name pall --expose 90 --expose 91/udp -P {image}",
        "run -d --name pfree -p 8190-8195:80 {image}"),
    one("icc_off_hairpin", "--icc=false --userland-proxy=false",
        "run -d --name ra -p 8080:80 -p 127.0.0.1:8081:81 {image}",
        "run -d --name rb --link ra:web {image}",
        "run -d --name rc {image}"),
    one("user_networks", "",
        "network create front", "network create back", "network create mid",
        "run -d --name fe --network front -p 8000:80 {image}",
        "run -d --name be --network back {image}",
        "run -d --name md --network mid -p 8001:80/udp {image}",
        "run -d --name df -p 8002:80 {image}"),
    one("ip_masq_off", "--ip-masq=false",
        "network create n1",
        "run -d --name d0 -p 8080:80 {image}",
        "run -d --name d1 --network n1 -p 8081:80 {image}"),
    one("iptables_off", "--iptables=false",
        "network create n1",
        "run -d --name d0 -p 8080:80 {image}",
        "run -d --name d1 --network n1 -p 8081:80 {image}"),
    one("ip_forward_off", "--ip-forward=false --ip 127.0.0.1",
        "run -d --name d0 -p 8080:80 -p 0.0.0.0:8081:81 {image}"),
    one("internal", "",
        "network create --internal priv", "network create pub",
        "run -d --name db --network priv {image}",
        "run -d --name app --network priv -p 8080:80 {image}",
        "network connect pub app",
        "run -d --name solo --network pub {image}"),
    one("network_options", "",
        "network create -o com.docker.network.bridge.enable_icc=false quiet",
        "network create -o com.docker.network.bridge.enable_ip_masquerade=false nonat",
        "network create -o com.docker.network.bridge.name=nlnamed0"
        " -o com.docker.network.bridge.host_binding_ipv4=127.0.0.1 named",
        "run -d --name q1 --network quiet -p 8100:80 {image}",
        "run -d --name q2 --network quiet {image}",
        "run -d --name nn --network nonat -p 8200:80 {image}",
        "run -d --name hb --network named -p 8300:80 -p 0.0.0.0:8301:81 {image}"),
    one("host_binding", "",
        "network create --subnet 10.123.0.0/24 --ip-range 10.123.0.128/25 --gateway 10.123.0.254"
        " -o com.docker.network.bridge.name=r1br0"
        " -o com.docker.network.bridge.host_binding_ipv4=127.0.0.1 r1",
        "run -d --name hb --network r1 -p 8300:80 {image}"),
    one("snat", "--userland-proxy=false",
        "network create -o com.docker.network.host_ipv4=10.10.101.105 out",
        "run -d --name s1 --network out -p 8080:80 {image}"),
    one("port_order", "",
        "run -d --name ra -p 8184-8186:80-82 {image}",
        "run -d --name rb -p 8190-8195:80 {image}",
        "run -d --name rc --expose 90 --expose 91/udp -P {image}",
        "run -d --name rd -p 80 -p 81 {image}"),
    one("address_pools", "--bip 10.99.0.1/24 --fixed-cidr 10.99.0.128/25 --mtu 1400"
                         " --default-address-pool base=10.200.0.0/16,size=24",
        "network create n1", "network create n2",
        "run -d --name b0 -p 8080:80 {image}",
        "run -d --name b1 --network n2 -p 8081:80 {image}"),
    one("gateway_choice", "",
        "network create zz", "network create aa",
        "run -d --name mm --network zz -p 8400:80 {image}",
        "network connect aa mm",
        "run -d --name xx --network zz -p 8401:80 {image}"),
    one("links", "--icc=false",
        "run -d --name db --expose 5432 --expose 5433/udp {image}",
        "run -d --name cache -p 6379:6379 {image}",
        "run -d --name app1 --link db:database {image}",
        "run -d --name app2 --link cache {image}",
        "run -d --name app3 --link db -p 8080:80 {image}"),
    one("shared_bindings", "",
        "run -d --name t1 -p 9090:80 -p 127.0.0.1:9091:80 {image}",
        "run -d --name u1 -p 9092:80/udp -p 127.0.0.1:9093:80/udp {image}"),
    one("network_modes", "",
        "run -d --name hh --network host -p 8088:80 {image}",
        "run -d --name nn --network none {image}",
        "run -d --name base -p 8080:80 {image}",
        "run -d --name side --network container:base {image}"),
    one("macvlan", "",
        "network create -d macvlan --subnet 10.30.0.0/24 -o parent=eth0 mv",
        "run -d --name m1 --network mv -p 8080:80 {image}",
        "run -d --name d0 -p 8081:80 {image}"),
    one("iptables28_gateway_modes", "--icc=false --userland-proxy=false",
        "network create -o com.docker.network.bridge.gateway_mode_ipv4=routed routed",
        "network create -o com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected open",
        "network create --internal -o com.docker.network.bridge.gateway_mode_ipv4=isolated iso",
        "network create -o com.docker.network.host_ipv4=10.10.101.105 out",
        "run -d --name db --expose 5432 {image}",
        "run -d --name web --link db:database -p 8080:80 {image}",
        "run -d --name r1 --network routed -p 8081:80 -p 127.0.0.1:8082:81 {image}",
        "run -d --name r2 --network open -p 8083:80 {image}",
        "network connect routed r2",
        "run -d --name i1 --network iso {image}",
        "run -d --name s1 --network out -p 8085:80 {image}"),
    one("iptables28_ipv6", "--userland-proxy=false",
        "network create --ipv6 --subnet 10.10.1.0/24 --subnet fd00:10:1::/64 web",
        "network create --ipv6 --subnet 10.10.2.0/24 --subnet fd00:10:2::/64"
        " -o com.docker.network.host_ipv6=2001:db8::105 out",
        "network create --ipv6 --subnet 10.10.3.0/24 --subnet fd00:10:3::/64"
        " -o com.docker.network.bridge.gateway_mode_ipv6=routed routed6",
        "network create --internal --ipv6 --subnet 10.10.4.0/24 --subnet fd00:10:4::/64"
        " -o com.docker.network.bridge.enable_icc=false back",
        "run -d --name w1 --network web -p 8080:80 -p 127.0.0.1:8081:81 {image}",
        "network connect back w1",
        "run -d --name w2 --network web --ip6 fd00:10:1::99 {image}",
        "run -d --name o1 --network out -p 8082:80 {image}",
        "run -d --name r1 --network routed6 -p 8083:80/udp {image}",
        "run -d --name old -p 8084:80 {image}"),
    Scenario("two_hosts", {
        "node1": Host("", ("network create app",
                           "run -d --name w1 --network app -p 8080:80 {image}")),
        "node2": Host("--icc=false --userland-proxy=false", (
            "network create app",
            "run -d --name w2 --network app -p 8080:80 {image}",
            "run -d --name l1 -p 8081:81 {image}",
            "run -d --name l2 --link l1 {image}")),
    }),
]
def pinned_engine(case: str) -> str | None:
    """The engine a golden lab names for itself (`engine:`), None when it leaves the choice
    to whoever loads it; such a lab is compared with that engine only."""
    value = yaml.safe_load((GOLDEN / f"{case}.yaml").read_text()).get("engine")
    named = engine_named(value)
    return named.name if named else value


def cases_on(engines: tuple[str, ...], cases: list) -> list:
    """pytest params (engine, case) for each engine a case can run on, `<engine>-<case>`."""
    return [pytest.param(e, c, id=f"{e}-{getattr(c, 'case', c)}") for e in engines for c in cases
            if pinned_engine(getattr(c, "case", c)) in (None, e)]


# Golden labs the real Docker cannot build here, and why.
NO_SCTP = "this kernel has no SCTP sockets: Docker fails to publish the port"
NOT_RUNNABLE = {"sctp": NO_SCTP, "iptables28_networks": NO_SCTP,
                "iptables_engines_mixed": "node3 runs Docker 29.7, and no real 29.7 is here"}


def scenario(case: str) -> Scenario:
    return next(s for s in SCENARIOS if s.case == case)
