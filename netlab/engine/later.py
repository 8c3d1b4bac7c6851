"""The engines after 20.10 that netlab reproduces: each is 20.10 with what changed since
(docs/engines.md lists the differences, with their sources)."""
from __future__ import annotations

from dataclasses import replace

from .docker_20_10 import DOCKER_20_10

# 26.1: the rules are 20.10's, byte for byte (recorded from docker.io 26.1.5); from 25.0 a
# container on an --internal network has no default route
# resolv.conf gets a header and trailing comments (recorded from 26.1.5); IPv6 is no longer
# turned off for the whole container namespace (all, default and lo stay on, ::1 on lo), only
# on each interface whose endpoint has no IPv6 address (measured on 26.1.5 and 28.5.2)
DOCKER_26_1 = replace(DOCKER_20_10, name="26.1", version=(26, 1), internal_default_route=False,
                      resolv_comments=True, container_sysctls=())

# 28.5: DOCKER-FORWARD/-CT/-BRIDGE, the raw table's direct-access DROP, unpublished ports
# dropped in DOCKER; ip6tables on by default (27.0), so its chains exist without IPv6; random
# endpoint MACs; host ports allocated in the port mapper's order; the embedded DNS forwards
# from the host's namespace; /etc/hosts' fe00::, ff00::; docker-proxy answers UDP from the
# address the client sent to; no fe80::1 on an IPv6 bridge
DOCKER_28_5 = replace(DOCKER_26_1, name="28.5", version=(28, 5), firewall="iptables-28.5", ip6tables=True,
                      random_mac=True, upstream_from_host=True, hosts_short_ipv6=True, bridge_fe80_1=False,
                      sorts_port_bindings=True, proxy_replies_from_destination=True)

# 29.7: DOCKER-ISOLATION-STAGE-1/2 replaced by DOCKER-INTERNAL, no nat `-i br -j RETURN`
DOCKER_29_7 = replace(DOCKER_28_5, name="29.7", version=(29, 7), firewall="iptables-29.7")

# 29.7 with daemon.json "firewall-backend": "nftables": tables ip/ip6 docker-bridges, no iptables
DOCKER_29_7_NFTABLES = replace(DOCKER_29_7, name="29.7-nftables", firewall="nftables-29.7",
                               backend="nftables")
