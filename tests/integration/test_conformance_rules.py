"""netlab's rules against a real Docker 20.10: each scenario is a lab file and the docker
commands that build the same networks and containers in the same order; the host's
iptables-save (filter, nat and whatever else Docker made) must match chain by chain, in
order, once Docker's br-<id> bridges are renamed to the lab's by subnet. The labs are the
golden ones (tests/golden/rules), so every golden file Docker can build is checked against it.
The sysctls netlab says dockerd writes, and hairpin mode on bridge ports, are checked too."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from netlab.firewall import hairpin_ports, host_ruleset, host_sysctls, normalize, parse_save, render
from netlab.topology import load_text

from oracle import Oracle, netns_exists, unavailable

needs_oracle = pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")
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

    def netns(self, topo, host: str) -> str:
        """nlo-<lab name>: unique per scenario, since every golden lab has its own name."""
        return f"nlo-{topo.name}" if len(self.hosts) == 1 else f"nlo-{topo.name}-{host}"


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
# Golden labs the real Docker cannot build here, and why.
NOT_RUNNABLE = {"sctp": "this kernel has no SCTP sockets: Docker fails to publish the port"}


def test_every_golden_lab_has_a_scenario():
    covered = {s.case for s in SCENARIOS} | set(NOT_RUNNABLE)
    assert covered == {p.stem for p in GOLDEN.glob("*.yaml")}


@dataclass
class Observed:
    saved: str                  # iptables-save, bridges already renamed to the lab's
    sysctls: dict[str, str]     # by the lab's path (bridges renamed back to Docker's to read)
    hairpin: set[str]           # hairpin_mode values found on bridge ports


def observe(case: Scenario, topo, host: str) -> Observed:
    spec = case.hosts[host]
    netns = case.netns(topo, host)
    try:
        with Oracle(netns, spec.dockerd_args) as docker:
            for command in spec.commands:
                docker.docker(command)
            by_subnet = docker.bridges()
            rename = {by_subnet[s.subnet]: s.device for s in topo.segments_on(host)
                      if s.driver == "bridge" and s.subnet in by_subnet}
            back = {ours: theirs for theirs, ours in rename.items()}
            paths = [p for p, _ in host_sysctls(topo, host)] + ["net/ipv4/ip_forward"]
            sysctls = {p: docker.sysctl("/".join(back.get(part, part) for part in p.split("/")))
                       for p in paths}
            return Observed(normalize(docker.iptables_save(), rename), sysctls, docker.hairpin_modes())
    finally:
        assert not netns_exists(netns) and not netns_exists(f"{netns}-ext"), \
            f"docker-oracle left namespace {netns} behind"


def _chain(table, name: str):
    """(policy, rules) for pytest to diff rule by rule; None for a missing chain."""
    c = table.chain(name)
    return None if c is None else (c.policy, list(c.rules))


@pytest.mark.oracle
@pytest.mark.root
@needs_oracle
@pytest.mark.parametrize("case", SCENARIOS, ids=lambda c: c.case)
def test_rules_match_docker(case: Scenario):
    topo = load_text(case.lab, f"{case.case}.yaml")
    for host in case.hosts:
        seen = observe(case, topo, host)
        ours, theirs = host_ruleset(topo, host), parse_save(seen.saved)
        for table in dict.fromkeys([t.name for t in theirs.tables] + [t.name for t in ours.tables]):
            mine, docker = ours.table(table), theirs.table(table)
            assert mine is not None and docker is not None, \
                f"{host}: table {table} only in {'netlab' if docker is None else 'Docker'}"
            for chain in dict.fromkeys([c.name for c in docker.chains] + [c.name for c in mine.chains]):
                assert _chain(mine, chain) == _chain(docker, chain), f"{host}: {table} {chain}"
        assert render(ours) == seen.saved
        sysctls = host_sysctls(topo, host)
        for path, value in sysctls:
            assert seen.sysctls[path] == value, f"{host}: {path}"
        if ("net/ipv4/ip_forward", "1") not in sysctls:
            assert seen.sysctls["net/ipv4/ip_forward"] == "0", f"{host}: ip_forward"
        assert seen.hairpin <= {"1" if hairpin_ports(topo, host) else "0"}, f"{host}: hairpin_mode"
