"""The IPv6 model: lab keys, IPAM as each engine does it, and `netlab inspect`'s IPv6 fields."""
from __future__ import annotations

from ipaddress import IPv6Address, IPv6Interface, IPv6Network

import pytest
from ipv6_labs import dual_stack_lab

from netlab.errors import TopologyError
from netlab.model import load_text
from netlab.model.inspect import inspect_lab
from netlab.model.ipam6 import engine_host_id, mac_derived, ula_pool
from netlab.plan.planner import build_plan

CONTAINERS = """  a: {networks: {dual: {ipv6_address: "2001:db8:2::3"}}}
  b: {networks: [dual]}
  c: {networks: [dual]}
"""


def dual(engine: str) -> str:
    return dual_stack_lab("v6", CONTAINERS, engine)


def _att(topo, container, network):
    return topo.container(container).attachment(network)


def test_ula_pool_is_moby_derivation():
    # ipamutils' TestDeriveULABaseNetwork vectors
    assert ula_pool("").base == IPv6Network("fd42:98fc:1c14::/48")
    assert ula_pool("499d4bc0-b0b3-416f-b1ee-cf6486315593").base == IPv6Network("fd62:fb69:18af::/48")
    assert ula_pool("").size == 64


@pytest.mark.parametrize("engine", ["20.10", "26.1", "28.5", "29.7", "29.7-nftables"])
def test_dual_stack_gateway_first_then_sequential_around_statics(engine):
    topo = load_text(dual(engine))
    seg = topo.segment("dual", "node1")
    assert seg.subnet6 == IPv6Network("2001:db8:2::/64")
    assert seg.gateway6 == IPv6Address("2001:db8:2::1")    # ::0 is kept back (Subnet-Router anycast)
    assert _att(topo, "a", "dual").address6 == IPv6Interface("2001:db8:2::3/64")
    assert _att(topo, "b", "dual").address6 == IPv6Interface("2001:db8:2::2/64")
    assert _att(topo, "c", "dual").address6 == IPv6Interface("2001:db8:2::4/64")
    assert _att(topo, "b", "dual").gateway6 == IPv6Address("2001:db8:2::1")
    assert str(_att(topo, "b", "dual").address) == "172.30.0.3/24"   # IPv4 as before


def test_ipv4_lab_has_no_ipv6_anywhere():
    topo = load_text("name: v4\nnetworks: {n: {subnet: 10.1.0.0/24}}\ncontainers: {a: {networks: [n]}, b: {}}\n")
    assert all(s.subnet6 is None and s.gateway6 is None and not s.ipv6 for s in topo.segments)
    assert all(a.address6 is None and a.gateway6 is None for c in topo.containers for a in c.attachments)
    net = inspect_lab(topo, "n")[0]
    assert net["EnableIPv6"] is False and len(net["IPAM"]["Config"]) == 1


def test_ip_range6_and_explicit_gateway6():
    topo = load_text("""
name: r
networks:
  n:
    enable_ipv6: true
    ipam:
      config:
        - {subnet: "2001:db8:5::/64", gateway: "2001:db8:5::fe", ip_range: "2001:db8:5::100/120"}
containers: {a: {networks: [n]}}
""")
    assert topo.segment("n", "node1").gateway6 == IPv6Address("2001:db8:5::fe")
    assert _att(topo, "a", "n").address6 == IPv6Interface("2001:db8:5::100/64")


AUTO = """
name: auto
engine: "{engine}"
hosts:
  node1:
    daemon: {{ipv6: true}}
networks:
  one: {{enable_ipv6: true}}
  two: {{enable_ipv6: true}}
containers: {{a: {{networks: [one, two]}}, d: {{}}}}
"""


