"""The 28.5 and 29.7 iptables programs beyond Docker's one-network goldens: the sysctls,
the daemon's iptables/ip6tables switches, and where 28 and 29 differ on multi-network
containers (routed ports on a non-gateway endpoint)."""
from __future__ import annotations

import pytest

from netlab.model import load_text
from netlab.plan.firewall import render
from netlab.plan.firewall.programs import host_ruleset, host_ruleset6, host_sysctls

BASE = """\
name: h1prog
hosts:
  node1: {{engine: "{engine}", daemon: {{{daemon}}}}}
networks:
  quiet: {{driver_opts: {{com.docker.network.bridge.name: br-quiet, com.docker.network.bridge.enable_icc: "false"}}}}
  routed: {{driver_opts: {{com.docker.network.bridge.name: br-routed, com.docker.network.bridge.gateway_mode_ipv4: routed}}}}
containers:
  c1: {{networks: [quiet, routed], ports: ["8080:80"]}}
"""


def lab(engine: str = "28.5", daemon: str = ""):
    return load_text(BASE.format(engine=engine, daemon=daemon))


@pytest.mark.parametrize("engine", ["28.5", "29.7"])
def test_sysctls_in_network_order(engine: str):
    """Per bridge: accept_ra, then (first network) ip_forward, route_localnet without the
    proxy, br_netfilter for icc=false or no proxy (28.0), only while forwarding is on."""
    assert host_sysctls(lab(engine), "node1") == (
        ("net/ipv6/conf/docker0/accept_ra", "0"),
        ("net/ipv4/ip_forward", "1"),
        ("net/ipv6/conf/br-quiet/accept_ra", "0"),
        ("net/bridge/bridge-nf-call-iptables", "1"),
        ("net/ipv6/conf/br-routed/accept_ra", "0"),
    )
    no_proxy = host_sysctls(lab(engine, "userland-proxy: false"), "node1")
    assert no_proxy[:4] == (
        ("net/ipv6/conf/docker0/accept_ra", "0"),
        ("net/ipv4/ip_forward", "1"),
        ("net/ipv4/conf/docker0/route_localnet", "1"),
        ("net/bridge/bridge-nf-call-iptables", "1"),
    )
    assert ("net/ipv4/conf/br-routed/route_localnet", "1") in no_proxy
    off = host_sysctls(lab(engine, "ip-forward: false"), "node1")
    assert [k for k, _ in off] == ["net/ipv6/conf/docker0/accept_ra", "net/ipv6/conf/br-quiet/accept_ra",
                                   "net/ipv6/conf/br-routed/accept_ra"]


@pytest.mark.parametrize("engine", ["28.5", "29.7"])
def test_each_family_has_its_switch(engine: str):
    v4_off = lab(engine, "iptables: false")
    assert render(host_ruleset(v4_off, "node1")) == ""
    assert "DOCKER-FORWARD" in render(host_ruleset6(v4_off, "node1"))
    both_off = lab(engine, "iptables: false, ip6tables: false")
    assert render(host_ruleset(both_off, "node1")) == render(host_ruleset6(both_off, "node1")) == ""


def test_forward_policy_needs_forwarding_turned_on():
    filt = host_ruleset(lab(daemon="ip-forward: false"), "node1").table("filter")
    assert filt is not None and filt.chain("FORWARD").policy == "ACCEPT"
    filt = host_ruleset(lab(), "node1").table("filter")
    assert filt is not None and filt.chain("FORWARD").policy == "DROP"


def _docker_chain(engine: str) -> tuple[str, ...]:
    filt = host_ruleset(lab(engine), "node1").table("filter")
    assert filt is not None
    chain = filt.chain("DOCKER")
    assert chain is not None
    return chain.rules


def test_28_opens_ports_on_the_gateway_endpoint_only():
    """c1's gateway is `quiet` (name order): 28 programs its ports there and nowhere else."""
    rules = _docker_chain("28.5")
    assert "-d 172.18.0.2/32 ! -i br-quiet -o br-quiet -p tcp -m tcp --dport 80 -j ACCEPT" in rules
    assert not any("br-routed" in r and "--dport" in r for r in rules)


def test_29_also_opens_them_on_a_routed_endpoint():
    """29's ProgramExternalConnectivity always asks for routed-mode bindings: the routed
    endpoint gets its ACCEPT (no DNAT: the host port is dropped), above the gateway's."""
    rules = _docker_chain("29.7")
    assert rules[:2] == ("-d 172.19.0.2/32 ! -i br-routed -o br-routed -p tcp -m tcp --dport 80 -j ACCEPT",
                         "-d 172.18.0.2/32 ! -i br-quiet -o br-quiet -p tcp -m tcp --dport 80 -j ACCEPT")
    nat = host_ruleset(lab("29.7"), "node1").table("nat")
    assert nat is not None
    assert [r for r in nat.chain("DOCKER").rules if "DNAT" in r] == [
        "! -i br-quiet -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80"]
