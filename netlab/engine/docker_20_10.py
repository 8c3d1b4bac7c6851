"""Docker 20.10 (libnetwork of 20.10, the seed's engine): the facts netlab reproduces."""
from __future__ import annotations

from ipaddress import IPv4Network

from .profile import Engine

# ipamutils/utils.go: the local pools every engine from 20.10 to 29 starts from
LOCAL_POOLS = (
    (IPv4Network("172.17.0.0/16"), 16),
    (IPv4Network("172.18.0.0/16"), 16),
    (IPv4Network("172.19.0.0/16"), 16),
    (IPv4Network("172.20.0.0/14"), 16),
    (IPv4Network("172.24.0.0/14"), 16),
    (IPv4Network("172.28.0.0/14"), 16),
    (IPv4Network("192.168.0.0/16"), 20),
)
# swarm's global scope: 10.0.0.0/8 in /24s; ingress takes 10.0.0.0/24 first
GLOBAL_POOLS = ((IPv4Network("10.0.0.0/8"), 24),)

DOCKER_20_10 = Engine(
    name="20.10",
    version=(20, 10),
    local_pools=LOCAL_POOLS,
    global_pools=GLOBAL_POOLS,
    firewall="iptables-20.10",
    backend="iptables",
    ip6tables=False,
    internal_default_route=True,
    random_mac=False,
    sorts_port_bindings=False,
    proxy_replies_from_destination=False,
    resolv_comments=False,
    upstream_from_host=False,
    hosts_short_ipv6=False,
    bridge_fe80_1=True,
    # no container has an IPv6 address in 20.10's default configuration
    container_sysctls=(("net/ipv6/conf/all/disable_ipv6", "1"),),
    overlay_mtu=1450,
    overlay_first_vni=4096,
)
