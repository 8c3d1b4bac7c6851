"""A dual-stack lab's kernel objects: the plan's IPv6 addresses, default route and sysctls,
their convergence on the fake kernel, the rtnetlink readers' IPv6, and the IPv6 check `up`
makes before anything is made."""
from __future__ import annotations

import socket
import struct

import pytest
from fake_kernel import FakeKernel
from ipv6_labs import dual_stack_lab
from test_fake_kernel import converge, remaining

from netlab.app import lifecycle
from netlab.errors import KernelError
from netlab.kernel import features
from netlab.kernel.rtnl_dump import RTM_NEWADDR, RTM_NEWROUTE, parse_addresses, parse_routes
from netlab.model import load_text
from netlab.plan.items import DEFAULT6, Address, Route, Sysctl
from netlab.plan.planner import build_plan

DUAL = dual_stack_lab("v6k", "  a: {networks: [dual]}\n  b: {networks: [dual, v4only]}\n  c: {networks: [v4only]}\n",
                      networks="  v4only: {subnet: 172.31.0.0/24}\n")


def _plan():
    topo = load_text(DUAL)
    return topo, build_plan(topo)


def test_bridge_gets_its_ipv6_gateway_and_ipv6_on():
    topo, plan = _plan()
    seg = topo.segment("dual", "node1")
    ns = topo.host("node1").netns
    assert Address(ns, seg.device, "2001:db8:2::1/64") in plan.items
    assert Sysctl(ns, f"net/ipv6/conf/{seg.device}/disable_ipv6", "0") in plan.items
    v4 = topo.segment("v4only", "node1").device
    assert not any(isinstance(i, Address) and i.dev == v4 and ":" in i.cidr for i in plan.items)


def test_endpoints_get_ipv6_address_route_and_sysctls():
    topo, plan = _plan()
    a, b, c = (topo.container(n) for n in "abc")
    assert Address(a.netns, "eth0", "2001:db8:2::2/64") in plan.items
    assert Route(a.netns, DEFAULT6, "2001:db8:2::1", "eth0") in plan.items
    assert Route(a.netns, "default", "172.30.0.1", "eth0") in plan.items
    assert Sysctl(a.netns, "net/ipv6/conf/eth0/disable_ipv6", "0") in plan.items
    # 28.5 (as 26.1, measured) leaves the namespace's IPv6 on (all, default, lo with ::1) and
    # turns it off on each interface without an IPv6 address, as b's second endpoint
    assert not any(isinstance(i, Sysctl) and i.path.endswith("all/disable_ipv6") for i in plan.items)
    eth1 = b.attachment("v4only").ifname
    assert Sysctl(b.netns, "net/ipv6/conf/eth0/disable_ipv6", "0") in plan.items
    assert Sysctl(b.netns, f"net/ipv6/conf/{eth1}/disable_ipv6", "1") in plan.items
    # an IPv4-only container: IPv6 off on its interface, nothing IPv6 planned
    assert Sysctl(c.netns, "net/ipv6/conf/eth0/disable_ipv6", "1") in plan.items
    assert not any(getattr(i, "netns", None) == c.netns and ":" in (getattr(i, "cidr", "") + getattr(i, "dst", ""))
                   for i in plan.items)


def test_20_10_turns_ipv6_off_for_the_whole_namespace():
    # 20.10 (measured on 20.10.24): all, default and lo at 1; a container with an IPv6
    # endpoint keeps all=1 and gets lo and that interface back (tests/unit/test_engine_ipv6_old.py)
    topo = load_text(DUAL.replace('engine: "28.5"', 'engine: "20.10"'))
    plan = build_plan(topo)
    a, c = topo.container("a"), topo.container("c")
    assert Sysctl(c.netns, "net/ipv6/conf/all/disable_ipv6", "1") in plan.items
    assert Sysctl(a.netns, "net/ipv6/conf/all/disable_ipv6", "1") in plan.items
    assert Sysctl(a.netns, "net/ipv6/conf/eth0/disable_ipv6", "0") in plan.items
    assert not any(isinstance(i, Sysctl) and i.value == "1" and "/eth" in i.path for i in plan.items)


def test_dual_stack_converges_on_the_fake_and_repairs_ipv6_drift():
    topo, plan = _plan()
    k = FakeKernel()
    assert converge(k, plan, None)
    assert remaining(k, plan) == []
    a = topo.container("a").netns
    assert ("eth0", "2001:db8:2::2/64") in k.space(a).addresses
    assert k.space(a).routes[DEFAULT6] == ("2001:db8:2::1", "eth0")
    k.space(a).addresses.discard(("eth0", "2001:db8:2::2/64"))
    k.space(a).routes[DEFAULT6] = ("2001:db8:2::99", "eth0")
    drift = remaining(k, plan)
    assert any("2001:db8:2::2/64" in d for d in drift) and any("::/0" in d for d in drift)
    converge(k, plan, plan)
    assert remaining(k, plan) == []


def test_fake_drops_ipv6_with_disable_ipv6_as_the_kernel_does():
    """Why a container with IPv6 does not get all.disable_ipv6=1 after its addresses."""
    topo, plan = _plan()
    k = FakeKernel()
    converge(k, plan, None)
    a = topo.container("a").netns
    k.write_sysctl(a, "net/ipv6/conf/all/disable_ipv6", "1")
    assert not any(":" in cidr for _, cidr in k.space(a).addresses)
    assert DEFAULT6 not in k.space(a).routes and "default" in k.space(a).routes
    with pytest.raises(KernelError, match="IPv6 is disabled on eth0"):
        k.links.add_address(a, "eth0", "2001:db8:2::2/64")


def _attr(kind: int, value: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(value), kind) + value
    return raw + b"\0" * (-len(raw) % 4)


