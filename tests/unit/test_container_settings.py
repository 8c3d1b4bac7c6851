"""A container's name and resolver settings in a lab file: `domainname`, `extra_hosts`, `dns`,
`dns_search`, `dns_options`, `mac_address` (container-wide and per network), `standin`, and a
network's `ipam.config[].aux_addresses`: what each fills in the Topology, what the plan
writes from it (/etc/hosts, resolv.conf, the embedded DNS's upstreams, the veth's MAC), and
each refusal at its line and key path."""
from __future__ import annotations

import pytest

from netlab.errors import TopologyError
from netlab.model import load_text
from netlab.model.inspect import container as inspect_container
from netlab.model.inspect import network as inspect_network
from netlab.plan import dns, etc
from netlab.plan.items import Veth
from netlab.plan.planner import build_plan

LAB = """\
name: cs
engine: "{engine}"
networks:
  back:
    ipam:
      config:
        - subnet: 10.42.0.0/16
          ip_range: 10.42.5.0/24
          gateway: 10.42.0.254
          aux_addresses: {{switch: 10.42.5.1, printer: 10.42.5.2}}
  front: {{}}
containers:
  ldap:
    hostname: ldap
    domainname: corp.example
    networks: [back]
  api:
    hostname: api01
    extra_hosts: ["metrics.example:192.0.2.10", "legacy-db=198.51.100.7", "v6:[2001:DB8::7]"]
    dns: [192.0.2.53]
    dns_search: [corp.example]
    mac_address: "02:42:AC:1E:00:98"
    standin: true
    networks:
      back: {{}}
      front: {{mac_address: "02-42-ac-1e-00-99"}}
  plain: {{}}
"""


def lab(engine: str = "28.5"):
    return load_text(LAB.format(engine=engine), "cs.yaml")


def errors(text: str, engine: str | None = None) -> list[str]:
    with pytest.raises(TopologyError) as e:
        load_text(text, "bad.yaml", engine=engine)
    return [str(d) for d in e.value.diagnostics]


def one_container(settings: str, extra: str = "", engine: str = "28.5") -> str:
    return f"name: t\nengine: \"{engine}\"\n{extra}containers:\n  c:\n" + \
        "".join(f"    {line}\n" for line in settings.splitlines())


# -- what the model carries ----------------------------------------------------------------

def test_the_settings_fill_the_container():
    api = lab().container("api")
    assert api.extra_hosts == (("metrics.example", "192.0.2.10"), ("legacy-db", "198.51.100.7"),
                               ("v6", "2001:db8::7"))
    assert (api.dns, api.dns_search, api.dns_options) == (("192.0.2.53",), ("corp.example",), ())
    assert api.standin is True and lab().container("ldap").standin is False
    assert lab().container("ldap").domainname == "corp.example" and api.domainname == ""


def test_the_container_wide_mac_goes_on_the_first_network_and_each_endpoint_keeps_its_own():
    macs = {a.network: a.mac for a in lab().container("api").attachments}
    assert macs == {"back": "02:42:ac:1e:00:98", "front": "02:42:ac:1e:00:99"}
    plan = build_plan(lab())
    peers = {v.peer_name: v.peer_mac for v in plan.of(Veth) if v.peer_netns == "cs-api"}
    assert peers == {"eth0": "02:42:ac:1e:00:98", "eth1": "02:42:ac:1e:00:99"}
    nets = inspect_container(lab(), lab().container("api"))["NetworkSettings"]["Networks"]
    assert nets["front"]["MacAddress"] == "02:42:ac:1e:00:99"


def test_aux_addresses_are_never_handed_out():
    """Record 11: ip_range 10.42.5.0/24 with .1 and .2 reserved hands out .0, then .3."""
    topo = lab()
    assert [str(c.attachment("back").address.ip) for c in (topo.container("ldap"), topo.container("api"))] == \
        ["10.42.5.0", "10.42.5.3"]
    seg = topo.segment("back", "node1")
    assert inspect_network(topo, seg)["IPAM"]["Config"][0]["AuxiliaryAddresses"] == \
        {"switch": "10.42.5.1", "printer": "10.42.5.2"}


