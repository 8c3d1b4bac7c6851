"""Compose projects translated into labs: network and container names, attachments and
aliases, creation order, ports, links, network modes, profiles, x-netlab, and every error
Compose (or dockerd) gives, at the Compose file's line."""
from __future__ import annotations

import pytest
from compose_files import FILE, MACVLAN, NGINX_FLASK_MYSQL, REPLICAS, WORDPRESS_MYSQL, errors, load

from netlab.model import load_text


def endpoints(topo):
    return {c.name: [(a.network, a.aliases) for a in c.attachments] for c in topo.containers}


def test_nginx_flask_mysql():
    lab = load(NGINX_FLASK_MYSQL)
    topo = lab.topology
    assert lab.project == "demo" and topo.name == "demo"
    # depends_on decides the order, and so the addresses: db, then backend, then proxy
    assert [c.name for c in topo.containers] == ["demo-db-1", "demo-backend-1", "demo-proxy-1"]
    assert endpoints(topo) == {
        "demo-db-1": [("demo_backnet", ("demo-db-1", "db"))],
        "demo-backend-1": [("demo_backnet", ("demo-backend-1", "backend")),
                           ("demo_frontnet", ("demo-backend-1", "backend"))],
        "demo-proxy-1": [("demo_frontnet", ("demo-proxy-1", "proxy"))]}
    db = topo.container("demo-db-1")
    assert str(db.attachment("demo_backnet").address) == "172.18.0.2/16"
    assert str(topo.container("demo-backend-1").attachment("demo_backnet").address) == "172.18.0.3/16"
    assert set(db.exposed) == {(3306, "tcp"), (33060, "tcp")}
    assert [(p.host_port, p.container_port) for p in topo.container("demo-proxy-1").ports] == [(80, 80)]
    assert topo.hosts[0].engine.name == "28.5"
    notes = "\n".join(lab.notes)
    assert "services: command (the image's; `x-netlab: {command: ...}` runs a process of your choice in " \
           "the service's namespace) (db)" in notes
    assert "services: image (db)" in notes and "services: build (backend, proxy)" in notes
    assert notes.count("not modelled") == 1          # listed once


def test_wordpress_with_an_internal_backend():
    topo = load(WORDPRESS_MYSQL).topology
    backend = next(s for s in topo.segments if s.network == "wp_backend")
    assert backend.internal and str(backend.subnet) == "172.28.0.0/24"
    assert not next(s for s in topo.segments if s.network == "wp_frontend").internal
    assert endpoints(topo)["wp-db-1"] == [("wp_backend", ("wp-db-1", "db", "mysql"))]
    # the primary network (gateway, ports) is the first by name: backend, which is internal
    wp = topo.container("wp-wordpress-1")
    assert [a.network for a in wp.attachments] == ["wp_backend", "wp_frontend"]


def test_macvlan():
    topo = load(MACVLAN).topology
    lan = next(s for s in topo.segments if s.network == "mvlan_lan")
    assert lan.driver == "macvlan" and lan.device == "eth0"
    pihole = topo.container("mvlan-pihole-1")
    assert pihole.hostname == "pihole"
    assert str(pihole.attachment("mvlan_lan").address) == "10.10.101.50/24"


def test_replicas_sidecar_ports_profiles_links():
    lab = load(REPLICAS)
    topo = lab.topology
    names = [c.name for c in topo.containers]
    assert names == ["shop-api-1", "shop-api-2", "shop-api-3", "shop-monitor-1", "shop-gateway-1",
                     "shop-sidecar-1"]          # by level, then key; debug's profile is not active
    assert [str(topo.container(f"shop-api-{i}").attachment("shop_default").address) for i in (1, 2, 3)] == \
        ["172.18.0.2/16", "172.18.0.3/16", "172.18.0.4/16"]
    sidecar = topo.container("shop-sidecar-1")
    assert sidecar.mode == "container" and sidecar.shares == "shop-api-1"
    assert topo.container("shop-monitor-1").mode == "host"
    gw = topo.container("shop-gateway-1")
    assert sorted((str(p.host_ip), p.host_port, p.container_port, p.proto) for p in gw.ports)[:2] == [
        ("0.0.0.0", 5353, 53, "udp"), ("0.0.0.0", 32768, 9000, "tcp")]
    assert ("127.0.0.1", 8080, 80, "tcp") in [(str(p.host_ip), p.host_port, p.container_port, p.proto)
                                              for p in gw.ports]
    # compose getLinks: each container of the linked service under the alias, api-<n>, shop-api-<n>
    assert [(link.name, link.alias) for link in gw.links][:3] == [
        ("shop-api-1", "backend"), ("shop-api-1", "api-1"), ("shop-api-1", "shop-api-1")]
    assert len(gw.links) == 9
    assert any("services.monitor.ports: published ports are discarded when using host network mode" in n
               for n in lab.notes)


def test_active_profiles_bring_their_services():
    names = [c.name for c in load(REPLICAS, profiles=("debug",)).topology.containers]
    assert "shop-debug-1" in names
    names = [c.name for c in load(REPLICAS, env={"COMPOSE_PROFILES": "x,debug"}).topology.containers]
    assert "shop-debug-1" in names


