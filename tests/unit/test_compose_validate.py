"""Compose files told from lab files, checked against the Compose specification's schema;
every problem located at the Compose file's line and key path."""
from __future__ import annotations

import pytest
from compose_files import FILE, errors, load


def test_a_file_with_services_is_read_as_compose():
    lab = load("services:\n  web:\n    image: nginx\n")
    assert lab.project == "demo"        # the directory's name
    assert [c.name for c in lab.topology.containers] == ["demo-web-1"]


def test_a_lab_file_is_read_as_before():
    lab = load("name: demo\ncontainers:\n  a: {}\n")
    assert lab.project is None and lab.lab_text is None and lab.topology.name == "demo"


def test_unknown_service_key_gets_line_path_and_did_you_mean():
    assert errors("services:\n  web:\n    image: nginx\n    portz: ['80:80']\n") == [
        f"{FILE}:4: services.web.portz: unknown key 'portz' under `services.web` (Compose specification); "
        "did you mean 'ports'?"]


def test_unknown_top_level_key_says_where_own_keys_go():
    (msg,) = errors("services:\n  web: {image: nginx}\nlab:\n  x: 1\n")
    assert msg.startswith(f"{FILE}:3: lab: unknown key 'lab' at the top of a Compose file")
    assert "x-netlab" in msg


def test_wrong_types_are_reported_each_at_its_line():
    msgs = errors("services:\n  web:\n    image: nginx\n    expose: {a: 1}\n"
                  "networks:\n  front:\n    internal: [1]\n")
    assert f"{FILE}:4: services.web.expose: expected a list, got a mapping" in msgs
    assert any(m.startswith(f"{FILE}:7: networks.front.internal: expected true or false or a string") for m in msgs)


def test_a_service_name_the_spec_refuses():
    (msg,) = errors("services:\n  'we b':\n    image: nginx\n")
    assert msg.startswith(f"{FILE}:2: services.we b: 'we b' is not a valid name here")


def test_nothing_is_translated_when_the_schema_fails():
    # the undefined network would be reported by the translation: the schema error stops first
    msgs = errors("services:\n  web:\n    image: nginx\n    networks: [nope]\n    bogus: 1\n")
    assert len(msgs) == 1 and "bogus" in msgs[0]


def test_a_file_in_neither_format_gets_one_message():
    assert errors("foo: 1\nbar: [2]\n") == [
        f"{FILE}:1: this is neither a netlab lab file (top-level keys such as name, networks, containers) "
        "nor a Compose file (top-level `services:`)"]
    assert len(errors("- a\n- b\n")) == 1


def test_services_beside_containers_is_named_a_mix():
    msgs = errors("name: t\nservices:\n  a: {image: x}\ncontainers:\n  b: {}\n")
    assert any("this file mixes both" in m and m.startswith(f"{FILE}:4: containers:") for m in msgs)


def test_a_lab_container_with_compose_words_gets_a_hint():
    msgs = errors("name: t\ncontainers:\n  a:\n    image: nginx\n    depends_on: [b]\n  b: {}\n")
    assert any(m.startswith(f"{FILE}:4: containers.a.image: `image`, `depends_on` are Compose service keys")
               for m in msgs)
    assert f"{FILE}:4: containers.a.image: unknown key 'image'; known keys: host, network_mode, networks, " \
           "ports, publish_all, expose, links, command, hostname, domainname, extra_hosts, dns, dns_search, " \
           "dns_options, mac_address, standin" in msgs


def test_a_lab_file_with_compose_top_level_keys_gets_a_hint():
    msgs = errors("name: t\nvolumes:\n  data: {}\ncontainers:\n  a: {}\n")
    assert any(m.startswith(f"{FILE}:2: volumes: `volumes:` is a Compose file's key") for m in msgs)


def test_errors_found_by_netlabs_loader_name_the_compose_line():
    # the lab loader finds the bad subnet; the message points at the Compose key
    text = ("services:\n  web:\n    image: nginx\n    networks: [front]\n"
            "networks:\n  front:\n    ipam:\n      config:\n        - subnet: 10.0.0.1/24\n")
    assert errors(text) == [f"{FILE}:9: networks.front.ipam.config[0].subnet: '10.0.0.1/24' has host bits set; "
                            "the network is 10.0.0.0/24"]


def test_a_bad_port_names_the_compose_line():
    (msg,) = errors("services:\n  web:\n    image: nginx\n    ports:\n      - '80:80'\n      - 'x:80'\n")
    assert msg.startswith(f"{FILE}:6: services.web.ports[1]:")


def test_a_bad_static_address_names_the_service_network():
    text = ("services:\n  web:\n    image: nginx\n    networks:\n      front:\n        ipv4_address: 10.9.0.5\n"
            "networks:\n  front:\n    ipam:\n      config:\n        - subnet: 10.0.0.0/24\n")
    (msg,) = errors(text)
    assert msg == (f"{FILE}:6: services.web.networks.front.ipv4_address: 10.9.0.5 is outside the subnet "
                   "10.0.0.0/24 of 'demo_front'; pick an address inside it")


def test_a_version_1_compose_file_is_named_as_such():
    assert errors("web:\n  image: nginx\n  ports: ['80:80']\nredis:\n  image: redis\n") == [
        f"{FILE}:1: web: this looks like a Compose file of the old version 1 format (services at the top "
        "level); the Compose specification lists them under `services:`, which netlab reads"]


@pytest.mark.parametrize("text,message", [
    ("services:\n  web:\n    image: x\n    ports:\n      - target: 80\n        publised: 8080\n",
     f"{FILE}:6: services.web.ports[0].publised: unknown key 'publised' under `services.web.ports[0]` "
     "(Compose specification); did you mean 'published'?"),
    ("services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: nope}\n  db: {image: y}\n",
     f"{FILE}:5: services.web.depends_on.db.condition: expected one of 'service_started', 'service_healthy', "
     "'service_completed_successfully', got the string 'nope'"),
    ("services:\n  web:\n    image: x\n    networks:\n      a:\n        aliases: x\nnetworks: {a: {}}\n",
     f"{FILE}:6: services.web.networks.a.aliases: expected a list, got the string 'x'"),
    ("services:\n  web:\n    image: x\n    networks: 5\n",
     f"{FILE}:4: services.web.networks: expected a list or a mapping, got the number 5 (Compose specification)"),
])
def test_a_value_of_no_allowed_shape_is_explained_from_inside(text, message):
    assert errors(text) == [message]