def _message(kind: int, body: bytes) -> tuple[int, bytes, int, int]:
    buf = b"\0" * 16 + body
    return kind, buf, 16, len(buf)


def _addr(family: int, plen: int, scope: int, index: int, address: str) -> tuple[int, bytes, int, int]:
    head = struct.pack("=BBBBI", family, plen, 0, scope, index)
    return _message(RTM_NEWADDR, head + _attr(1, socket.inet_pton(family, address)))


def _route(family: int, dst_len: int, gateway: str, dst: str | None = None, table: int = 254):
    head = struct.pack("=BBBBBBBBI", family, dst_len, 0, 0, table, 4, 0, 1, 0)
    body = head + _attr(5, socket.inet_pton(family, gateway)) + _attr(4, struct.pack("=I", 7))
    if dst:
        body += _attr(1, socket.inet_pton(family, dst))
    return _message(RTM_NEWROUTE, body)


def test_readers_take_ipv6_and_leave_what_the_kernel_makes():
    found = parse_addresses([
        _addr(socket.AF_INET, 24, 0, 7, "172.30.0.2"),
        _addr(socket.AF_INET6, 64, 0, 7, "2001:db8:2::2"),
        _addr(socket.AF_INET6, 64, 253, 7, "fe80::a044:38ff:feaf:a39c"),    # link-local: the kernel's
        _addr(socket.AF_INET6, 128, 254, 1, "::1"),         # lo's: the kernel's
    ])
    assert [a.cidr for a in found] == ["172.30.0.2/24", "2001:db8:2::2/64"]
    routes = parse_routes([
        _route(socket.AF_INET, 0, "172.30.0.1"),
        _route(socket.AF_INET6, 0, "2001:db8:2::1"),
        _route(socket.AF_INET6, 48, "2001:db8:2::1", dst="2001:db8:9::"),
        _route(socket.AF_INET6, 0, "2001:db8:2::1", table=255),
    ])
    assert [(r.dst, r.gateway, r.oif) for r in routes] == [
        ("default", "172.30.0.1", 7), (DEFAULT6, "2001:db8:2::1", 7), ("2001:db8:9::/48", "2001:db8:2::1", 7)]


def test_ipv6_missing_reads_the_machine(tmp_path):
    on, off = tmp_path / "on", tmp_path / "off"
    on.write_text("0\n")
    off.write_text("1\n")
    assert features.ipv6_missing(str(on)) is None
    assert features.ipv6_missing(str(off)) == "net.ipv6.conf.all.disable_ipv6=1 on the machine"
    assert "no IPv6" in (features.ipv6_missing(str(tmp_path / "absent")) or "")


def test_up_refuses_ipv6_lab_when_ipv6_is_off(monkeypatch):
    monkeypatch.setattr(features, "ipv6_missing", lambda: "net.ipv6.conf.all.disable_ipv6=1 on the machine")
    monkeypatch.setattr(features, "missing_link_kinds", lambda kinds: {})
    _, plan = _plan()
    with pytest.raises(KernelError, match=r"IPv6 is off: net\.ipv6\.conf\.all\.disable_ipv6=1 .*Nothing was created"):
        lifecycle.require_kernel(plan)
    v4 = build_plan(load_text("name: v4k\nnetworks: {n: {subnet: 10.1.0.0/24}}\ncontainers: {a: {networks: [n]}}\n"))
    lifecycle.require_kernel(v4)      # an IPv4 lab does not ask


def test_macvlan_endpoint_gets_its_ipv6_address_and_route():
    """macvlan's Join sets the IPv6 gateway of the network's IPv6 subnet (unless internal): the
    endpoint's IPv6 address, IPv6 on its interface and ::/0 through that gateway."""
    topo = load_text("""
name: v6mv
engine: "28.5"
networks:
  mv:
    driver: macvlan
    enable_ipv6: true
    ipam: {config: [{subnet: 10.10.101.0/24, gateway: 10.10.101.254}, {subnet: "2001:db8:3::/64"}]}
  mvi:
    driver: macvlan
    internal: true
    enable_ipv6: true
    driver_opts: {parent: eth0.7}
    ipam: {config: [{subnet: 10.7.0.0/24}, {subnet: "2001:db8:7::/64"}]}
containers:
  a: {networks: [mv]}
  b: {networks: [mvi]}
""")
    a, b = topo.container("a"), topo.container("b")
    plan = build_plan(topo)
    assert Route(a.netns, "default", "10.10.101.254", "eth0") in plan.items
    assert Address(a.netns, "eth0", str(a.attachment("mv").address6)) in plan.items
    assert Route(a.netns, DEFAULT6, "2001:db8:3::1", "eth0") in plan.items
    assert Sysctl(a.netns, "net/ipv6/conf/eth0/disable_ipv6", "0") in plan.items
    # internal: an address, no gateway and so no route
    assert Address(b.netns, "eth0", str(b.attachment("mvi").address6)) in plan.items
    assert not any(isinstance(i, Route) and i.netns == b.netns for i in plan.items)


def test_ipv6_turned_off_behind_our_back_is_repaired_sysctls_first():
    """Someone writes all.disable_ipv6=1 in a container: the kernel drops its IPv6 addresses
    and routes, and refuses new ones until IPv6 is on again, so the repair writes the
    sysctls before the addresses (plan/diff RANK)."""
    topo, plan = _plan()
    k = FakeKernel()
    converge(k, plan, None)
    a = topo.container("a").netns
    k.write_sysctl(a, "net/ipv6/conf/all/disable_ipv6", "1")
    assert remaining(k, plan)
    converge(k, plan, plan)
    assert remaining(k, plan) == []
    assert ("eth0", "2001:db8:2::2/64") in k.space(a).addresses