@pytest.mark.parametrize("engine", ["28.5", "29.7"])
def test_ula_subnets_from_the_host_id_from_27(engine):
    topo = load_text(AUTO.format(engine=engine))
    pool = ula_pool(engine_host_id("auto", "node1")).base
    subnets = [topo.segment(n, "node1").subnet6 for n in ("bridge", "one", "two")]
    first = int(pool.network_address)
    # docker0 first, then the networks in order: consecutive /64s of the host's /48
    assert subnets == [IPv6Network((first + (i << 64), 64)) for i in range(3)]
    assert all(s is not None and s.subnet_of(IPv6Network("fd00::/8")) for s in subnets)
    assert _att(topo, "a", "two").address6 == IPv6Interface(f"{subnets[2].network_address + 2}/64")
    # docker0 without fixed-cidr-v6: IPAM's addresses, not MAC-derived ones
    assert _att(topo, "d", "bridge").address6 == IPv6Interface(f"{subnets[0].network_address + 2}/64")


@pytest.mark.parametrize("engine", ["20.10", "26.1"])
def test_no_ipv6_pool_before_27(engine):
    with pytest.raises(TopologyError) as e:
        load_text(AUTO.format(engine=engine), "auto.yaml")
    text = str(e.value)
    assert f"auto.yaml:6: hosts.node1.daemon.ipv6: `ipv6: true` needs `fixed-cidr-v6` on Docker {engine}" in text
    assert f"auto.yaml:8: networks.one.enable_ipv6: enable_ipv6 without an IPv6 subnet: the engine of host " \
           f"node1 ({engine}) has no IPv6 address pool" in text
    assert "Traceback" not in text


def test_user_ipv6_pools_serve_old_engines_too():
    topo = load_text("""
name: p
engine: "20.10"
hosts:
  node1:
    daemon:
      default-address-pools:
        - {base: 10.200.0.0/16, size: 24}
        - {base: "fd00:aa::/48", size: 64}
networks: {n: {enable_ipv6: true}}
containers: {a: {networks: [n]}}
""")
    assert topo.segment("n", "node1").subnet6 == IPv6Network("fd00:aa::/64")
    assert str(topo.segment("n", "node1").subnet) == "10.200.1.0/24"   # docker0 took the first
    assert topo.host("node1").daemon.default_address_pools6[0].size == 64


DOCKER0 = """
name: d0
engine: "{engine}"
hosts:
  node1:
    daemon: {{ipv6: true, fixed-cidr-v6: "{fixed}"}}
containers: {{a: {{}}, b: {{}}}}
"""


@pytest.mark.parametrize("engine", ["20.10", "26.1"])
def test_docker0_addresses_from_macs_with_48_host_bits(engine):
    topo = load_text(DOCKER0.format(engine=engine, fixed="2001:db8:1::/64"))
    seg = topo.segment("bridge", "node1")
    assert seg.subnet6 == IPv6Network("2001:db8:1::/64") and seg.gateway6 == IPv6Address("2001:db8:1::1")
    for name in ("a", "b"):
        att = _att(topo, name, "bridge")
        low48 = int(att.mac.replace(":", ""), 16)
        assert att.address6 == IPv6Interface(f"{IPv6Address(int(IPv6Address('2001:db8:1::')) | low48)}/64")
        assert att.gateway6 == IPv6Address("2001:db8:1::1")
    shown = inspect_lab(topo, "a")[0]["NetworkSettings"]
    assert shown["GlobalIPv6Address"] == str(_att(topo, "a", "bridge").address6.ip)
    assert shown["GlobalIPv6PrefixLen"] == 64 and shown["IPv6Gateway"] == "2001:db8:1::1"


@pytest.mark.parametrize("engine", ["28.5", "29.7"])
def test_docker0_from_ipam_from_28(engine):
    topo = load_text(DOCKER0.format(engine=engine, fixed="2001:db8:1::/64"))
    assert [_att(topo, n, "bridge").address6 for n in ("a", "b")] == \
        [IPv6Interface("2001:db8:1::2/64"), IPv6Interface("2001:db8:1::3/64")]


