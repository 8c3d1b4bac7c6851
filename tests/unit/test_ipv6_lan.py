"""The LAN's IPv6 twin in a lab with IPv6: the outside's router and stand-in internet host,
each host's address and default route, derived from the IPv4 LAN; `outside.routes` of either
family; an IPv4 lab gets none of it."""
from __future__ import annotations

from ipaddress import IPv6Address, IPv6Network

import pytest
from ipv6_labs import dual_stack_lab

from netlab.errors import TopologyError
from netlab.model import load_text
from netlab.model.lan6 import lan_address, lan_subnet
from netlab.plan.items import DEFAULT6, Address, Route, Sysctl
from netlab.plan.planner import build_plan

V4 = "name: b6v4\nengine: \"28.5\"\nnetworks: {n: {subnet: 10.1.0.0/24}}\ncontainers: {a: {networks: [n]}}\n"


def test_an_ipv4_lab_has_no_ipv6_on_its_lan():
    topo = load_text(V4)
    assert not topo.ipv6 and topo.underlay.subnet6 is None and topo.outside_addresses6 == ()
    assert all(h.address6 is None for h in topo.hosts)
    plan = build_plan(topo)
    six = [i for i in plan.items if isinstance(i, Address) and ":" in i.cidr]
    assert six == [] and not any(isinstance(i, Route) and i.dst == DEFAULT6 for i in plan.items)


def test_a_dual_stack_lab_gets_the_lan_twin():
    topo = load_text(dual_stack_lab("b6lan", "  a: {networks: [dual]}\n"))
    assert topo.underlay.subnet6 == IPv6Network("2001:db8:a:101::/64")
    assert topo.underlay.gateway6 == IPv6Address("2001:db8:a:101::254")
    assert topo.host("node1").address6 == IPv6Address("2001:db8:a:101::105")
    assert topo.outside_addresses6 == (IPv6Address("2001:db8:ff::10"),)
    items = build_plan(topo).items
    out, node = "b6lan-outside", "b6lan-node1"
    assert Address(out, "underlay", "2001:db8:a:101::254/64") in items
    assert Address(out, "lo", "2001:db8:ff::10/128") in items
    assert Sysctl(out, "net/ipv6/conf/all/forwarding", "1") in items
    assert Address(node, "eth0", "2001:db8:a:101::105/64") in items
    assert Route(node, DEFAULT6, "2001:db8:a:101::254", "eth0") in items
    assert Sysctl(node, "net/ipv6/conf/eth0/disable_ipv6", "0") in items


def test_a_daemon_with_ipv6_alone_gives_the_lan_ipv6():
    topo = load_text('name: b6d\nengine: "28.5"\nhosts:\n  h1: {daemon: {ipv6: true, '
                     'fixed-cidr-v6: "2001:db8:7::/64"}}\n  h2: {}\ncontainers: {a: {host: h1}}\n')
    assert topo.ipv6
    assert [h.address6 for h in topo.hosts] == [IPv6Address("2001:db8:a:101::105"),
                                                 IPv6Address("2001:db8:a:101::106")]


@pytest.mark.parametrize("subnet, address, twin", [
    ("10.10.101.0/24", "10.10.101.105", "2001:db8:a:101::105"),
    ("10.20.7.0/24", "10.20.7.254", "2001:db8:a:7::254"),
    ("192.168.200.0/25", "192.168.200.9", "2001:db8:a:200::9"),
    ("10.10.0.0/16", "10.10.1.5", "2001:db8:a:0::1:5"),     # a wider LAN keeps both octets
])
def test_twin_addresses_read_like_their_ipv4(subnet, address, twin):
    from ipaddress import IPv4Address, IPv4Network
    net = IPv4Network(subnet)
    assert lan_address(net, IPv4Address(address)) == IPv6Address(twin)
    assert IPv6Address(twin) in lan_subnet(net)


