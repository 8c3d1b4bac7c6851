"""IPv6 host addresses in port specs ([::1]:8080:80), the IPv6 twin of a binding with no
address given (none for an explicit 0.0.0.0), and host-port clashes per family."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest

from netlab.errors import TopologyError
from netlab.model import load_text
from netlab.model.ports import PortSpecError, parse_port
from netlab.plan.firewall import render
from netlab.plan.firewall.programs import host_ruleset, host_ruleset6


@pytest.mark.parametrize("spec, ip, host", [
    ("[::1]:8080:80", IPv6Address("::1"), (8080, 8080)),
    ("[::]:8080-8081:80-81/udp", IPv6Address("::"), (8080, 8081)),
    ("[2001:db8::7]::80", IPv6Address("2001:db8::7"), None),
    ("[127.0.0.1]:8080:80", IPv4Address("127.0.0.1"), (8080, 8080)),   # SplitHostPort takes it
    ("0.0.0.0:8080:80", IPv4Address("0.0.0.0"), (8080, 8080)),
    ("8080:80", None, (8080, 8080)),
])
def test_host_address_of_either_family(spec, ip, host):
    req = parse_port(spec)
    assert (req.host_ip, req.host_range) == (ip, host)


@pytest.mark.parametrize("spec, words", [
    ("::1:8080:80", "in brackets, as in [::1]:8080:80"),
    ("[::g]:8080:80", "'::g' is not an IP address"),
    ("[]:8080:80", "'' is not an IP address"),
])
def test_bad_ipv6_host_address(spec, words):
    with pytest.raises(PortSpecError) as e:
        parse_port(spec)
    assert words in str(e.value)


LAB = """
name: v6ports
engine: "{engine}"
networks:
  dual:
    enable_ipv6: true
    ipam: {{config: [{{subnet: 172.30.0.0/24}}, {{subnet: "2001:db8:2::/64"}}]}}
containers:
{containers}
"""


def _lab(ports: dict[str, list[str]], engine: str = "28.5"):
    containers = "\n".join(f"  {name}: {{networks: [dual], ports: {specs!r}}}" for name, specs in ports.items())
    return load_text(LAB.format(engine=engine, containers=containers))


@pytest.mark.parametrize("engine", ["28.5", "29.7", "29.7-nftables"])
def test_twin_only_without_an_address(engine):
    topo = _lab({"a": ["8080:80", "0.0.0.0:8081:81", "[::1]:8082:82", "127.0.0.1:8083:83"]}, engine)
    explicit = {b.host_port: b.explicit_ip for b in topo.container("a").ports}
    assert explicit == {8080: False, 8081: True, 8082: True, 8083: True}
    six = render(host_ruleset6(topo, "node1")) if engine != "29.7-nftables" else None
    if six is not None:
        dnat = [line for line in six.splitlines() if "DNAT" in line]
        assert len(dnat) == 2, dnat
        assert "--dport 8080 -j DNAT --to-destination [2001:db8:2::2]:80" in dnat[0]
        assert "-d ::1/128" in dnat[1] and "--dport 8082" in dnat[1]
        four = render(host_ruleset(topo, "node1"))
        assert "--dport 8082" not in four and "--dport 8081" in four


def test_legacy_engine_leaves_an_ipv6_binding_to_the_proxy():
    topo = load_text("name: old\nengine: \"20.10\"\ncontainers:\n  a: {ports: [\"[::1]:8082:82\", \"8080:80\"]}\n")
    four = render(host_ruleset(topo, "node1"))
    assert "--dport 8080" in four and "8082" not in four


def test_host_ports_clash_per_family():
    # 0.0.0.0 takes the port on every IPv4 address, none of IPv6's
    topo = _lab({"a": ["0.0.0.0:8080:80"], "b": ["[::1]:8080:80"], "c": ["[2001:db8::9]:8080:80"]})
    assert [b.host_ip for n in "abc" for b in topo.container(n).ports] == [
        IPv4Address("0.0.0.0"), IPv6Address("::1"), IPv6Address("2001:db8::9")]
    with pytest.raises(TopologyError):
        _lab({"a": ["0.0.0.0:8080:80"], "b": ["127.0.0.1:8080:80"]})
    with pytest.raises(TopologyError) as e:
        _lab({"a": ["[::]:8080:80"], "b": ["[::1]:8080:80"]})
    assert "containers.b.ports[0]" in str(e.value)
    assert "Bind for [::1]:8080/tcp failed: port is already allocated to container 'a'" in str(e.value)
    with pytest.raises(TopologyError):
        _lab({"a": ["[::1]:8080:80"], "b": ["[::1]:8080:80/tcp"]})
