"""host_ruleset, host_sysctls, hairpin_ports and lab_rules: what depends on which option,
plus invariants every generated Docker host must keep, over random labs."""
from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.errors import TopologyError
from netlab.model import load_text
from netlab.plan.firewall import hairpin_ports, host_ruleset, host_sysctls, lab_rules, parse_save, render


def lab(text: str):
    return load_text("name: unit\n" + text)


def forward(topo, host="node1"):
    return host_ruleset(topo, host).table("filter").chain("FORWARD")


def test_iptables_off_writes_nothing_but_still_forwards():
    topo = lab("hosts: {node1: {daemon: {iptables: false, userland-proxy: false}}}\n")
    assert host_ruleset(topo, "node1").tables == ()
    assert host_sysctls(topo, "node1") == (("net/ipv4/ip_forward", "1"),
                                           ("net/ipv6/conf/docker0/accept_ra", "0"),
                                           ("net/ipv4/conf/docker0/route_localnet", "1"))


def test_forward_policy_drops_only_when_docker_turned_forwarding_on():
    assert forward(lab("")).policy == "DROP"
    off = lab("hosts: {node1: {daemon: {ip-forward: false}}}\n")
    assert forward(off).policy == "ACCEPT"
    assert ("net/ipv4/ip_forward", "1") not in host_sysctls(off, "node1")


def test_proxy_off_means_hairpin_and_route_localnet_on_every_bridge():
    topo = lab("hosts: {node1: {daemon: {userland-proxy: false}}}\n"
               "networks: {n1: {driver_opts: {com.docker.network.bridge.name: nlbr1}}}\n")
    assert hairpin_ports(topo, "node1") and not hairpin_ports(lab(""), "node1")
    assert {p for p, _ in host_sysctls(topo, "node1")} >= {
        "net/ipv4/conf/docker0/route_localnet", "net/ipv4/conf/nlbr1/route_localnet"}


def test_bridge_netfilter_only_for_icc_off_with_forwarding_and_iptables():
    knob = ("net/bridge/bridge-nf-call-iptables", "1")
    quiet = "networks: {q: {driver_opts: {com.docker.network.bridge.enable_icc: 'false'}}}\n"
    assert knob in host_sysctls(lab(quiet), "node1")
    assert knob in host_sysctls(lab("hosts: {node1: {daemon: {icc: false}}}\n"), "node1")
    assert knob not in host_sysctls(lab(""), "node1")
    assert knob not in host_sysctls(lab("hosts: {node1: {daemon: {icc: false, ip-forward: false}}}\n"), "node1")
    assert knob not in host_sysctls(lab("hosts: {node1: {daemon: {icc: false, iptables: false}}}\n"), "node1")


def test_macvlan_networks_get_no_bridge_sysctls_and_no_rules():
    topo = lab("networks: {mv: {driver: macvlan, subnet: 10.30.0.0/24, driver_opts: {parent: eth0}}}\n"
               "containers: {m1: {networks: [mv]}}\n")
    assert host_ruleset(topo, "node1") == host_ruleset(lab(""), "node1")
    assert not any("eth0" in p for p, _ in host_sysctls(topo, "node1"))


def test_links_write_rules_only_across_an_icc_off_default_bridge():
    linked = "containers: {db: {expose: [5432]}, app: {links: [db]}}\n"
    on = host_ruleset(lab("hosts: {node1: {daemon: {icc: false}}}\n" + linked), "node1")
    assert on.table("filter").chain("DOCKER").rules == (
        "-s 172.17.0.3/32 -d 172.17.0.2/32 -i docker0 -o docker0 -p tcp -m tcp --dport 5432 -j ACCEPT",
        "-s 172.17.0.2/32 -d 172.17.0.3/32 -i docker0 -o docker0 -p tcp -m tcp --sport 5432 -j ACCEPT")
    assert host_ruleset(lab(linked), "node1").table("filter").chain("DOCKER").rules == ()


