"""Good lab files: defaults, IPAM, gateway choice, ports and network modes come out as
dockerd 20.10 would make them (Docker 20.10's networking documentation is the source
of each expectation)."""
from __future__ import annotations

import textwrap
from ipaddress import IPv4Address, IPv4Network

import pytest

from netlab.model import load_text
from netlab.model.source import parse_text
from netlab.model.topology import PortBinding

ANY = IPv4Address("0.0.0.0")
LOCAL = IPv4Address("127.0.0.1")


def load(text: str):
    return load_text(textwrap.dedent(text), "lab.yaml")


def addr(topo, container: str, network: str) -> str:
    return str(topo.container(container).attachment(network).address)


def binding(ip, host_port, container_port, proto="tcp") -> PortBinding:
    return PortBinding(IPv4Address(ip), host_port, container_port, proto)


# ---- defaults ----------------------------------------------------------------------------

def test_defaults_one_host_node1_and_outside():
    topo = load("name: demo\n")
    assert [h.name for h in topo.hosts] == ["node1"]
    node1 = topo.host("node1")
    assert node1.address == IPv4Address("10.10.101.105")
    assert node1.netns == "demo-node1"
    assert topo.underlay.subnet == IPv4Network("10.10.101.0/24")
    assert topo.underlay.gateway == IPv4Address("10.10.101.254")
    assert topo.outside_addresses == (IPv4Address("203.0.113.10"),)
    assert topo.outside_netns == "demo-outside"
    d = node1.daemon
    assert (d.icc, d.ip_masq, d.iptables, d.ip_forward, d.userland_proxy, d.mtu) == \
        (True, True, True, True, True, 1500)
    assert d.ip == ANY
    bridge = topo.segment("bridge", "node1")
    assert (bridge.device, bridge.is_default, bridge.subnet, bridge.gateway) == \
        ("docker0", True, IPv4Network("172.17.0.0/16"), IPv4Address("172.17.0.1"))


def test_hosts_without_address_count_up_from_105_around_taken_ones():
    topo = load("""
        name: demo
        hosts:
          node1: {}
          node2: {address: 10.10.101.105}
          node3:
        """)
    assert [str(h.address) for h in topo.hosts] == ["10.10.101.106", "10.10.101.105", "10.10.101.107"]


def test_underlay_subnet_moves_the_default_host_address_and_gateway():
    topo = load("name: demo\nunderlay: {subnet: 10.20.0.0/24}\n")
    assert topo.host("node1").address == IPv4Address("10.20.0.105")
    assert topo.underlay.gateway == IPv4Address("10.20.0.254")


def test_single_host_is_the_default_host_of_containers():
    topo = load("""
        name: demo
        hosts: {alpha: {}}
        containers: {web: {}}
        """)
    assert topo.container("web").host == "alpha"


def test_container_defaults():
    topo = load("name: demo\ncontainers: {web: {}}\n")
    web = topo.container("web")
    assert (web.mode, web.netns, web.gateway_network, web.shares) == ("bridge", "demo-web", "bridge", None)
    assert web.hostname == web.id[:12] and len(web.id) == 64
    assert [a.ifname for a in web.attachments] == ["eth0"]
    assert web.ports == () and web.links == () and web.command is None


def test_loading_is_deterministic():
    text = """
        name: demo
        networks: {n1: {}, n2: {}}
        containers:
          a: {networks: [n2, n1], ports: ["80", "8080:81"]}
          b: {networks: [n1]}
        """
    assert load(text) == load(text)


# ---- IPAM --------------------------------------------------------------------------------

def test_default_bridge_addresses_in_file_order():
    topo = load("""
        name: demo
        containers: {web: {}, db: {}, cache: {}}
        """)
    assert [addr(topo, c, "bridge") for c in ("web", "db", "cache")] == \
        ["172.17.0.2/16", "172.17.0.3/16", "172.17.0.4/16"]
    att = topo.container("web").attachment("bridge")
    assert att.gateway == IPv4Address("172.17.0.1")
    assert att.device == "docker0"


def test_daemon_bip_gives_the_default_bridge_subnet_and_gateway():
    topo = load("""
        name: demo
        hosts: {node1: {daemon: {bip: 10.99.0.1/24}}}
        containers: {web: {}}
        """)
    seg = topo.segment("bridge", "node1")
    assert (seg.subnet, seg.gateway) == (IPv4Network("10.99.0.0/24"), IPv4Address("10.99.0.1"))
    assert addr(topo, "web", "bridge") == "10.99.0.2/24"


