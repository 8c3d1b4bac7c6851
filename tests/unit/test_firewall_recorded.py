"""The rule programs against real engines' recordings (tests/fixtures/engines, see its
README): docker0, the user network `nlxnet` 172.18.0.0/16 (its bridge renamed br-nlxnet) and
the container `web` on it publishing 8080:80, on default daemon options. The recordings'
eth0 and host address appear in no rule, so the lab needs neither."""
from __future__ import annotations

from pathlib import Path

import pytest

from netlab.model import load_text
from netlab.plan.firewall import render
from netlab.plan.firewall.programs import host_ruleset, host_ruleset6

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "engines"
LAB = """\
name: recorded
engine: "{engine}"
networks:
  nlxnet:
    subnet: 172.18.0.0/16
    driver_opts: {{com.docker.network.bridge.name: br-nlxnet}}
containers:
  web:
    networks: [nlxnet]
    ports: ["8080:80"]
"""


@pytest.mark.parametrize("engine", ["20.10", "26.1", "28.5"])
def test_iptables_as_recorded(engine: str):
    topo = load_text(LAB.format(engine=engine))
    assert render(host_ruleset(topo, "node1")) == (RECORDED / f"iptables-{engine}.txt").read_text()


@pytest.mark.parametrize("engine", ["20.10", "26.1", "28.5"])
def test_ip6tables_as_recorded(engine: str):
    """20.10 and 26.1 write no ip6tables rule; 28.5 its whole skeleton, with no IPv6 network."""
    topo = load_text(LAB.format(engine=engine))
    assert render(host_ruleset6(topo, "node1")) == (RECORDED / f"ip6tables-{engine}.txt").read_text()


def test_ip6tables_off_writes_no_ip6_rule():
    topo = load_text(LAB.format(engine="28.5").replace("engine:", "hosts: {node1: {daemon: {ip6tables: false}}}\nengine:"))
    assert topo.host("node1").daemon.ip6tables is False
    assert render(host_ruleset6(topo, "node1")) == ""
    assert render(host_ruleset(topo, "node1")) == (RECORDED / "iptables-28.5.txt").read_text()


def test_ip6tables_follows_the_engine_by_default():
    assert load_text(LAB.format(engine="28.5")).host("node1").daemon.ip6tables is True
    assert load_text(LAB.format(engine="20.10")).host("node1").daemon.ip6tables is False
