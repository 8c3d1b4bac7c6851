"""netlab's rules against a real Docker 20.10: each scenario is a lab file and the docker
commands that build the same networks and containers in the same order; the host's
iptables-save (filter, nat and whatever else Docker made) must match chain by chain, in
order, once Docker's br-<id> bridges are renamed to the lab's by subnet. The labs are the
golden ones (tests/golden/rules), so every golden file Docker can build is checked against it.
The sysctls netlab says dockerd writes, and hairpin mode on bridge ports, are checked too."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from oracle import GOLDEN, NOT_RUNNABLE, SCENARIOS, Oracle, Scenario, netns_exists, unavailable

from netlab.model import load_text
from netlab.plan.firewall import hairpin_ports, host_ruleset, host_sysctls, normalize, parse_save, render

needs_oracle = pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")


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
            f"the engine oracle left namespace {netns} behind"


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