def test_docker0_sequential_when_too_small_for_a_mac():
    topo = load_text(DOCKER0.format(engine="20.10", fixed="2001:db8:1::/96"))
    assert [_att(topo, n, "bridge").address6 for n in ("a", "b")] == \
        [IPv6Interface("2001:db8:1::2/96"), IPv6Interface("2001:db8:1::3/96")]


def test_mac_derived_puts_the_mac_in_the_last_48_bits():
    assert mac_derived(IPv6Network("2001:db8::/64"), "02:42:ac:11:00:02") == IPv6Address("2001:db8::242:ac11:2")


def test_slash_127_leaves_the_gateway_only():
    with pytest.raises(TopologyError) as e:
        load_text("""
name: s
networks:
  n:
    enable_ipv6: true
    ipam: {config: [{subnet: "2001:db8::/127"}]}
containers: {a: {networks: [n]}}
""", "s.yaml")
    assert "s.yaml:7: containers.a.networks[0]: network 'n' has no free IPv6 address left in 2001:db8::/127" \
        in str(e.value)


def test_ipv4_entry_of_ipam_config_is_the_flat_keys():
    flat = load_text("name: f\nnetworks: {n: {subnet: 10.9.0.0/24, gateway: 10.9.0.254}}\n"
                     "containers: {a: {networks: [n]}}\n")
    listed = load_text("name: f\nnetworks: {n: {ipam: {config: [{subnet: 10.9.0.0/24, gateway: 10.9.0.254}]}}}\n"
                       "containers: {a: {networks: [n]}}\n")
    assert flat.segments == listed.segments and flat.containers == listed.containers


def test_inspect_shows_both_families():
    topo = load_text(dual("28.5"))
    net = inspect_lab(topo, "dual")[0]
    assert net["EnableIPv6"] is True
    # the config as asked (subnets without gateways: dockerd shows none, record 10-dual-stack)
    assert net["IPAM"]["Config"] == [{"Subnet": "172.30.0.0/24"}, {"Subnet": "2001:db8:2::/64"}]
    member = net["Containers"][topo.container("b").id]
    assert member["IPv6Address"] == "2001:db8:2::2/64"
    ep = inspect_lab(topo, "b")[0]["NetworkSettings"]["Networks"]["dual"]
    assert (ep["GlobalIPv6Address"], ep["GlobalIPv6PrefixLen"], ep["IPv6Gateway"]) == \
        ("2001:db8:2::2", 64, "2001:db8:2::1")


def test_a_dual_stack_lab_still_plans():
    """IPv6 only adds to a plan: every item of the IPv4 lab is in the dual-stack lab's."""
    v4 = dual("28.5").replace("    enable_ipv6: true\n", "").replace('        - subnet: "2001:db8:2::/64"\n', "") \
        .replace('{ipv6_address: "2001:db8:2::3"}', "{}")
    assert "ipv6" not in v4 and "2001" not in v4
    plan4 = build_plan(load_text(v4))
    plan6 = build_plan(load_text(dual("28.5")))
    assert plan4.items and {i.key for i in plan4.items} <= {i.key for i in plan6.items}


def test_ipv6_pools_are_taken_lowest_address_first():
    """27.0's defaultipam sorts the pools and drops one inside another: the order written does
    not matter, and an explicit subnet is stepped around."""
    topo = load_text("""
name: o
engine: "28.5"
hosts:
  node1:
    daemon:
      default-address-pools:
        - {base: "fd00:bb::/48", size: 64}
        - {base: "fd00:aa::/48", size: 64}
        - {base: "fd00:aa:0:8000::/49", size: 80}
networks:
  taken: {enable_ipv6: true, ipam: {config: [{subnet: "fd00:aa::/63"}]}}
  one: {enable_ipv6: true}
  two: {enable_ipv6: true}
""")
    assert [topo.segment(n, "node1").subnet6 for n in ("one", "two")] == \
        [IPv6Network("fd00:aa:0:2::/64"), IPv6Network("fd00:aa:0:3::/64")]