def test_bip_that_is_not_the_first_address_is_the_gateway_and_is_skipped():
    topo = load("""
        name: demo
        hosts: {node1: {daemon: {bip: 10.99.0.3/24}}}
        containers: {a: {}, b: {}, c: {}}
        """)
    assert topo.segment("bridge", "node1").gateway == IPv4Address("10.99.0.3")
    assert [addr(topo, c, "bridge") for c in "abc"] == ["10.99.0.1/24", "10.99.0.2/24", "10.99.0.4/24"]


def test_user_networks_take_the_next_pools_in_file_order():
    topo = load("""
        name: demo
        networks: {n1: {}, n2: {}, n3: {}}
        containers: {a: {networks: [n1, n2, n3]}}
        """)
    got = [(str(topo.segment(n, "node1").subnet), str(topo.segment(n, "node1").gateway)) for n in ("n1", "n2", "n3")]
    assert got == [("172.18.0.0/16", "172.18.0.1"), ("172.19.0.0/16", "172.19.0.1"),
                   ("172.20.0.0/16", "172.20.0.1")]
    assert [a.ifname for a in topo.container("a").attachments] == ["eth0", "eth1", "eth2"]
    assert addr(topo, "a", "n2") == "172.19.0.2/16"


def test_after_the_172_pools_come_192_168_slash_20_blocks():
    nets = [f"n{i}" for i in range(17)]
    text = "name: demo\nnetworks:\n" + "".join(f"  {n}: {{}}\n" for n in nets)
    text += "containers:\n  a: {networks: [" + ", ".join(nets) + "]}\n"
    topo = load_text(text)
    subnets = [str(topo.segment(n, "node1").subnet) for n in nets]
    # 172.17 is docker0's; 172.18-172.31 are the next 14 local pools
    assert subnets[:14] == [f"172.{b}.0.0/16" for b in range(18, 32)]
    assert subnets[14:] == ["192.168.0.0/20", "192.168.16.0/20", "192.168.32.0/20"]


def test_automatic_subnets_step_around_explicit_ones_wherever_they_are_written():
    topo = load("""
        name: demo
        networks:
          auto1: {}
          auto2: {}
          fixed: {subnet: 172.18.0.0/16}
        containers: {a: {networks: [auto1, auto2, fixed]}}
        """)
    assert str(topo.segment("auto1", "node1").subnet) == "172.19.0.0/16"
    assert str(topo.segment("auto2", "node1").subnet) == "172.20.0.0/16"
    assert str(topo.segment("fixed", "node1").subnet) == "172.18.0.0/16"


def test_automatic_subnets_step_around_the_underlay():
    topo = load("""
        name: demo
        underlay: {subnet: 172.17.0.0/16, gateway: 172.17.255.254}
        networks: {n1: {}}
        containers: {a: {networks: [n1]}}
        """)
    assert str(topo.segment("bridge", "node1").subnet) == "172.18.0.0/16"
    assert str(topo.segment("n1", "node1").subnet) == "172.19.0.0/16"
    assert topo.host("node1").address == IPv4Address("172.17.0.105")


def test_default_address_pools_replace_the_list():
    topo = load("""
        name: demo
        hosts:
          node1:
            daemon:
              default-address-pools: [{base: 10.200.0.0/16, size: 24}]
        networks: {n1: {}, n2: {}}
        containers: {a: {networks: [n1, n2]}, b: {}}
        """)
    assert str(topo.segment("bridge", "node1").subnet) == "10.200.0.0/24"
    assert str(topo.segment("n1", "node1").subnet) == "10.200.1.0/24"
    assert str(topo.segment("n2", "node1").subnet) == "10.200.2.0/24"
    assert addr(topo, "b", "bridge") == "10.200.0.2/24"


def test_each_host_allocates_its_own_subnets():
    topo = load("""
        name: demo
        hosts:
          node1: {}
          node2: {daemon: {bip: 172.18.0.1/16}}
        networks: {n1: {}}
        containers:
          a: {host: node1, networks: [n1]}
          b: {host: node2, networks: [n1]}
        """)
    assert str(topo.segment("n1", "node1").subnet) == "172.18.0.0/16"
    assert str(topo.segment("n1", "node2").subnet) == "172.17.0.0/16"