def test_outside_routes_of_either_family():
    routed = ('  dual:\n    enable_ipv6: true\n    driver_opts: {com.docker.network.bridge.gateway_mode_ipv6: routed}\n'
              '    ipam: {config: [{subnet: 172.30.0.0/24}, {subnet: "2001:db8:2::/64"}]}\n')
    text = (f'name: b6r\nengine: "28.5"\nnetworks:\n{routed}containers:\n  a: {{networks: [dual]}}\n'
            'outside:\n  routes:\n    - {to: dual, via: node1}\n    - {to: "2001:db8:9::/64", via: node1}\n')
    topo = load_text(text)
    assert [(str(d), h) for d, h in topo.outside_routes] == [
        ("172.30.0.0/24", "node1"), ("2001:db8:2::/64", "node1"), ("2001:db8:9::/64", "node1")]
    items = build_plan(topo).items
    assert Route("b6r-outside", "2001:db8:2::/64", "2001:db8:a:101::105", "underlay") in items
    assert Route("b6r-outside", "172.30.0.0/24", "10.10.101.105", "underlay") in items


@pytest.mark.parametrize("tail, words", [
    ("outside:\n  routes: [{to: \"2001:db8:a:101::/64\", via: node1}]\n",
     "outside.routes[0].to: 2001:db8:a:101::/64 overlaps the underlay 2001:db8:a:101::/64"),
    ("outside:\n  addresses: [203.0.113.10, \"2001:db9::1\"]\n",
     "outside.addresses[1]: 2001:db9::1 is not in the IPv6 documentation prefix"),
    ("outside:\n  addresses: [\"2001:db8:a:101::7\"]\n",
     "outside.addresses: 2001:db8:a:101::7 is on the lab's IPv6 LAN"),
])
def test_bad_ipv6_outside(tail, words):
    with pytest.raises(TopologyError) as e:
        load_text(dual_stack_lab("b6bad", "  a: {networks: [dual]}\n", tail=tail))
    assert words in str(e.value)


@pytest.mark.parametrize("tail, words", [
    ("outside:\n  routes: [{to: \"2001:db8:9::/64\", via: node1}]\n",
     "outside.routes[0].to: 2001:db8:9::/64 is IPv6, but the lab has no IPv6"),
    ("outside:\n  addresses: [\"2001:db8:ff::7\"]\n", "outside.addresses: 2001:db8:ff::7 is IPv6, but the lab has no IPv6"),
])
def test_ipv6_outside_in_an_ipv4_lab_is_refused(tail, words):
    with pytest.raises(TopologyError) as e:
        load_text(V4 + tail)
    assert words in str(e.value)


def test_listed_ipv6_stand_ins_replace_the_default_twin():
    topo = load_text(dual_stack_lab("b6ls", "  a: {networks: [dual]}\n",
                                    tail="outside:\n  addresses: [198.51.100.7, \"2001:db8:ff::7\"]\n"))
    assert topo.outside_addresses6 == (IPv6Address("2001:db8:ff::7"),)
    assert Address("b6ls-outside", "lo", "2001:db8:ff::7/128") in build_plan(topo).items


def test_an_endpoint_may_not_take_a_lan_ipv6_address():
    text = ('name: b6mvc\nengine: "28.5"\nnetworks:\n  mv:\n    driver: macvlan\n    enable_ipv6: true\n'
            '    ipam: {config: [{subnet: 10.10.101.0/24, gateway: 10.10.101.254, ip_range: 10.10.101.128/28},\n'
            '                    {subnet: "2001:db8:a:101::/64", gateway: "2001:db8:a:101::254"}]}\n'
            'containers:\n  a: {networks: [mv]}\n  b: {networks: {mv: {ipv6_address: "2001:db8:a:101::105"}}}\n')
    with pytest.raises(TopologyError) as e:
        load_text(text)
    assert ("containers.b.networks.mv: 2001:db8:a:101::105 on 'mv' is the IPv6 LAN address of host 'node1'"
            in str(e.value)), str(e.value)
    topo = load_text(text.replace("::105", "::7"))
    assert str(topo.container("b").attachment("mv").address6.ip) == "2001:db8:a:101::7"
