"""Compose's container settings in a lab: extra_hosts, dns, dns_search, dns_opt, domainname,
mac_address (service-wide and per network), ipam aux_addresses, external_links and the
stand-in flag, held against what real Compose 2.40 on Docker 28.5 built from the fixtures
(tests/fixtures/compose/recorded: 06-names, 03-macvlan, 11-ipam-named)."""
from __future__ import annotations

from compose_facts import FIXTURES, runs, symbolic
from compose_files import errors, load

from netlab.compose.load import load_path
from netlab.plan import etc

MACHINES = "host(<the machine's>)"      # the record's blanked host nameserver


def fixture(stem: str):
    return load_path(str(FIXTURES / f"{stem}.yml"), project=stem)


def netlab_symbols(topo, networks: dict[str, str]) -> dict[str, str]:
    """netlab's engine-chosen values named as the records name them: `<ipv4:C@KEY>` for a
    container's address on the network of Compose key KEY, `<cid:C>` for its short ID."""
    out = {c.short_id: f"<cid:{c.name}>" for c in topo.containers}
    for c in topo.containers:
        for a in c.attachments:
            out[str(a.address.ip)] = f"<ipv4:{c.name}@{networks[a.network]}>"
    return out


def named(text: str, table: dict[str, str]) -> str:
    for value in sorted(table, key=len, reverse=True):
        text = text.replace(value, table[value])
    return text


def test_hosts_and_resolv_conf_of_06_names_are_the_records():
    recorded = symbolic(runs("06-names")[0])["containers"]
    topo = fixture("06-names").topology
    table = netlab_symbols(topo, {"06-names_backend": "backend", "06-names_frontend": "frontend"})
    table["host(203.0.113.53)"] = MACHINES
    for c in topo.containers:
        assert named(etc.container_hosts(topo, c), table) == recorded[c.name]["hosts"] + "\n", c.name
        assert named(etc.container_resolv(topo, c), table) == recorded[c.name]["resolv_conf"] + "\n", c.name
    # what the comparison rests on: the records' own text, not only its symbols
    assert "192.0.2.10\tmetrics.example\n198.51.100.7\tlegacy-db\n" in recorded["06-names-api-1"]["hosts"]
    assert recorded["directory"]["hosts"].endswith("\tldap.corp.example ldap")


def test_the_macs_the_files_give_are_the_records():
    api = fixture("06-names").topology.container("06-names-api-1")
    record = runs("06-names")[0]["containers"]["06-names-api-1"]["endpoints"]
    assert api.attachment("06-names_frontend").mac == record["frontend"]["mac"] == "02:42:ac:1e:00:99"
    # the service-wide MAC goes on the main network: pihole's only one
    pihole = fixture("03-macvlan").topology.container("03-macvlan-pihole-1")
    assert pihole.attachment("03-macvlan_lan").mac == \
        runs("03-macvlan")[0]["containers"]["03-macvlan-pihole-1"]["endpoints"]["lan"]["mac"] == "02:42:c0:a8:32:0a"


def test_aux_addresses_of_11_keep_the_ip_range_from_handing_them_out():
    topo = fixture("11-ipam-named").topology
    seg = next(s for s in topo.segments if s.network == "corp-backbone")
    recorded = runs("11-ipam-named")[0]["networks"]["backbone"]["ipam"][0]["auxiliaryaddresses"]
    assert {n: str(a) for n, a in seg.aux_addresses} == recorded == {"switch": "10.42.5.1", "printer": "10.42.5.2"}
    handed = {str(c.attachment("corp-backbone").address.ip) for c in topo.containers
              if c.name != "11-ipam-named-router-1"}
    assert handed == {r["containers"][n]["endpoints"]["backbone"]["ipv4"]
                      for r in runs("11-ipam-named")[:1] for n in ("11-ipam-named-nas-1", "11-ipam-named-printer-gw-1")}
    assert handed == {"10.42.5.0", "10.42.5.3"}


