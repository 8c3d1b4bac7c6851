"""The IPv6 half of the engine programs beyond Docker's goldens (test_moby_goldens_*): which
bindings get an IPv6 twin, what a daemon without ip6tables writes, the forwarding sysctls
an IPv6 network brings, and that an IPv6 half changes nothing in IPv4."""
from __future__ import annotations

import pytest

from netlab.model import load_text
from netlab.plan.firewall import host_sysctls, render
from netlab.plan.firewall.programs import host_nftables, host_ruleset, host_ruleset6


def lab(engine: str, *, daemon: str = "{}", ports: str = '["8080:80"]', ipv6: bool = True, extra: str = "") -> str:
    net = ('    enable_ipv6: true\n    ipam: {config: [{subnet: 10.10.1.0/24}, {subnet: "fd00:10:1::/64"}]}\n'
           if ipv6 else "    subnet: 10.10.1.0/24\n")
    return (f'name: v6\nhosts:\n  node1: {{engine: "{engine}", daemon: {daemon}}}\n'
            f"networks:\n  web:\n{net}{extra}"
            f"containers:\n  c1: {{networks: [web], ports: {ports}}}\n")


def dnat6(engine: str, **kw: str) -> list[str]:
    rules = host_ruleset6(load_text(lab(engine, **kw)), "node1")
    nat = rules.table("nat")
    docker = nat.chain("DOCKER") if nat else None
    return [r for r in (docker.rules if docker else ()) if "DNAT" in r]


@pytest.mark.parametrize("engine", ["28.5", "29.7"])
def test_a_binding_on_every_address_has_its_ipv6_twin(engine: str):
    [rule] = dnat6(engine)      # the proxy is on: the bridge's own traffic is the proxy's
    assert rule.startswith("! -s fe80::/10 ! -i br-")
    assert rule.endswith(" -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:10:1::2]:80")
    assert dnat6(engine, daemon="{userland-proxy: false}") == [
        "! -s fe80::/10 -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:10:1::2]:80"]


@pytest.mark.parametrize("engine", ["28.5", "29.7"])
def test_a_binding_on_an_ipv4_address_has_none(engine: str):
    assert dnat6(engine, ports='["127.0.0.1:8080:80"]') == []
    assert dnat6(engine, ports='["10.0.0.5:8080:80"]') == []


def test_a_daemon_without_ip6tables_writes_no_ipv6_rule():
    topo = load_text(lab("28.5", daemon="{ip6tables: false}"))
    assert host_ruleset6(topo, "node1").tables == ()
    nft = host_nftables(load_text(lab("29.7-nftables", daemon="{ip6tables: false}")), "node1")
    assert "table ip docker-bridges" in nft and "table ip6" not in nft


def test_the_20_10_program_writes_no_ip6tables():
    """20.10 (and 26.1, which shares its program) writes ip6tables rules only with the
    experimental ip6tables option; netlab's 20.10 program has none."""
    topo = load_text(lab("20.10"))
    assert host_ruleset6(topo, "node1").tables == ()


@pytest.mark.parametrize("engine", ["28.5", "29.7", "29.7-nftables"])
def test_an_ipv6_half_changes_nothing_in_ipv4(engine: str):
    dual, single = load_text(lab(engine)), load_text(lab(engine, ipv6=False))
    assert render(host_ruleset(dual, "node1")) == render(host_ruleset(single, "node1"))
    ip4 = host_nftables(dual, "node1").partition("table ip6 ")[0]
    assert ip4 == host_nftables(single, "node1").partition("table ip6 ")[0]
    assert "fd00:10:1" not in render(host_ruleset6(single, "node1"))


def test_routed_ipv6_accepts_the_port_without_dnat():
    extra = "    driver_opts: {com.docker.network.bridge.gateway_mode_ipv6: routed}\n"
    rules = render(host_ruleset6(load_text(lab("28.5", extra=extra)), "node1"))
    assert "-A DOCKER -o br-" in rules and "-p ipv6-icmp -j ACCEPT" in rules
    assert "DNAT" not in rules and "-s fd00:10:1::/64" not in rules      # no DNAT, no MASQUERADE
    assert "-d fd00:10:1::2/128 ! -i br-" in rules                       # the port's ACCEPT
    v4 = render(host_ruleset(load_text(lab("28.5", extra=extra)), "node1"))
    assert "-j DNAT --to-destination 10.10.1.2:80" in v4                 # IPv4 still NATs


@pytest.mark.parametrize(("engine", "first"), [("28.5", False), ("29.7", False), ("29.7-nftables", True)])
def test_an_ipv6_network_turns_ipv6_forwarding_on(engine: str, first: bool):
    """setupIPv6Forwarding (iptables) per IPv6 network, after IPv4's; with nftables the
    administrator (the lab) turns it on first, as checkIPv6Forwarding requires."""
    sysctls = [k for k, _ in host_sysctls(load_text(lab(engine, daemon="{userland-proxy: false}")), "node1")]
    forwarding = ["net/ipv6/conf/default/forwarding", "net/ipv6/conf/all/forwarding"]
    at = sysctls.index(forwarding[0])
    assert sysctls[at:at + 2] == forwarding
    assert (at == 1) == first
    assert "net/bridge/bridge-nf-call-ip6tables" in sysctls
    single = [k for k, _ in host_sysctls(load_text(lab(engine, ipv6=False)), "node1")]
    assert not any("forwarding" in k or "ip6tables" in k for k in single)
