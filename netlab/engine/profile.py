"""The shape of an engine profile."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network


@dataclass(frozen=True, kw_only=True)
class Engine:
    """One dockerd version's networking behaviour, as the lab needs it."""

    name: str                                   # as a lab file names it: "20.10", "29.7-nftables"
    version: tuple[int, int]                    # (major, minor): what "introduced in" compares with
    # IPAM (ipamutils/utils.go): automatic subnets come from these pools, in this order
    local_pools: tuple[tuple[IPv4Network, int], ...]
    global_pools: tuple[tuple[IPv4Network, int], ...]
    firewall: str                               # the rule program, in plan/firewall/programs.py
    backend: str                                # what it programs: "iptables" or "nftables"
    # whether dockerd writes its IPv6 chains (ip6tables, or the ip6 nftables table) by default,
    # even when no network has IPv6 (daemon.json `ip6tables`, default true from 27.0)
    ip6tables: bool
    # routing: whether a container on an --internal bridge network gets a default route
    internal_default_route: bool
    # host ports are allocated in the port mapper's order (exact first, then by container
    # port, 28.0), not in the order nat.SortPortMap leaves them
    sorts_port_bindings: bool
    # docker-proxy answers a UDP client from the address it sent to (28.0), not from the
    # address routing picks (which a connected client socket ignores)
    proxy_replies_from_destination: bool
    # endpoint MACs: 02:42 + the IPv4 address up to 27.x, random from 28.0 (moby#48808)
    random_mac: bool
    # /etc/resolv.conf with Docker's header and the trailing comments on how it was made (26.0)
    resolv_comments: bool
    # the embedded DNS asks the host file's nameservers from the host's namespace (28.0), not
    # only the loopback ones; resolv.conf then lists them as host(<address>)
    upstream_from_host: bool
    # /etc/hosts spells fe00:: and ff00:: without the trailing 0 (28.0)
    hosts_short_ipv6: bool
    # setupBridgeIPv6 gives a bridge with IPv6 fe80::1/64 beside the kernel's own link-local
    # address (measured on 20.10.24 and 26.1.5; 28.5.2 adds none)
    bridge_fe80_1: bool
    # sysctls dockerd writes in every container namespace it makes (paths under /proc/sys)
    container_sysctls: tuple[tuple[str, str], ...]
    overlay_mtu: int                            # default MTU of an overlay network
    overlay_first_vni: int                      # swarm hands out VXLAN ids from here, in order

    @property
    def release(self) -> str:
        """The version as Docker prints it, without the backend: "29.7"."""
        return f"{self.version[0]}.{self.version[1]}"

    def knows(self, since: str) -> bool:
        """Whether this engine has a feature introduced in version `since` ("28.0")."""
        major, minor = (int(x) for x in since.split("."))
        return self.version >= (major, minor)