def test_explicit_gateway_and_ip_range_start_at_the_range():
    topo = load("""
        name: demo
        networks:
          n1: {subnet: 10.123.0.0/24, ip_range: 10.123.0.128/25, gateway: 10.123.0.254}
        containers: {a: {networks: [n1]}, b: {networks: [n1]}}
        """)
    seg = topo.segment("n1", "node1")
    assert seg.gateway == IPv4Address("10.123.0.254")
    assert seg.ip_range == IPv4Network("10.123.0.128/25")
    assert (addr(topo, "a", "n1"), addr(topo, "b", "n1")) == ("10.123.0.128/24", "10.123.0.129/24")


def test_fixed_cidr_starts_at_its_first_address():
    topo = load("""
        name: demo
        hosts: {node1: {daemon: {bip: 10.99.0.1/24, fixed-cidr: 10.99.0.128/25}}}
        containers: {a: {}, b: {}}
        """)
    assert (addr(topo, "a", "bridge"), addr(topo, "b", "bridge")) == ("10.99.0.128/24", "10.99.0.129/24")


def test_lowest_free_address_in_join_order_across_networks():
    topo = load("""
        name: demo
        networks: {n1: {subnet: 10.1.0.0/24}, n2: {subnet: 10.2.0.0/24}}
        containers:
          a: {networks: [n2, n1]}
          b: {networks: [n1]}
          c: {networks: {n2: {}, n1: {ipv4_address: 10.1.0.2}}}
          d: {networks: [n2]}
        """)
    # c's static 10.1.0.2 is reserved before any automatic address (README: one deliberate
    # difference), so a and b step around it
    assert addr(topo, "a", "n2") == "10.2.0.2/24"
    assert addr(topo, "a", "n1") == "10.1.0.3/24"
    assert addr(topo, "b", "n1") == "10.1.0.4/24"
    assert addr(topo, "c", "n1") == "10.1.0.2/24"
    assert addr(topo, "c", "n2") == "10.2.0.3/24"
    assert addr(topo, "d", "n2") == "10.2.0.4/24"


def test_mac_is_02_42_and_the_ipv4_bytes():
    topo = load("name: demo\ncontainers: {web: {}, db: {}}\n")
    assert topo.container("db").attachment("bridge").mac == "02:42:ac:11:00:03"


def test_user_bridge_names_are_stable_unless_named():
    text = """
        name: demo
        networks:
          n1: {}
          n2: {driver_opts: {com.docker.network.bridge.name: br-two}}
        containers: {a: {networks: [n1, n2]}}
        """
    one, two = load(text), load(text)
    dev = one.segment("n1", "node1").device
    assert dev.startswith("br-") and len(dev) == 15 and dev == two.segment("n1", "node1").device
    assert one.segment("n2", "node1").device == "br-two"
    assert one.container("a").attachment("n2").device == "br-two"


# ---- the gateway endpoint (docker-networking.md 1.10) -------------------------------------

def test_gateway_endpoint_is_the_first_network_by_name():
    topo = load("""
        name: demo
        networks: {zeta: {}, alpha: {}}
        containers: {a: {networks: [zeta, alpha], ports: ["8080:80"]}}
        """)
    a = topo.container("a")
    assert a.gateway_network == "alpha"
    assert [x.network for x in a.attachments] == ["zeta", "alpha"]   # join order is kept
    assert a.ports == (binding("0.0.0.0", 8080, 80),)


def test_gateway_endpoint_prefers_non_internal_networks():
    topo = load("""
        name: demo
        networks: {alpha: {internal: true}, zeta: {}}
        containers: {a: {networks: [alpha, zeta]}}
        """)
    assert topo.container("a").gateway_network == "zeta"


def test_only_internal_networks_still_give_a_gateway_but_no_ports():
    topo = load("""
        name: demo
        networks: {beta: {internal: true}, alpha: {internal: true}}
        containers: {a: {networks: [beta, alpha], ports: ["8080:80"]}}
        """)
    a = topo.container("a")
    assert a.gateway_network == "alpha"
    assert a.ports == ()
    assert (80, "tcp") in a.exposed


def test_default_bridge_sorts_as_the_network_named_bridge():
    topo = load("""
        name: demo
        networks: {zz: {}, aa: {}}
        containers:
          a: {networks: [zz, bridge]}
          b: {networks: [bridge, aa]}
        """)
    assert topo.container("a").gateway_network == "bridge"
    assert topo.container("b").gateway_network == "aa"


def test_ports_use_the_gateway_networks_host_binding_address():
    topo = load("""
        name: demo
        networks:
          loc: {driver_opts: {com.docker.network.bridge.host_binding_ipv4: 127.0.0.1}}
        containers: {a: {networks: [loc], ports: ["8300:80"]}}
        """)
    assert topo.container("a").ports == (binding("127.0.0.1", 8300, 80),)


