"""Kernel names for a lab's objects: stable across runs, unique per lab, within Linux limits."""
from __future__ import annotations

import hashlib
import re
from ipaddress import IPv4Address

IFNAMSIZ = 15          # usable characters of a Linux interface name
# \Z, not $: `$` also matches before a final newline, and "demo\n" is no name
LAB_NAME = re.compile(r"^[a-z0-9]{1,8}\Z")
# Docker's rule for container and network names (daemon/names.go)
DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z")
HOST_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")
IFNAME = re.compile(r"^[^\s/:]+\Z")
UNDERLAY_PORT_PREFIX = "u-"      # the outside side of a host's underlay veth
MAX_HOST_NAME = IFNAMSIZ - len(UNDERLAY_PORT_PREFIX)
MAX_CONTAINER_NAME = 63          # it becomes a DNS label and a netns file name
OWNER_MARK = "netlab:{lab}"
# the bridge network swarm creates on every node: overlay containers' way out (eth1, default route)
GWBRIDGE = "docker_gwbridge"
VXLAN_PORT = 4789


def digest(*parts: str) -> str:
    return hashlib.sha256(":".join(("netlab",) + parts).encode()).hexdigest()


def netns(lab: str, name: str) -> str:
    """The namespace of a host, a container or `outside`: `<lab>-<name>`."""
    return f"{lab}-{name}"


def network_id(lab: str, network: str) -> str:
    return digest(lab, "network", network)


def container_id(lab: str, container: str) -> str:
    return digest(lab, "container", container)


def user_bridge(lab: str, network: str) -> str:
    """Docker names a user bridge `br-` + the first 12 hex of the network ID."""
    return "br-" + network_id(lab, network)[:12]


def host_veth(lab: str, container: str, network: str) -> str:
    """Docker's host-side veth is `veth` + 7 hex; ours are derived, so reruns find them."""
    return "veth" + digest(lab, "veth", container, network)[:7]


def overlay_sandbox(lab: str, host: str, vni: int) -> str:
    """The namespace holding br0 and vxlan0 of one overlay network on one host (Docker's
    `1-<network id>`): `<lab>-<host>@ov<vni>`. A container name cannot hold '@'
    (DOCKER_NAME), so it never collides with a container's `<lab>-<name>`."""
    return f"{lab}-{host}@ov{vni}"


def macvlan_shim(lab: str, host: str, network: str) -> str:
    """The host-side macvlan people add by hand so a host reaches its own macvlan containers."""
    return "mvshim-" + digest(lab, "shim", host, network)[:7]


def underlay_port(host: str) -> str:
    return UNDERLAY_PORT_PREFIX + host


def owner_mark(lab: str) -> str:
    return OWNER_MARK.format(lab=lab)


def mac_for(address: IPv4Address) -> str:
    """Docker 20.10 gives bridge and macvlan endpoints 02:42 followed by the IPv4 bytes."""
    return "02:42:" + ":".join(f"{b:02x}" for b in address.packed)


def endpoint_mac(random: bool, lab: str, container: str, network: str, address: IPv4Address) -> str:
    """An endpoint's MAC as the engine makes it (Engine.random_mac)."""
    return random_mac(lab, container, network) if random else mac_for(address)


def random_mac(lab: str, container: str, network: str) -> str:
    """From 28.0 Docker gives endpoints a random, locally administered unicast MAC; ours looks
    random but is derived, so a rerun keeps it."""
    h = bytearray.fromhex(digest(lab, "endpoint-mac", container, network)[:12])
    h[0] = (h[0] | 0x02) & 0xFE
    return ":".join(f"{b:02x}" for b in h)