def test_a_link_to_a_container_started_later_is_written_when_it_starts():
    # Docker refuses to link to a container not running; a lab file may name it later, and
    # then the rules come from the child's side (ParentEndpoints), as on a child's restart
    later = lab("hosts: {node1: {daemon: {icc: false}}}\n"
                "containers: {app: {links: [db]}, db: {expose: [5432]}}\n")
    assert host_ruleset(later, "node1").table("filter").chain("DOCKER").rules == (
        "-s 172.17.0.2/32 -d 172.17.0.3/32 -i docker0 -o docker0 -p tcp -m tcp --dport 5432 -j ACCEPT",
        "-s 172.17.0.3/32 -d 172.17.0.2/32 -i docker0 -o docker0 -p tcp -m tcp --sport 5432 -j ACCEPT")


def test_lab_rules_heads_each_host_when_there_are_several():
    topo = lab("hosts: {node1: {}, node2: {daemon: {iptables: false}}}\n")
    text = lab_rules(topo)
    assert text.startswith("# host node1\n*filter\n") and text.endswith("# host node2\n")
    assert lab_rules(topo, "node1") == render(host_ruleset(topo, "node1"))
    with pytest.raises(KeyError):
        lab_rules(topo, "node9")


# ---- invariants over random labs --------------------------------------------------------
FLAGS = ("icc", "ip-masq", "ip-forward", "userland-proxy")
NET_OPTS = ("com.docker.network.bridge.enable_icc", "com.docker.network.bridge.enable_ip_masquerade")


@st.composite
def labs(draw):
    daemon = {f: draw(st.booleans()) for f in FLAGS}
    nets = {}
    for i in range(draw(st.integers(0, 3))):
        opts = {o: str(draw(st.booleans())).lower() for o in NET_OPTS if draw(st.booleans())}
        if draw(st.booleans()):
            opts["com.docker.network.host_ipv4"] = "10.10.101.105"
        nets[f"n{i}"] = {"internal": draw(st.booleans()), "driver_opts": opts}
    containers = {}
    port = iter(range(8000, 9000))
    for i in range(draw(st.integers(0, 5))):
        spec = {}
        joined = draw(st.lists(st.sampled_from(["bridge", *nets]), unique=True, max_size=2))
        if joined:
            spec["networks"] = joined
        spec["ports"] = [f"{next(port)}:{draw(st.integers(1, 100))}/{draw(st.sampled_from(['tcp', 'udp']))}"
                         for _ in range(draw(st.integers(0, 3)))]
        earlier = [c for c in containers if "networks" not in containers[c]]
        if earlier and "networks" not in spec and draw(st.booleans()):
            spec["links"] = [draw(st.sampled_from(earlier))]
        containers[f"c{i}"] = spec
    return yaml.safe_dump({"name": "prop", "hosts": {"node1": {"daemon": daemon}},
                           "networks": nets, "containers": containers})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(labs())
def test_every_docker_host_keeps_dockers_invariants(text):
    try:
        topo = load_text(text)
    except TopologyError:
        return
    rs = host_ruleset(topo, "node1")
    assert parse_save(render(rs)) == rs
    filt, nat = rs.table("filter"), rs.table("nat")
    fwd = filt.chain("FORWARD").rules
    assert fwd[:2] == ("-j DOCKER-USER", "-j DOCKER-ISOLATION-STAGE-1")
    drops = [i for i, r in enumerate(fwd) if r.endswith("-j DROP")]
    assert drops == list(range(len(fwd) - len(drops), len(fwd)))        # icc=false DROPs last
    assert filt.chain("DOCKER-USER").rules == ("-j RETURN",)
    for stage in ("DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2"):
        assert filt.chain(stage).rules[-1] == "-j RETURN"
    for chain in filt.chains + nat.chains:
        assert len(set(chain.rules)) == len(chain.rules), chain.name
    dnat = [r for r in nat.chain("DOCKER").rules if "-j DNAT" in r]
    assert len(dnat) == sum(len(c.ports) for c in topo.containers)
    for c in topo.containers:
        for b in c.ports:
            assert sum(f"--dport {b.host_port} -j DNAT" in r and f"-p {b.proto} " in r for r in dnat) == 1