def test_container_name_network_name_and_scale():
    text = ("name: p\nservices:\n  a:\n    image: x\n    container_name: alpha\n    networks: [n]\n"
            "  b:\n    image: x\n    scale: 2\n    networks: [n]\n"
            "networks:\n  n:\n    name: shared-net\n")
    topo = load(text).topology
    assert [c.name for c in topo.containers] == ["alpha", "p-b-1", "p-b-2"]
    assert endpoints(topo)["alpha"] == [("shared-net", ("alpha", "a"))]


def test_eth_order_follows_the_docker_network_names():
    # as dockerd 28.5 numbered them under docker compose 2.40 (tests/fixtures/compose/recorded,
    # 11-ipam-named): eth0 on `11x_edge`, eth1 on `corp-backbone`, whatever Compose's primary
    text = ("name: 11x\nservices:\n  a:\n    image: x\n    networks:\n      backbone: {priority: 10}\n      edge: {}\n"
            "networks:\n  backbone: {name: corp-backbone}\n  edge: {}\n")
    (a,) = load(text).topology.containers
    assert [(x.network, x.ifname) for x in a.attachments] == [("11x_edge", "eth0"), ("corp-backbone", "eth1")]
    assert a.gateway_network == "11x_edge"


def test_the_lab_text_reads_back_into_the_same_topology():
    for text in (NGINX_FLASK_MYSQL, WORDPRESS_MYSQL, MACVLAN, REPLICAS):
        lab = load(text)
        again = load_text(lab.lab_text, FILE)
        assert again.containers == lab.topology.containers
        assert again.segments == lab.topology.segments


def test_a_long_project_name_gets_a_short_kernel_prefix():
    lab = load("services:\n  web:\n    image: nginx\n", project="c-compose-demo")
    assert lab.project == "c-compose-demo"
    prefix = lab.topology.name
    assert len(prefix) <= 8 and prefix != "c-compose-demo"
    web = lab.topology.container("c-compose-demo-web-1")
    assert web.netns == f"{prefix}-c-compose-demo-web-1"
    assert [a.network for a in web.attachments] == ["c-compose-demo_default"]


def test_x_netlab_settings():
    text = ("name: p\nservices:\n  a:\n    image: x\n    x-netlab: {host: node2, command: [sleep, '60']}\n"
            "  b:\n    image: x\n    x-netlab: {host: node1}\n"
            "x-netlab:\n  engine: '20.10'\n  hosts:\n    node1: {}\n    node2: {}\n"
            "  expect:\n    - {from: b, to: a, ok: true}\n")
    topo = load(text).topology
    a = topo.container("p-a-1")
    assert a.host == "node2" and a.command == "sleep 60"
    assert topo.hosts[0].engine.name == "20.10"
    assert [(e.source, e.target) for e in topo.expect] == [("p-b-1", "p-a-1")]


ERRORS = [
    ("services:\n  a:\n    image: x\n    depends_on: [ghost]\n",
     f"{FILE}:4: services.a.depends_on[0]: service 'a' depends on undefined service 'ghost'"),
    ("services:\n  a:\n    image: x\n    depends_on:\n      ghost: {condition: service_started}\n",
     f"{FILE}:5: services.a.depends_on.ghost: service 'a' depends on undefined service 'ghost'"),
    ("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n",
     f"{FILE}:2: services.a: dependency cycle between services: a, b"),
    ("services:\n  a:\n    image: x\n    network_mode: 'service:ghost'\n",
     f"{FILE}:4: services.a.network_mode: service 'ghost' not found for network_mode 'service:ghost'"),
    ("services:\n  a:\n    image: x\n    network_mode: host\n    networks: [n]\nnetworks:\n  n: {}\n",
     f"{FILE}:4: services.a.network_mode: service 'a' declares mutually exclusive `network_mode` and "
     "`networks` (Compose refuses it)"),
    ("services:\n  a:\n    image: x\n    networks: [nope]\n",
     f"{FILE}:4: services.a.networks: service 'a' refers to undefined network 'nope'"),
    ("services:\n  a:\n    image: x\nnetworks:\n  default:\n    external: true\n",
     f"{FILE}:6: networks.default.external: network 'default' is external: Compose expects the Docker network "
     "'default' to exist already (`docker network create default`, or another project). netlab builds one project "
     "at a time and makes every network of it itself, so there is none to join. Declare the network in this file "
     "(remove `external: true`; keep `name:` for the same Docker name), or remove it and its services' references "
     "to it."),
    ("services:\n  a:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n",
     f"{FILE}:4: services.a.scale: can't set distinct values on 'scale' and 'deploy.replicas' (Compose refuses it)"),
    ("services:\n  a:\n    image: x\n    scale: 2\n    container_name: one\n",
     f"{FILE}:5: services.a.container_name: can't set container_name and 2 replicas, as a container name "
     "must be unique (Compose refuses it)"),
    ("services:\n  a:\n    image: x\n  b:\n    image: x\n    network_mode: 'service:a'\n    expose: [80]\n",
     f"{FILE}:7: services.b.expose: conflicting options: port exposing and the network mode 'service:a' "
     "(Docker refuses it)"),
    ("services:\n  a:\n    image: x\n    network_mode: 'weird'\n",
     f"{FILE}:4: services.a.network_mode: 'weird' is not a network mode; use bridge, host, none, "
     "service:<name> or container:<name> (networks go under `networks:`)"),
    ("services:\n  a:\n    image: x\n    links: [ghost]\n",
     f"{FILE}:4: services.a.links[0]: service 'a' links to undefined service 'ghost'"),
    ("services:\n  a:\n    image: x\nnetworks:\n  default:\n    driver: weave\n",
     f"{FILE}:6: networks.default.driver: driver 'weave': netlab models the drivers bridge, macvlan, overlay"),
    ("services:\n  a:\n    image: x\nx-netlab:\n  engines: '28.5'\n",
     f"{FILE}:5: x-netlab.engines: unknown x-netlab key 'engines'; known: engine, hosts, outside, underlay, expect, "
     "placement"),
    ("services:\n  a:\n    image: x\n    profiles: [debug]\n  b:\n    image: x\n    depends_on: [a]\n",
     f"{FILE}:7: services.b.depends_on[0]: service 'b' depends on undefined service 'a' (its profiles are not "
     "active)"),
]