def test_daemon_ip_is_the_default_binding_address_on_the_default_bridge():
    topo = load("""
        name: demo
        hosts: {node1: {daemon: {ip: 127.0.0.1}}}
        containers: {a: {ports: ["8080:80"]}}
        """)
    assert topo.container("a").ports == (binding("127.0.0.1", 8080, 80),)


# ---- ports (docker-networking.md 1.5) -----------------------------------------------------

def test_explicit_port_specs():
    topo = load("""
        name: demo
        containers:
          a: {ports: ["8080:80", "127.0.0.1:8081:81", "5353:53/udp", "7000:7000/sctp"]}
        """)
    assert set(topo.container("a").ports) == {
        binding("0.0.0.0", 8080, 80), binding("127.0.0.1", 8081, 81),
        binding("0.0.0.0", 5353, 53, "udp"), binding("0.0.0.0", 7000, 7000, "sctp")}


def test_port_ranges_expand_one_binding_per_port():
    topo = load("""
        name: demo
        containers: {a: {ports: ["8184-8186:80-82"]}}
        """)
    assert sorted(topo.container("a").ports, key=lambda b: b.host_port) == [
        binding("0.0.0.0", 8184, 80), binding("0.0.0.0", 8185, 81), binding("0.0.0.0", 8186, 82)]


def test_host_range_for_one_port_takes_the_first_free_port():
    topo = load("""
        name: demo
        containers:
          a: {ports: ["8190-8195:80"]}
          b: {ports: ["8190-8195:80"]}
          c: {ports: ["8192:80"]}
          d: {ports: ["8190-8195:80"]}
        """)
    assert topo.container("a").ports == (binding("0.0.0.0", 8190, 80),)
    assert topo.container("b").ports == (binding("0.0.0.0", 8191, 80),)
    assert topo.container("d").ports == (binding("0.0.0.0", 8193, 80),)


def test_ephemeral_ports_count_from_32768_per_host_ip_and_protocol():
    topo = load("""
        name: demo
        hosts: {node1: {}, node2: {}}
        containers:
          a: {host: node1, ports: ["80"]}
          b: {host: node1, ports: ["80", "53/udp"]}
          c: {host: node1, ports: ["127.0.0.1::80"]}
          d: {host: node2, ports: ["127.0.0.1::80"]}
          e: {host: node2, ports: ["127.0.0.2::80"]}
        """)
    assert topo.container("a").ports == (binding("0.0.0.0", 32768, 80),)
    assert set(topo.container("b").ports) == {binding("0.0.0.0", 32769, 80),
                                              binding("0.0.0.0", 32768, 53, "udp")}
    # 127.0.0.1 has its own count, but a listener on 0.0.0.0:32768 makes the bind of
    # 127.0.0.1:32768 fail, and dockerd retries an ephemeral port with the next one
    assert topo.container("c").ports == (binding("127.0.0.1", 32770, 80),)
    assert topo.container("d").ports == (binding("127.0.0.1", 32768, 80),)
    assert topo.container("e").ports == (binding("127.0.0.2", 32768, 80),)


def test_ephemeral_ports_step_around_explicit_ones():
    topo = load("""
        name: demo
        containers:
          a: {ports: ["32768:80"]}
          b: {ports: ["80"]}
        """)
    assert topo.container("b").ports == (binding("0.0.0.0", 32769, 80),)


def test_publish_all_gives_each_exposed_port_an_ephemeral_host_port():
    # [OBS] --expose 90 --expose 91/udp -P: tcp 32768 and udp 32768
    topo = load("""
        name: demo
        containers:
          a: {expose: [90, "91/udp"], publish_all: true}
        """)
    a = topo.container("a")
    assert set(a.ports) == {binding("0.0.0.0", 32768, 90), binding("0.0.0.0", 32768, 91, "udp")}
    assert set(a.exposed) == {(90, "tcp"), (91, "udp")}


def test_publish_all_keeps_explicit_bindings_and_expose_alone_publishes_nothing():
    topo = load("""
        name: demo
        containers:
          a: {expose: [80, 81], ports: ["8080:80"], publish_all: true}
          b: {expose: [80]}
        """)
    assert set(topo.container("a").ports) == {binding("0.0.0.0", 8080, 80), binding("0.0.0.0", 32768, 81)}
    b = topo.container("b")
    assert b.ports == () and b.exposed == ((80, "tcp"),)


