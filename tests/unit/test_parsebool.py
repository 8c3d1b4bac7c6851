"""Every boolean driver option reads its value as Go's strconv.ParseBool does, through the whole
pipeline (load -> plan -> rules): "TRUE", "T", "1" act as "true", "FALSE", "F", "0" as "false"."""
from __future__ import annotations

import pytest

from netlab.model import load_text
from netlab.model.parsebool import FALSE, TRUE, parse_bool
from netlab.plan.firewall import lab_rules
from netlab.plan.items import Address
from netlab.plan.planner import build_plan

SPELLINGS = [(text, "true") for text in ("TRUE", "T", "1", "True", "t")] + \
            [(text, "false") for text in ("FALSE", "F", "0", "False", "f")]


def test_parse_bool_is_go_strconv():
    assert all(parse_bool(t) is True for t in TRUE) and all(parse_bool(f) is False for f in FALSE)
    for text in ("yes", "on", "tRUE", "", " true", "2"):
        assert parse_bool(text) is None


def outcome(text: str) -> tuple[str, str]:
    topo = load_text(text, "pb.yaml")
    plan = build_plan(topo)
    return plan.to_json(), lab_rules(topo)


def bridge_lab(key: str, value: str) -> str:
    return f"""
name: pb
networks:
  n1: {{subnet: 10.1.0.0/24, driver_opts: {{com.docker.network.bridge.{key}: "{value}"}}}}
containers:
  a: {{networks: [n1], ports: ["8080:80"]}}
  b: {{networks: [n1]}}
"""


def macvlan_lab(value: str) -> str:
    return f"""
name: pb
networks:
  m1: {{driver: macvlan, subnet: 10.10.101.0/24, ip_range: 10.10.101.64/26,
        driver_opts: {{parent: eth0, shim: "{value}"}}}}
containers:
  a: {{networks: [m1]}}
"""


@pytest.mark.parametrize("key", ["enable_icc", "enable_ip_masquerade", "inhibit_ipv4"])
@pytest.mark.parametrize("text,canonical", SPELLINGS)
def test_bridge_options(key, text, canonical):
    got = outcome(bridge_lab(key, text))
    want = outcome(bridge_lab(key, canonical))
    # the option's value is kept as written on the segment; everything built from it agrees
    assert got[1] == want[1]
    assert got[0] == want[0]


@pytest.mark.parametrize("text,canonical", SPELLINGS)
def test_macvlan_shim(text, canonical):
    got = outcome(macvlan_lab(text))
    want = outcome(macvlan_lab(canonical))
    assert got[1] == want[1]
    assert got[0] == want[0]


def test_inhibit_ipv4_spelled_upper_keeps_the_gateway_off_the_bridge():
    for text, present in (("TRUE", False), ("T", False), ("true", False), ("FALSE", True)):
        plan = build_plan(load_text(bridge_lab("inhibit_ipv4", text), "pb.yaml"))
        assert any(a.cidr.startswith("10.1.0.1/") for a in plan.of(Address)) is present, text