def test_ipv6_aux_addresses_are_reserved_too():
    topo = load_text("name: t\nengine: \"28.5\"\nnetworks:\n  n:\n    enable_ipv6: true\n    ipam:\n"
                     "      config:\n        - subnet: \"2001:db8:5::/64\"\n"
                     "          aux_addresses: {r: \"2001:db8:5::2\"}\n"
                     "containers:\n  c: {networks: [n]}\n")
    assert str(topo.container("c").attachment("n").address6.ip) == "2001:db8:5::3"


def test_host_gateway_is_docker0s_gateway_and_from_28_its_ipv6_one_too():
    text = one_container("extra_hosts: {host.docker.internal: host-gateway}",
                         extra="hosts:\n  node1: {daemon: {ipv6: true, fixed-cidr-v6: \"2001:db8:9::/64\"}}\n")
    assert load_text(text).container("c").extra_hosts == (("host.docker.internal", "172.17.0.1"),
                                                          ("host.docker.internal", "2001:db8:9::1"))
    old = load_text(text.replace('"28.5"', '"26.1"'))
    assert old.container("c").extra_hosts == (("host.docker.internal", "172.17.0.1"),)


# -- what the plan writes -------------------------------------------------------------------

def test_hosts_has_the_extra_hosts_after_the_header_and_the_fqdn_on_the_own_lines():
    topo = lab()
    api = etc.container_hosts(topo, topo.container("api"))
    assert api.endswith("ff02::2\tip6-allrouters\n192.0.2.10\tmetrics.example\n198.51.100.7\tlegacy-db\n"
                        "2001:db8::7\tv6\n10.42.5.3\tapi01\n172.18.0.2\tapi01\n")
    assert etc.container_hosts(topo, topo.container("ldap")).endswith("\n10.42.5.0\tldap.corp.example ldap\n")


def test_extra_hosts_come_before_links_on_the_default_bridge():
    topo = load_text("name: t\ncontainers:\n  db: {}\n  web:\n    links: [db]\n"
                     "    extra_hosts: [\"x:192.0.2.1\"]\n")
    lines = etc.container_hosts(topo, topo.container("web")).splitlines()
    assert lines[6:] == ["192.0.2.1\tx", "172.17.0.2\tdb " + topo.container("db").hostname,
                         "172.17.0.3\t" + topo.container("web").hostname]


def test_resolv_conf_takes_the_containers_own_servers_search_and_options():
    topo = lab()
    assert etc.container_resolv(topo, topo.container("api")).endswith(
        "nameserver 127.0.0.11\nsearch corp.example\noptions ndots:0\n\n"
        "# Based on host file: '/etc/resolv.conf' (internal resolver)\n"
        "# ExtServers: [192.0.2.53]\n# Overrides: [nameservers search]\n# Option ndots from: internal\n")
    opts = load_text(one_container("dns_options: [\"ndots:3\", edns0]\nnetworks: [n]", extra="networks: {n: }\n"))
    text = etc.container_resolv(opts, opts.container("c"))
    assert "options ndots:3 edns0\n" in text and "# Overrides: [options]\n# Option ndots from: override\n" in text


def test_the_containers_own_dns_replaces_the_daemons_on_the_default_bridge():
    topo = load_text(one_container("dns: [\"192.0.2.53\"]", extra="hosts:\n  node1: {daemon: {dns: [198.51.100.1]}}\n"),
                     engine="20.10")
    assert etc.container_resolv(topo, topo.container("c")) == "nameserver 192.0.2.53\n"