def test_domainname_dns_and_extra_hosts_reach_the_containers():
    topo = fixture("06-names").topology
    assert topo.container("directory").domainname == "corp.example"
    api = topo.container("06-names-api-1")
    assert api.extra_hosts == (("metrics.example", "192.0.2.10"), ("legacy-db", "198.51.100.7"))
    assert (api.dns, api.dns_search) == (("192.0.2.53",), ("corp.example",))


SETTINGS = """\
services:
  db:
    image: postgres
    container_name: pg
    dns: 192.0.2.53
    dns_opt: ["ndots:2"]
    extra_hosts: {"mirror.example": "198.51.100.9"}
  web:
    image: nginx
    mac_address: "02:42:ac:1e:00:10"
    external_links: ["pg:database", "pg"]
    networks: {back: {priority: 10}, front: {}}
    x-netlab: {command: "sleep 1000"}
networks: {back: {}, front: {}}
"""


def test_strings_lists_and_mappings_translate():
    lab = load(SETTINGS)
    db = lab.topology.container("pg")
    assert (db.dns, db.dns_options, db.extra_hosts) == (("192.0.2.53",), ("ndots:2",),
                                                        (("mirror.example", "198.51.100.9"),))
    assert not any("not yet" in n or "extra_hosts" in n or "dns" in n for n in lab.notes), lab.notes


def test_stand_ins_for_every_service_without_its_own_command():
    topo = load(SETTINGS).topology
    assert topo.container("pg").standin is True
    assert topo.container("demo-web-1").standin is False


def test_the_service_mac_goes_on_the_main_network_by_priority():
    web = load(SETTINGS).topology.container("demo-web-1")
    assert web.attachment("demo_back").mac == "02:42:ac:1e:00:10"
    assert web.attachment("demo_front").mac != "02:42:ac:1e:00:10"


def test_external_links_to_this_labs_containers_become_links():
    web = load(SETTINGS).topology.container("demo-web-1")
    assert [(lk.name, lk.alias) for lk in web.links] == [("pg", "database"), ("pg", "pg")]


def test_an_external_link_outside_the_lab_is_refused():
    text = "services:\n  web:\n    image: nginx\n    external_links: [\"ci-cache:cache\"]\n"
    assert errors(text) == ["/srv/demo/compose.yaml:4: services.web.external_links[0]: external link to container "
                            "'ci-cache': netlab can only link containers of this lab (the containers of its "
                            "services: demo-web-1)"]


def test_a_service_mac_unlike_its_main_networks_is_refused_as_compose_does():
    text = "services:\n  web:\n    image: nginx\n    mac_address: \"02:00:00:00:00:01\"\n" \
           "    networks: {a: {mac_address: \"02:00:00:00:00:02\"}}\nnetworks: {a: {}}\n"
    assert "/srv/demo/compose.yaml:4: services.web.mac_address: the service-level mac_address should have the " \
           "same value as network a (Compose refuses it)" in errors(text)


def test_errors_point_at_the_compose_lines():
    text = "services:\n  web:\n    image: nginx\n    extra_hosts: [\"bad:1.2.3\"]\n    dns: [nope]\n" \
           "networks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.9.0.0/24\n" \
           "          aux_addresses: {sw: 10.8.0.1}\n"
    msgs = errors(text.replace("    dns:", "    networks: [n]\n    dns:"))
    assert any(m.startswith("/srv/demo/compose.yaml:4: services.web.extra_hosts[0]: invalid IP address") for m in msgs)
    assert any(m.startswith("/srv/demo/compose.yaml:6: services.web.dns[0]: 'nope' is not") for m in msgs)
    assert any(m.startswith("/srv/demo/compose.yaml:12: networks.n.ipam.config[0].aux_addresses.sw: auxiliary "
                            "address (sw:10.8.0.1) must belong to the subnet 10.9.0.0/24") for m in msgs), msgs
