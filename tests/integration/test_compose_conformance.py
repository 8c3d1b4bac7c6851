"""netlab against real Docker Compose: every fixture of tests/fixtures/compose/ brought up by
`netlab up` unmodified, read back from the kernel in the shape of the records real Compose
2.40 on Docker 28.5 left (tests/integration/compose_netlab.py), and held to them
(tests/compose_facts.py): names, addresses by holder, which network is primary and carries
the default routes, /etc/hosts and resolv.conf, every DNS answer, the host's rules, the ping
and TCP matrices and who answers each published port, all equal; where Compose varies from
run to run, netlab must take the one order tests/fixtures/compose/README.md documents."""
from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from compose_facts import FIXTURES, netlab_differences, runs
from compose_netlab import NetlabProject, collect
from compose_oracle import FILES
from conftest import leftovers, needs_root

pytestmark = [needs_root, pytest.mark.root]

# what Compose needs that a lab cannot take from elsewhere (an external network made by hand)
NOT_BUILT = {"12-external"}
POOL = [f"172.{n}.0.0/16" for n in range(18, 32)]     # the engine's pool after docker0's 172.17


def project_of(stem: str) -> str:
    doc = yaml.safe_load((FIXTURES / f"{stem}.yml").read_text())
    return doc.get("name") or stem


@pytest.mark.parametrize("stem", sorted(set(FILES) - NOT_BUILT))
def test_netlab_builds_what_compose_built(stem):
    project = NetlabProject(FIXTURES / f"{stem}.yml", project_of(stem), FILES[stem])
    with project:
        lab = project.lab
        facts = collect(project)
    facts["left_after_down"] = len(leftovers(lab))
    recorded = runs(stem)[0]
    differ = netlab_differences(recorded, facts)
    assert not differ, f"{len(differ)} facts differ from Compose's:\n" + "\n".join(differ)
    wrong = order_violations(project.doc, facts)
    assert not wrong, "\n".join(wrong)


def test_external_network_is_refused_and_nothing_is_built():
    r = subprocess.run([sys.executable, "-m", "netlab", "up", "-f", str(FIXTURES / "12-external.yml"),
                        "-p", "12-external"], capture_output=True, text=True)
    assert r.returncode != 0
    assert "12-external.yml:" in r.stderr and "external" in r.stderr and "Traceback" not in r.stderr
    listed = subprocess.run([sys.executable, "-m", "netlab", "ls"], capture_output=True, text=True).stdout
    assert "12-external" not in listed


def order_violations(doc: dict, facts: dict) -> list[str]:
    """Where netlab left the deterministic order of tests/fixtures/compose/README.md:
    pool subnets to the networks by Docker name, containers created level by level of
    depends_on and within a level by service then replica, each network's free addresses
    handed out in that order, eth0, eth1, ... by Docker network name."""
    out = []
    declared = doc.get("networks") or {}

    def given(key: str) -> bool:
        configs = (((declared.get(key) or {}).get("ipam") or {}).get("config")) or []
        return any("subnet" in c for c in configs)

    nets = {k: n for k, n in facts["networks"].items() if not n.get("not_created")}
    auto = sorted((k for k, n in nets.items() if n["driver"] == "bridge" and not given(k)),
                  key=lambda k: nets[k]["name"])
    got = [next(c["subnet"] for c in nets[k]["ipam"] if ":" not in c["subnet"]) for k in auto]
    if got != POOL[:len(auto)]:
        out.append(f"pool subnets by Docker name {auto}: {got}, not {POOL[:len(auto)]}")
    containers = facts["containers"]
    service = {n: (c["service"], c["number"]) for n, c in containers.items()}
    deps = {s: {d.split(":")[0] for d in c["depends_on"].split(",") if d} for s, c in
            ((c["service"], c) for c in containers.values())}
    order: list[str] = []
    while len(order) < len(containers):
        done = {service[n][0] for n in order}
        level = sorted((n for n in containers if n not in order and deps[service[n][0]] <= done), key=service.get)
        if not level:
            out.append(f"depends_on levels do not resolve: {sorted(set(containers) - set(order))}")
            break
        order += level
    if facts["creation_order"] != order:
        out.append(f"creation order {facts['creation_order']}, not {order}")
    for key in nets:
        holders = [n for n in facts["creation_order"] if containers[n]["endpoints"].get(key, {}).get("ipv4")]
        fixed = {n for n in holders if containers[n]["endpoints"][key]["ipam"]}
        parts = [int(containers[n]["endpoints"][key]["ipv4"].split(".")[-1]) for n in holders if n not in fixed]
        if parts != sorted(parts):
            out.append(f"{key}: addresses not handed out in creation order: {parts}")
    for name, c in containers.items():
        eth = [i["network"] for i in sorted(c["interfaces"], key=lambda i: int(i["ifname"][3:]))]
        by_name = sorted(eth, key=lambda k: nets[k]["name"] if k in nets else k)
        if eth != by_name:
            out.append(f"{name}: interfaces {eth}, not in Docker network name order {by_name}")
    return out
