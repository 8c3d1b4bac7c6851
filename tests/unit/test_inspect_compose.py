"""`netlab inspect` of a Compose lab as Docker 28.5 showed the same files in
tests/fixtures/compose/recorded: Compose's labels, the primary network as NetworkMode though it
is not eth0, ExposedPorts as written, links per endpoint, container:<id>, IPAMConfig for asked
addresses, the IPAM config as asked, Ports only from a bridge gateway endpoint. No root."""
from __future__ import annotations

from compose_facts import FIXTURES

from netlab.compose import load_path
from netlab.model.inspect import container, network


def inspected(stem: str, project: str) -> tuple:
    topo = load_path(str(FIXTURES / f"{stem}.yml"), project=project).topology
    return topo, {c.name: container(topo, c) for c in topo.containers}


def test_labels_primary_network_and_expose_as_written():
    topo, ctrs = inspected("11-ipam-named", "11-ipam-named")
    router = ctrs["11-ipam-named-router-1"]
    assert router["Config"]["Labels"]["com.docker.compose.service"] == "router"
    assert router["Config"]["Labels"]["com.docker.compose.container-number"] == "1"
    # primary by Compose key (backbone), eth0 by Docker name (11-ipam-named_edge)
    assert router["HostConfig"]["NetworkMode"] == "corp-backbone"
    assert topo.container("11-ipam-named-router-1").attachments[0].network == "11-ipam-named_edge"
    assert router["NetworkSettings"]["Networks"]["corp-backbone"]["IPAMConfig"] == {"IPv4Address": "10.42.0.10"}
    assert list(ctrs["11-ipam-named-nas-1"]["Config"]["ExposedPorts"]) == ["443"]
    backbone = network(topo, topo.segment("corp-backbone", "node1"))
    assert backbone["IPAM"]["Config"][0]["AuxiliaryAddresses"] == {"printer": "10.42.5.2", "switch": "10.42.5.1"}
    assert network(topo, topo.segment("11-ipam-named_edge", "node1"))["Attachable"] is True


def test_ports_come_from_a_bridge_gateway_endpoint_only():
    _, ctrs = inspected("03-macvlan", "03-macvlan")
    assert ctrs["03-macvlan-pihole-1"]["NetworkSettings"]["Ports"] == {}          # macvlan's default route
    assert ctrs["03-macvlan-recorder-1"]["NetworkSettings"]["Ports"] == {"5432/tcp": None}
    _, ctrs = inspected("02-wordpress-mysql", "blog")
    assert ctrs["blog-db-1"]["NetworkSettings"]["Ports"] == {}                    # internal only


def test_shared_namespace_and_host_mode_as_compose_hands_them_over():
    topo, ctrs = inspected("05-network-modes", "05-network-modes")
    owner = topo.container("shop-app")
    sidecar = ctrs["05-network-modes-sidecar-1"]
    assert sidecar["HostConfig"]["NetworkMode"] == f"container:{owner.id}"
    assert sidecar["Config"]["Hostname"] == owner.hostname == owner.id[:12]
    # published ports under host mode are exposed, and bound nowhere
    exporter = ctrs["05-network-modes-exporter-1"]
    assert list(exporter["Config"]["ExposedPorts"]) == ["9100/tcp"] and exporter["NetworkSettings"]["Ports"] == {}


def test_links_sit_on_each_endpoint_not_in_host_config():
    _, ctrs = inspected("06-names", "06-names")
    api = ctrs["06-names-api-1"]
    assert api["HostConfig"]["Links"] is None
    assert "directory:auth" in api["NetworkSettings"]["Networks"]["06-names_backend"]["Links"]


def test_a_subnet_given_without_a_gateway_shows_none():
    topo, _ = inspected("10-dual-stack", "10-dual-stack")
    public = network(topo, topo.segment("10-dual-stack_public", "node1"))
    assert public["IPAM"]["Config"] == [{"Subnet": "172.28.0.0/24"}, {"Subnet": "fd00:db8:1::/64"}]
    services = network(topo, topo.segment("10-dual-stack_services", "node1"))
    assert all("Gateway" in cfg for cfg in services["IPAM"]["Config"])
