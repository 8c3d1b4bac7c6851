"""netlab's rules against real Docker engines (20.10, 26.1 and 28.5, engines.py): each
scenario is a golden lab (tests/golden/rules) and the docker commands that build the same
networks and containers in the same order. For each engine the lab is loaded with that
engine's profile and compared with what the real engine left behind, once Docker's br-<id>
bridges are renamed to the lab's by subnet:
- the host's iptables-save and ip6tables-save, every table (raw included), chain by chain, in
  order, and then as whole texts (table order);
- each container's iptables-save and ip6tables-save (the embedded resolver's ports blanked);
- the host's and each container's IPv4 routes (an internal network has no default route from
  26 on);
- the sysctls netlab says dockerd writes, and hairpin mode on bridge ports.
Every difference of a scenario is listed in the one failure, Docker's side as expected."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from conformance import (
    planned_routes,
    resolver_ports_blanked,
    route_differences,
    route_lines,
    ruleset_differences,
)
from engines import ENGINES, oracle_args, tag
from oracle import (
    GOLDEN,
    NOT_RUNNABLE,
    SCENARIOS,
    Oracle,
    Scenario,
    cases_on,
    netns_exists,
    pinned_engine,
    unavailable,
)

from netlab.model import load_text
from netlab.plan.firewall import hairpin_ports, host_ruleset, host_sysctls, normalize, parse_save, render
from netlab.plan.firewall.programs import host_ruleset6
from netlab.plan.items import Firewall
from netlab.plan.planner import build_plan

needs_oracle = pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")


def test_every_golden_lab_has_a_scenario():
    """...or is not runnable here, or names an engine none of the real ones here is."""
    labs = {p.stem for p in GOLDEN.glob("*.yaml")}
    elsewhere = {case for case in labs if pinned_engine(case) not in (None, *ENGINES)}
    assert {s.case for s in SCENARIOS} | set(NOT_RUNNABLE) | elsewhere == labs
    assert all(s.engine in (None, *ENGINES) for s in SCENARIOS)


@dataclass
class Seen:
    """One namespace as the engine left it."""

    saved: str                  # iptables-save, bridges already renamed to the lab's
    saved6: str                 # ip6tables-save, the same
    routes: set[str]            # route_lines


@dataclass
class Observed:
    host: Seen
    sysctls: dict[str, str]     # by the lab's path (bridges renamed back to Docker's to read)
    hairpin: set[str]           # hairpin_mode values found on bridge ports
    containers: dict[str, Seen] = field(default_factory=dict)


def own_namespace(topo, host: str) -> list:
    return [c for c in topo.containers_on(host) if c.mode not in ("host", "container")]


def observe(case: Scenario, topo, host: str, engine: str) -> Observed:
    spec = case.hosts[host]
    netns = case.netns(topo, host, tag(engine))
    try:
        address = f"{topo.host(host).address}/{topo.underlay.subnet.prefixlen}"
        with Oracle(netns, spec.dockerd_args, address=address, **oracle_args(engine)) as docker:
            for command in spec.commands:
                docker.docker(command)
            by_subnet = docker.bridges()
            rename = {by_subnet[s.subnet]: s.device for s in topo.segments_on(host)
                      if s.driver == "bridge" and s.subnet in by_subnet}
            back = {ours: theirs for theirs, ours in rename.items()}
            paths = [p for p, _ in host_sysctls(topo, host)] + ["net/ipv4/ip_forward"]
            sysctls = {p: docker.sysctl("/".join(back.get(part, part) for part in p.split("/")))
                       for p in paths}

            def seen(ns: str | None) -> Seen:
                return Seen(normalize(docker.iptables_save(ns), rename),
                            normalize(docker.ip6tables_save(ns), rename),
                            route_lines(docker.routes(ns), rename))
            containers = {c.name: seen(docker.attach(c.name)) for c in own_namespace(topo, host)}
            return Observed(seen(None), sysctls, docker.hairpin_modes(), containers)
    finally:
        assert not netns_exists(netns) and not netns_exists(f"{netns}-ext"), \
            f"the engine oracle left namespace {netns} behind"


def host_differences(topo, plan, host: str, seen: Observed) -> list[str]:
    where = f"{host}:"
    ours = host_ruleset(topo, host)
    out = ruleset_differences(f"{where} iptables", ours, parse_save(seen.host.saved))
    if not out and render(ours) != seen.host.saved:
        out.append(f"{where} iptables: the same chains, in another table order")
    out += ruleset_differences(f"{where} ip6tables", host_ruleset6(topo, host), parse_save(seen.host.saved6))
    out += route_differences(where, planned_routes(plan.items, topo.host(host).netns), seen.host.routes)
    sysctls = host_sysctls(topo, host)
    out += [f"{where} sysctl {path}: expected {seen.sysctls[path]}, got {value}"
            for path, value in sysctls if seen.sysctls[path] != value]
    if ("net/ipv4/ip_forward", "1") not in sysctls and seen.sysctls["net/ipv4/ip_forward"] != "0":
        out.append(f"{where} sysctl net/ipv4/ip_forward: Docker wrote {seen.sysctls['net/ipv4/ip_forward']}, "
                   "netlab writes nothing")
    hairpin = "1" if hairpin_ports(topo, host) else "0"
    if not seen.hairpin <= {hairpin}:
        out.append(f"{where} hairpin_mode: expected {sorted(seen.hairpin)}, got {hairpin}")
    return out


def container_differences(topo, plan, host: str, seen: Observed) -> list[str]:
    out = []
    for c in own_namespace(topo, host):
        where, theirs = f"{host}: container {c.name}", seen.containers[c.name]
        for family, saved in (("ipv4", theirs.saved), ("ipv6", theirs.saved6)):
            item = plan.get(("firewall", c.netns) if family == "ipv4" else ("firewall", c.netns, family))
            ours = parse_save(resolver_ports_blanked(item.text if isinstance(item, Firewall) else ""))
            tool = "iptables" if family == "ipv4" else "ip6tables"
            out += ruleset_differences(f"{where} {tool}", ours, parse_save(resolver_ports_blanked(saved)))
        out += route_differences(where, planned_routes(plan.items, c.netns), theirs.routes)
    return out


@pytest.mark.oracle
@pytest.mark.root
@needs_oracle
@pytest.mark.parametrize(("engine", "case"), cases_on(ENGINES, SCENARIOS))
def test_rules_match_docker(engine: str, case: Scenario):
    topo = load_text(case.lab, f"{case.case}.yaml", engine=engine)
    plan = build_plan(topo)
    with ThreadPoolExecutor(max_workers=len(case.hosts)) as pool:     # each host its own engine
        observed = dict(zip(case.hosts, pool.map(lambda h: observe(case, topo, h, engine), case.hosts)))
    wrong = []
    for host, seen in observed.items():
        wrong += host_differences(topo, plan, host, seen) + container_differences(topo, plan, host, seen)
    assert not wrong, f"engine {engine}, scenario {case.case}:\n" + "\n".join(wrong)


def test_differences_name_the_table_and_chain():
    docker = parse_save("*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -d 172.18.0.2/32 "
                        "! -i br-x -j DROP\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\n:DOCKER - [0:0]\n"
                        "-A FORWARD -j DOCKER-USER\n-A FORWARD -j DOCKER-FORWARD\nCOMMIT\n")
    ours = parse_save("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j DOCKER-USER\n-A FORWARD -j DOCKER\nCOMMIT\n")
    wrong = ruleset_differences("node1: iptables", ours, docker)
    assert wrong[0].startswith("node1: iptables table raw: only Docker has it")
    assert wrong[1] == "node1: iptables filter FORWARD: policy expected DROP, got ACCEPT"
    assert "-j DOCKER-FORWARD" in wrong[2] and "+-j DOCKER" in wrong[2]
    assert wrong[3].startswith("node1: iptables filter DOCKER: only Docker has the chain")
    assert ruleset_differences("x", docker, docker) == []


def test_routes_compare_as_the_kernel_shows_them():
    shown = ("default via 172.19.0.1 dev eth1\n172.18.0.0/16 dev eth0 proto kernel scope link src 172.18.0.3\n"
             "172.17.0.0/16 dev br-1 proto kernel scope link src 172.17.0.1 linkdown\n")
    assert route_lines(shown, {"br-1": "docker0"}) == {
        "default via 172.19.0.1 dev eth1", "172.18.0.0/16 dev eth0 src 172.18.0.3",
        "172.17.0.0/16 dev docker0 src 172.17.0.1"}
    plan = build_plan(load_text((GOLDEN / "internal.yaml").read_text(), engine="26.1"))
    db = next(c for c in plan.items if getattr(c, "netns", "").endswith("-db") and c.kind == "address").netns
    assert planned_routes(plan.items, db) == {"172.18.0.0/16 dev eth0 src 172.18.0.2"}   # internal: no default
