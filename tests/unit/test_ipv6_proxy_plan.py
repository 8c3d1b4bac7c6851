"""docker-proxy per host binding in a lab with IPv6 (addPortMappings): a binding on every
address has its twin on :: with the same host port, to the container's IPv6 address, or to its
IPv4 one when it has none and the proxy is on; `docker inspect` shows both; the twin's port is
taken on :: as the IPv4 one is on 0.0.0.0."""
from __future__ import annotations

import pytest
from ipv6_labs import dual_stack_lab

from netlab.errors import TopologyError
from netlab.model import load_text
from netlab.model.inspect import container as inspect_container
from netlab.plan.items import Proxy
from netlab.plan.planner import build_plan

V4NET = "  v4: {subnet: 172.31.0.0/24}\n"


def proxies(topo) -> list[tuple[str, str, int, str, str]]:
    return [(p.proto, p.host_ip, p.host_port, f"{p.container_ip}:{p.container_port}", p.mode)
            for p in build_plan(topo).of(Proxy)]


def lab(containers: str, daemon: str = "", engine: str = "28.5"):
    tail = f"hosts:\n  node1: {{daemon: {{{daemon}}}}}\n" if daemon else ""
    return load_text(dual_stack_lab("b6px", containers, engine=engine, networks=V4NET, tail=tail))


@pytest.mark.parametrize("engine", ["20.10", "28.5", "29.7", "29.7-nftables"])
def test_a_binding_on_every_address_is_proxied_on_both_families(engine):
    topo = lab('  a: {networks: [dual], ports: ["8080:80", "0.0.0.0:8081:81", "[::1]:8082:82/udp"]}\n',
               engine=engine)
    # 20.10 hands bindings over in nat.SortPortMap's order, 28+ in the port mapper's
    assert sorted(proxies(topo)) == sorted([
        ("tcp", "0.0.0.0", 8080, "172.30.0.2:80", "proxy"),
        ("tcp", "::", 8080, "2001:db8:2::2:80", "proxy"),
        ("tcp", "0.0.0.0", 8081, "172.30.0.2:81", "proxy"),       # an explicit 0.0.0.0: IPv4's alone
        ("udp", "::1", 8082, "2001:db8:2::2:82", "proxy"),
    ])


def test_a_container_without_ipv6_is_proxied_from_ipv6_to_its_ipv4_address():
    topo = lab('  a: {networks: [dual]}\n  b: {networks: [v4], ports: ["8080:80", "[::1]:8081:81"]}\n')
    assert proxies(topo) == [
        ("tcp", "0.0.0.0", 8080, "172.31.0.2:80", "proxy"),
        ("tcp", "::", 8080, "172.31.0.2:80", "proxy"),
        ("tcp", "::1", 8081, "172.31.0.2:81", "proxy"),
    ]


def test_without_the_proxy_ipv6_to_ipv4_has_no_binding():
    topo = lab('  a: {networks: [dual], ports: ["8080:80"]}\n'
               '  b: {networks: [v4], ports: ["8081:81", "[::1]:8082:82"]}\n', daemon="userland-proxy: false")
    assert proxies(topo) == [
        ("tcp", "0.0.0.0", 8080, "172.30.0.2:80", "hold"),
        ("tcp", "::", 8080, "2001:db8:2::2:80", "hold"),
        ("tcp", "0.0.0.0", 8081, "172.31.0.2:81", "hold"),
    ]
    ports = inspect_container(topo, topo.container("b"))["NetworkSettings"]["Ports"]
    assert ports == {"81/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8081"}], "82/tcp": None}


@pytest.mark.parametrize("engine", ["20.10", "26.1", "28.5"])
def test_an_ipv4_lab_binds_on_ipv6_too(engine):
    # its hosts have ::1 (IsV6Listenable), as real 20.10.24, 26.1.5 and 28.5.2 bound
    # [::]:8080 to the container's IPv4 address (tests/unit/test_engine_ipv6_old.py)
    topo = load_text(f'name: b6v4\nengine: "{engine}"\ncontainers: {{a: {{ports: ["8080:80"]}}}}\n')
    assert proxies(topo) == [("tcp", "0.0.0.0", 8080, "172.17.0.2:80", "proxy"),
                             ("tcp", "::", 8080, "172.17.0.2:80", "proxy")]
    ports = inspect_container(topo, topo.container("a"))["NetworkSettings"]["Ports"]
    assert ports == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}]}


def test_inspect_shows_the_twin_as_docker_does():
    topo = lab('  a: {networks: [dual], ports: ["8080:80", "127.0.0.1:8081:81"]}\n')
    ports = inspect_container(topo, topo.container("a"))["NetworkSettings"]["Ports"]
    assert ports == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
                     "81/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8081"}]}


def test_the_twin_takes_its_port_on_ipv6():
    with pytest.raises(TopologyError) as e:
        lab('  a: {networks: [dual], ports: ["[::1]:8080:80"]}\n  b: {networks: [dual], ports: ["8080:80"]}\n')
    assert "containers.b.ports[0]: Bind for [::]:8080/tcp failed: port is already allocated to container 'a'" \
        in str(e.value)
    with pytest.raises(TopologyError) as e:
        lab('  a: {networks: [v4], ports: ["8080:80"]}\n  b: {networks: [dual], ports: ["[::1]:8080:80"]}\n')
    assert "Bind for [::1]:8080/tcp failed: port is already allocated to container 'a'" in str(e.value)
    # a range skips a port taken on either family; an ephemeral port is free on both
    topo = lab('  a: {networks: [dual], ports: ["[::1]:8080:80", "[::]:32768:81"]}\n'
               '  b: {networks: [dual], ports: ["8080-8081:80", "90"]}\n')
    assert [(str(b.host_ip), b.host_port) for b in topo.container("b").ports] == [
        ("0.0.0.0", 8081), ("0.0.0.0", 32769)]


def test_an_ipv4_lab_takes_the_twins_port_on_ipv6():
    # the twin holds [::]:8080 in an IPv4 lab too; with the proxy off there is no twin
    text = 'name: b6v4\nengine: "28.5"\n{}containers:\n  a: {{ports: ["8080:80"]}}\n  b: {{ports: ["[::1]:8080:80"]}}\n'
    with pytest.raises(TopologyError, match=r"containers.b.ports\[0\]: Bind for \[::1\]:8080/tcp failed"):
        load_text(text.format(""))
    topo = load_text(text.format("hosts: {node1: {daemon: {userland-proxy: false}}}\n"))
    assert [b.host_port for b in topo.container("b").ports] == [8080]


def test_inspect_host_config_keeps_the_bindings_as_asked():
    topo = lab('  a: {networks: [dual], ports: ["8080:80", "9090:80", "0.0.0.0:7070:70", "[::1]:6060:60"]}\n')
    bindings = inspect_container(topo, topo.container("a"))["HostConfig"]["PortBindings"]
    assert sorted(bindings["80/tcp"], key=lambda b: b["HostPort"]) == [
        {"HostIp": "", "HostPort": "8080"}, {"HostIp": "", "HostPort": "9090"}]     # both, no address given
    assert bindings["70/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": "7070"}]
    assert bindings["60/tcp"] == [{"HostIp": "::1", "HostPort": "6060"}]