def test_unknown_names_go_to_the_containers_own_dns_servers_from_its_namespace():
    topo = lab()
    assert dns.upstreams(topo, topo.container("api")) == (("192.0.2.53", "cs-api"),)
    assert dns.upstreams(topo, topo.container("ldap")) == (("203.0.113.53", "cs-node1"),)
    ndots = load_text(one_container("dns_options: [\"ndots:2\"]\nnetworks: [n]", extra="networks: {n: }\n"))
    assert dns.resolver(ndots, ndots.container("c")).ndots_set is True


def test_a_lab_without_the_keys_plans_as_before():
    """No key, no change: the own line is the bare hostname, resolv.conf the daemon's."""
    topo = lab()
    plain = topo.container("plain")
    assert etc.container_hosts(topo, plain).endswith(f"\n172.17.0.2\t{plain.hostname}\n")
    assert plain.extra_hosts == () and plain.dns == () and plain.standin is False


# -- refusals -----------------------------------------------------------------------------

@pytest.mark.parametrize("settings,message", [
    ("extra_hosts: [nocolon]", "containers.c.extra_hosts[0]: 'nocolon' is not NAME:ADDRESS"),
    ("extra_hosts: [\"h:1.2.3\"]", "containers.c.extra_hosts[0]: invalid IP address in extra host 'h'"),
    ("extra_hosts: [\":1.2.3.4\"]", "containers.c.extra_hosts[0]: the name before the address is empty"),
    ("extra_hosts: {h: nope}", "containers.c.extra_hosts.h: invalid IP address in extra host 'h'"),
    ("dns: [bad]", "containers.c.dns[0]: 'bad' is not an IPv4 or IPv6 address"),
    ("dns_search: [\"-x.example\"]", "containers.c.dns_search[0]: '-x.example' is not a valid search domain"),
    ("dns_options: [\"a b\"]", "containers.c.dns_options[0]: 'a b' is not a resolver option"),
    ("mac_address: \"01:00:5e:00:00:01\"", "containers.c.mac_address: '01:00:5e:00:00:01' is a multicast MAC"),
    ("mac_address: \"00:00:00:00:00:00\"", "containers.c.mac_address: '00:00:00:00:00:00' is the all-zero"),
    ("mac_address: \"02:42:ac:11:00\"", "containers.c.mac_address: '02:42:ac:11:00' is not a MAC address"),
    ("mac_address: \"02:42\"\nnetwork_mode: host", "containers.c.mac_address: conflicting options: mac-address"),
    ("dns: [192.0.2.1]\nnetwork_mode: host", "containers.c.dns: netlab does not model this for `network_mode: host`"),
    ("standin: 1", "containers.c.standin: expected true or false"),
])
def test_bad_settings_are_refused_at_their_key(settings, message):
    assert any(m.startswith("bad.yaml:") and message in m for m in errors(one_container(settings))), \
        errors(one_container(settings))


def test_a_shared_namespace_refuses_dns_extra_hosts_and_mac_as_docker_does():
    text = "name: t\ncontainers:\n  a: {}\n  b:\n    network_mode: \"container:a\"\n    dns: [192.0.2.1]\n" \
           "    extra_hosts: [\"x:192.0.2.2\"]\n    mac_address: \"02:00:00:00:00:01\"\n"
    msgs = errors(text)
    assert "bad.yaml:6: containers.b.dns: conflicting options: dns and the network mode" in " ".join(msgs)
    assert any("containers.b.extra_hosts: conflicting options: custom host-to-IP mapping" in m for m in msgs)
    assert any("containers.b.mac_address: conflicting options: mac-address" in m for m in msgs)


