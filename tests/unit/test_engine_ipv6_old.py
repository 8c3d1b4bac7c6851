"""IPv6 on the engines before 27 (20.10 and 26.1, the iptables-20.10 program), as measured on
docker.io 20.10.24 and 26.1.5 in the engine oracle (tests/integration/test_conformance_ipv6.py
runs every IPv6 scenario on 20.10, 26.1 and 28.5):

- a bridge network with IPv6 turns IPv6 forwarding on: `default`, then `all`
  (setupIPv6Forwarding), though neither engine writes an ip6tables rule by default;
- 20.10 turns IPv6 off for a container's whole namespace (`all`, hence `default` and lo) and
  gives it back to lo and to each interface with an IPv6 address: `all` stays 1;
- a port published on every address is bound on [::] too, in an IPv4-only lab as well (the
  host's ::1 makes IPv6 listenable): docker-proxy -host-ip :: to the container's IPv4 address
  with the proxy on, nothing on [::] with it off;
- an IPv6 bridge gets fe80::1/64 besides the kernel's link-local address (setupBridgeIPv6;
  28.5 adds none), and the address reader keeps it, the kernel never making it itself."""
from __future__ import annotations

import socket

import pytest
from fake_kernel import FakeKernel
from ipv6_labs import dual_stack_lab
from test_fake_kernel import converge, remaining
from test_ipv6_kernel import _addr

from netlab.kernel.rtnl_dump import parse_addresses
from netlab.model import load_text
from netlab.plan.firewall.programs import host_sysctls
from netlab.plan.items import Address, Proxy, Sysctl
from netlab.plan.planner import build_plan

FORWARDING6 = [("net/ipv6/conf/default/forwarding", "1"), ("net/ipv6/conf/all/forwarding", "1")]
OLD = ["20.10", "26.1"]


def dual(engine: str, daemon: str = ""):
    tail = f"hosts:\n  node1: {{daemon: {{{daemon}}}}}\n" if daemon else ""
    return load_text(dual_stack_lab("o6", "  a: {networks: [dual]}\n  b: {networks: [dual, v4]}\n  c: {}\n",
                                    engine=engine, networks="  v4: {subnet: 172.31.0.0/24}\n", tail=tail))


@pytest.mark.parametrize("engine", OLD)
def test_an_ipv6_network_turns_ipv6_forwarding_on(engine):
    topo = dual(engine)
    got = list(host_sysctls(topo, "node1"))
    dual_bridge = topo.segment("dual", "node1").device
    # after the IPv6 network's accept_ra (setupDefaultSysctl), before anything else of it
    at = got.index((f"net/ipv6/conf/{dual_bridge}/accept_ra", "0"))
    assert got[at + 1:at + 3] == FORWARDING6
    assert got.count(FORWARDING6[1]) == 1


@pytest.mark.parametrize("engine", OLD)
def test_no_ipv6_forwarding_without_an_ipv6_network_or_with_forwarding_off(engine):
    v4 = load_text(f'name: o4\nengine: "{engine}"\nnetworks: {{n1: {{}}}}\ncontainers: {{a: {{networks: [n1]}}}}\n')
    assert not [s for s in host_sysctls(v4, "node1") if "forwarding" in s[0]]
    off = dual(engine, "ip-forward: false")
    assert not [s for s in host_sysctls(off, "node1") if "forwarding" in s[0]]


def test_20_10_keeps_ipv6_off_for_the_namespace_and_gives_it_back_per_interface():
    topo = dual("20.10")
    plan = build_plan(topo)
    a, b, c = (topo.container(n) for n in "abc")

    def sysctls(ns: str) -> list[tuple[str, str]]:
        return [(i.path, i.value) for i in plan.items if isinstance(i, Sysctl) and i.netns == ns]

    on = "net/ipv6/conf/{}/disable_ipv6"
    assert sysctls(a.netns) == [(on.format("all"), "1"), (on.format("lo"), "0"), (on.format("eth0"), "0")]
    # b's IPv4-only interface keeps the 1 `all` gave it: no link-local address there
    assert sysctls(b.netns) == [(on.format("all"), "1"), (on.format("lo"), "0"), (on.format("eth0"), "0")]
    assert sysctls(c.netns) == [(on.format("all"), "1")]      # lo stays off without IPv6


def test_20_10_dual_stack_converges_on_the_fake_kernel():
    topo = dual("20.10")
    plan = build_plan(topo)
    k = FakeKernel()
    assert converge(k, plan, None)
    assert remaining(k, plan) == []
    a = k.space(topo.container("a").netns)
    assert ("eth0", "2001:db8:2::2/64") in a.addresses
    assert a.sysctls["net/ipv6/conf/default/disable_ipv6"] == "1"


def test_26_1_leaves_the_namespace_on():
    plan = build_plan(dual("26.1"))
    assert not [i for i in plan.items if isinstance(i, Sysctl) and i.path.endswith(("all/disable_ipv6", "lo/disable_ipv6"))]


@pytest.mark.parametrize("engine", ["20.10", "26.1", "28.5", "29.7", "29.7-nftables"])
@pytest.mark.parametrize("proxy", [True, False])
def test_an_ipv4_lab_binds_the_twin_with_the_proxy_only(engine, proxy):
    text = (f'name: o4\nengine: "{engine}"\nhosts: {{node1: {{daemon: {{userland-proxy: {str(proxy).lower()}}}}}}}\n'
            'networks: {n1: {}}\ncontainers:\n  a: {ports: ["8080:80", "127.0.0.1:8081:81"]}\n'
            '  b: {networks: [n1], ports: ["8082:82"]}\n')
    topo = load_text(text)
    got = sorted((p.host_ip, p.host_port, p.container_ip) for p in build_plan(topo).of(Proxy))
    a, b = (str(topo.container(n).attachments[0].address.ip) for n in "ab")
    expected = [("0.0.0.0", 8080, a), ("0.0.0.0", 8082, b), ("127.0.0.1", 8081, a)]
    if proxy:
        expected += [("::", 8080, a), ("::", 8082, b)]
    assert got == sorted(expected)


@pytest.mark.parametrize("engine", ["20.10", "26.1", "28.5"])
def test_an_ipv6_bridge_gets_fe80_1_before_27(engine):
    topo = dual(engine)
    ns, device = topo.host("node1").netns, topo.segment("dual", "node1").device
    on_bridge = [i.cidr for i in build_plan(topo).items if isinstance(i, Address) and i.dev == device]
    # setupBridgeIPv6: fe80::1 first, then the network's gateway
    assert on_bridge == (["172.30.0.1/24", "fe80::1/64", "2001:db8:2::1/64"] if engine != "28.5"
                         else ["172.30.0.1/24", "2001:db8:2::1/64"])
    v4 = topo.segment("v4", "node1").device
    assert not [i for i in build_plan(topo).items if isinstance(i, Address) and i.netns == ns and i.dev == v4
                and ":" in i.cidr]


def test_the_address_reader_keeps_fe80_1_which_the_kernel_never_makes():
    found = parse_addresses([
        _addr(socket.AF_INET6, 64, 253, 3, "fe80::1"),
        _addr(socket.AF_INET6, 64, 253, 3, "fe80::42:1dff:fe20:5168"),
        _addr(socket.AF_INET6, 64, 0, 3, "2001:db8:2::1"),
    ])
    assert [a.cidr for a in found] == ["fe80::1/64", "2001:db8:2::1/64"]
