"""Host ports as each engine hands them out. Recorded on real engines (the conformance
scenario port_order): a container with `-p 80 -p 81` gets 81 -> the first free ephemeral
port on 20.10 (nat.SortPortMap's order) and 80 -> it on 28.5 (the port mapper sorts by
container port); a routed network's bindings take no host port at all (28.5's `ss` shows
nothing listening for them)."""
from __future__ import annotations

import pytest

from netlab.model import load_text
from netlab.plan.items import Proxy
from netlab.plan.planner import build_plan

LAB = """
name: ports
engine: "{engine}"
networks:
  routed: {{driver_opts: {{com.docker.network.bridge.gateway_mode_ipv4: routed}}}}
containers:
  rd: {{ports: ["80", "81"]}}
  exact: {{ports: ["90", "8080:91"]}}
"""


def lab(engine: str) -> str:
    """The lab; engines before 27.0 have no gateway modes, so their `routed` is a plain one."""
    text = LAB.format(engine=engine)
    if engine in ("20.10", "26.1"):
        text = text.replace("{driver_opts: {com.docker.network.bridge.gateway_mode_ipv4: routed}}", "{}")
    return text


def bindings(engine: str, name: str) -> list[tuple[int, int]]:
    topo = load_text(lab(engine))
    return [(b.container_port, b.host_port) for b in topo.container(name).ports]


@pytest.mark.parametrize("engine,order", [("20.10", [(81, 32768), (80, 32769)]),
                                          ("26.1", [(81, 32768), (80, 32769)]),
                                          ("28.5", [(80, 32768), (81, 32769)]),
                                          ("29.7-nftables", [(80, 32768), (81, 32769)])])
def test_ephemeral_ports_follow_the_engines_order(engine, order):
    assert bindings(engine, "rd") == order


def test_exact_host_ports_come_first_from_28():
    assert bindings("28.5", "exact") == [(91, 8080), (90, 32770)]


def test_a_routed_networks_bindings_take_no_host_port():
    topo = load_text(LAB.format(engine="28.5").replace('rd: {ports: ["80", "81"]}',
                                                      'rd: {networks: [routed], ports: ["80", "8081:81"]}'))
    assert [(b.container_port, b.host_port) for b in topo.container("rd").ports] == [(81, 0), (80, 0)]
    proxies = [p for p in build_plan(topo).of(Proxy) if p.container_port in (80, 81)]
    assert proxies == []


def test_only_28_proxies_answer_udp_from_the_destination():
    for engine, flag in (("20.10", False), ("28.5", True)):
        proxies = build_plan(load_text(lab(engine))).of(Proxy)
        assert proxies and all(p.reply_from_destination == flag for p in proxies), engine