def test_mac_refusals_between_endpoints():
    text = "name: t\nengine: \"28.5\"\nnetworks: {n: }\ncontainers:\n  a:\n    mac_address: \"02:00:00:00:00:02\"\n" \
           "    networks: {n: {mac_address: \"02:00:00:00:00:03\"}}\n" \
           "  b:\n    networks: {n: {mac_address: \"02:00:00:00:00:03\"}}\n"
    msgs = errors(text)
    assert "bad.yaml:6: containers.a.mac_address: the container-wide MAC address must match the endpoint-specific " \
           "MAC address for the main network 'n' (02:00:00:00:00:03), or be left empty (Docker refuses it)" in msgs
    assert "bad.yaml:9: containers.b.networks.n.mac_address: MAC address 02:00:00:00:00:03 is already taken by " \
           "'a' on network 'n'; give each endpoint its own" in msgs


def test_a_mac_per_network_needs_docker_25():
    text = "name: t\nnetworks: {n: }\ncontainers:\n  a: {networks: {n: {mac_address: \"02:00:00:00:00:03\"}}}\n"
    assert any("containers.a.networks.n.mac_address: a MAC address per network needs Docker 25.0" in m
               for m in errors(text, engine="20.10"))
    assert load_text(text, engine="26.1").container("a").attachment("n").mac == "02:00:00:00:00:03"


@pytest.mark.parametrize("aux,message", [
    ("{a: 10.43.0.1}", "aux_addresses.a: auxiliary address (a:10.43.0.1) must belong to the subnet 10.42.0.0/24"),
    ("{b: 10.42.0.1}", "aux_addresses.b: auxiliary address (b:10.42.0.1) is the network's gateway 10.42.0.1"),
    ("{c: 10.42.0.0}", "aux_addresses.c: auxiliary address (c:10.42.0.0) is the subnet's network address"),
    ("{d: 10.42.0.255}", "aux_addresses.d: auxiliary address (d:10.42.0.255) is the subnet's broadcast address"),
    ("{e: 10.42.0.9, f: 10.42.0.9}", "aux_addresses.f: auxiliary address (f:10.42.0.9) is already aux address 'e'"),
    ("{g: nope}", "aux_addresses.g: non parsable secondary ip address (g:nope)"),
])
def test_bad_aux_addresses_are_refused(aux, message):
    text = f"name: t\nnetworks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.42.0.0/24\n" \
           f"          aux_addresses: {aux}\n"
    assert any(m.startswith("bad.yaml:7: networks.n.ipam.config[0].") and message in m for m in errors(text)), \
        errors(text)


def test_a_fixed_address_on_an_aux_address_is_refused():
    text = "name: t\nnetworks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.42.0.0/24\n" \
           "          aux_addresses: {sw: 10.42.0.9}\ncontainers:\n  a: {networks: {n: {ipv4_address: 10.42.0.9}}}\n"
    assert "bad.yaml:9: containers.a.networks.n.ipv4_address: 10.42.0.9 is already used by aux address 'sw' on " \
           "'n'; pick another" in errors(text)


def test_addresses_and_macs_are_kept_as_dockerd_prints_them():
    c = load_text(one_container("extra_hosts: [\"m:[::FFFF:192.0.2.9]\", \"u=2001:DB8:0::1\"]\n"
                                "dns: [\"2001:DB8::53\"]\nmac_address: \"0242.AC11.0099\"")).container("c")
    assert c.extra_hosts == (("m", "::ffff:192.0.2.9"), ("u", "2001:db8::1"))
    assert c.dns == ("2001:db8::53",) and c.attachment("bridge").mac == "02:42:ac:11:00:99"


@pytest.mark.parametrize("key", ["hostname", "domainname"])
def test_a_uts_name_over_64_bytes_is_refused_at_its_line(key):
    with pytest.raises(TopologyError) as e:
        load_text(f"name: t\ncontainers:\n  a:\n    {key}: {'x' * 65}\n")
    assert str(e.value) == (f"<string>:4: containers.a.{key}: 65 bytes: the kernel takes a {key} of at most 64 "
                            "(Docker would fail when the container starts)")
    load_text(f"name: t\ncontainers:\n  a:\n    {key}: {'x' * 64}\n")