def test_published_ports_are_exposed():
    topo = load("name: demo\ncontainers: {a: {ports: ['8080:80', '53/udp']}}\n")
    assert set(topo.container("a").exposed) == {(80, "tcp"), (53, "udp")}


def test_yaml_sexagesimal_port_strings_stay_strings():
    # YAML 1.1 reads 22:22 as the base-60 number 1342; the loader keeps the text
    assert parse_text("ports: [22:22, 1:30, 80]\n").data == {"ports": ["22:22", "1:30", 80]}
    topo = load("name: demo\ncontainers: {a: {ports: [22:22, 2222:22/udp, 80]}}\n")
    assert set(topo.container("a").ports) == {binding("0.0.0.0", 22, 22), binding("0.0.0.0", 2222, 22, "udp"),
                                              binding("0.0.0.0", 32768, 80)}


def test_no_ports_on_host_none_or_macvlan_gateways():
    topo = load("""
        name: demo
        networks:
          mv: {driver: macvlan, subnet: 10.10.101.0/24, gateway: 10.10.101.254, ip_range: 10.10.101.128/26}
        containers:
          h: {network_mode: host}
          n: {network_mode: none}
          m: {networks: [mv], ports: ["8080:80"]}
        """)
    assert topo.container("h").ports == () and topo.container("h").attachments == ()
    assert topo.container("n").ports == () and topo.container("n").attachments == ()
    assert topo.container("m").ports == ()
    assert addr(topo, "m", "mv") == "10.10.101.128/24"


# ---- network modes -------------------------------------------------------------------------

def test_container_mode_resolves_to_the_shared_namespace():
    topo = load("""
        name: demo
        containers:
          web: {}
          side: {network_mode: "container:web"}
          side2: {network_mode: "container:side"}
          h: {network_mode: host}
          viah: {network_mode: "container:h"}
        """)
    side, side2 = topo.container("side"), topo.container("side2")
    assert (side.mode, side.shares, side.netns, side.attachments) == ("container", "web", "demo-web", ())
    assert (side2.shares, side2.netns) == ("side", "demo-web")
    assert topo.container("h").netns == "demo-node1"
    assert topo.container("viah").netns == "demo-node1"


def test_container_mode_may_name_a_container_written_later():
    topo = load("""
        name: demo
        containers:
          side: {network_mode: "container:web"}
          web: {}
        """)
    assert topo.container("side").netns == "demo-web"
    assert addr(topo, "web", "bridge") == "172.17.0.2/16"


def test_links_and_aliases():
    topo = load("""
        name: demo
        networks: {n1: {}}
        containers:
          db: {}
          web: {links: ["db:database", "db"]}
          a: {networks: {n1: {aliases: [alpha, first]}}}
        """)
    assert [(l.name, l.alias) for l in topo.container("web").links] == [("db", "database"), ("db", "db")]
    assert topo.container("a").attachment("n1").aliases == ("alpha", "first")


def test_expectations():
    topo = load("""
        name: demo
        containers: {web: {ports: ["8080:80"]}, a: {}}
        expect:
          - {from: a, to: web}
          - {from: outside, to: "node1:8080", ok: false}
          - {from: a, to: 203.0.113.10, proto: udp, port: 53}
        """)
    e = topo.expect
    assert (e[0].source, e[0].target, e[0].ok, e[0].proto, e[0].port) == ("a", "web", True, "icmp", None)
    assert (e[1].target, e[1].ok, e[1].proto, e[1].port) == ("node1", False, "tcp", 8080)
    assert (e[2].target, e[2].proto, e[2].port) == ("203.0.113.10", "udp", 53)
    assert [x.line for x in e] == [5, 6, 7]


# ---- YAML conveniences -----------------------------------------------------------------

def test_yaml_merge_keys_and_anchors():
    topo = load("""
        name: demo
        containers:
          web: &web {ports: ["80"], command: "sleep 1000"}
          web2:
            <<: *web
            command: "sleep 2000"
        """)
    web2 = topo.container("web2")
    assert web2.command == "sleep 2000"
    assert web2.ports == (binding("0.0.0.0", 32769, 80),)


def test_lines_of_keys_are_remembered():
    src = parse_text("name: demo\ncontainers:\n  web:\n    ports:\n      - '80'\n")
    assert src.line("containers.web") == 3
    assert src.line("containers.web.ports[0]") == 5
    assert src.line("containers.web.nothing.here") == 3


@pytest.mark.parametrize("text", ["name: demo\n", b"name: demo\n", "\ufeffname: demo\n"])
def test_text_bytes_and_bom(text):
    assert load_text(text).name == "demo"