@pytest.mark.parametrize("text,message", ERRORS)
def test_errors_where_compose_errors(text, message):
    assert message in errors(text)


def test_the_same_container_name_twice_is_refused():
    text = "services:\n  a:\n    image: x\n    container_name: same\n  b:\n    image: x\n    container_name: same\n"
    assert errors(text) == [f"{FILE}:7: services.b.container_name: container name 'same' is already taken by "
                            "service 'a' (Docker refuses a second container of that name)"]


def test_a_dual_stack_network():
    text = ("name: v6\nservices:\n  a:\n    image: x\n    networks:\n      n:\n        ipv6_address: 2001:db8:5::9\n"
            "  b:\n    image: x\n    networks: [n]\n"
            "networks:\n  n:\n    enable_ipv6: true\n    ipam:\n      config:\n"
            "        - subnet: 172.29.0.0/24\n        - subnet: 2001:db8:5::/64\n")
    topo = load(text).topology
    seg = next(s for s in topo.segments if s.network == "v6_n")
    assert str(seg.subnet) == "172.29.0.0/24" and str(seg.subnet6) == "2001:db8:5::/64"
    assert str(topo.container("v6-a-1").attachments[0].address6) == "2001:db8:5::9/64"
    assert topo.container("v6-b-1").attachments[0].address6 is not None


def test_an_empty_networks_section_means_the_default_network():
    for empty in ("[]", "{}"):
        topo = load(f"name: p\nservices:\n  a:\n    image: x\n    networks: {empty}\n").topology
        assert [a.network for a in topo.containers[0].attachments] == ["p_default"]


def test_a_dependency_on_a_disabled_service_that_is_not_required_is_skipped():
    text = ("name: p\nservices:\n  a:\n    image: x\n    profiles: [debug]\n"
            "  b:\n    image: x\n    depends_on:\n      a: {condition: service_started, required: false}\n")
    assert [c.name for c in load(text).topology.containers] == ["p-b-1"]


def test_placement_of_services_on_hosts():
    text = ("name: p\nservices:\n  a:\n    image: x\n  b:\n    image: x\n    scale: 2\n"
            "x-netlab:\n  hosts: {node1: {}, node2: {}}\n  placement: {a: node1, b: node2}\n")
    topo = load(text).topology
    assert [(c.name, c.host) for c in topo.containers] == [("p-a-1", "node1"), ("p-b-1", "node2"), ("p-b-2", "node2")]
    bad = errors(text.replace("{a: node1, b: node2}", "{a: node1, bb: node2}"))
    assert f"{FILE}:10: x-netlab.placement.bb: unknown service 'bb'; did you mean 'b'?" in bad
    missing = errors(text.replace(", b: node2}", "}"))
    assert any(m.startswith(f"{FILE}:5: services.b: which host? this lab has 2") for m in missing)


def test_networks_take_free_subnets_in_the_order_of_their_docker_names():
    text = ("name: p\nservices:\n  a:\n    image: x\n    networks: [zz, aa]\n"
            "networks:\n  zz: {name: alpha}\n  aa: {}\n")
    subnets = {s.network: str(s.subnet) for s in load(text).topology.segments if s.network != "bridge"}
    assert subnets == {"alpha": "172.18.0.0/16", "p_aa": "172.19.0.0/16"}


def test_ports_under_network_mode_none_are_noted_not_refused():
    # Docker 28.5 and Compose 2.40 take them without a word and bind nothing (measured)
    lab = load("services:\n  a:\n    image: x\n    network_mode: none\n    ports: ['8080:80']\n")
    assert lab.topology.container(f"{lab.project}-a-1").ports == ()
    assert any("services.a.ports: published ports of a network_mode none container are bound nowhere" in n
               for n in lab.notes)
