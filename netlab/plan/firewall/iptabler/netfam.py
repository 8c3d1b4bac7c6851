"""One address family's half of a bridge network, as the firewaller is handed it (moby
`firewaller.NetworkConfigFam`): the prefix, the SNAT host address and the gateway mode.

IPv4 comes from the segment's own fields. IPv6 has its own driver options
(`com.docker.network.host_ipv6`, `...bridge.gateway_mode_ipv6`), independent of IPv4's: a
network may masquerade IPv4 and route IPv6."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from ....model.topology import Segment

HOST_IPV6 = "com.docker.network.host_ipv6"
GATEWAY_MODE_IPV6 = "com.docker.network.bridge.gateway_mode_ipv6"


@dataclass(frozen=True, kw_only=True)
class NetFam:
    prefix: IPv4Network | IPv6Network
    host_ip: IPv4Address | IPv6Address | None   # SNAT to this address instead of MASQUERADE
    gateway_mode: str                           # nat | nat-unprotected | routed | isolated

    @property
    def routed(self) -> bool:
        return self.gateway_mode == "routed"

    @property
    def unprotected(self) -> bool:
        return self.gateway_mode == "nat-unprotected"


def net_fam(seg: Segment, ipv6: bool) -> NetFam | None:
    """The segment's half for that family; None when the network has no address of it (the
    firewaller's configure() then finds no prefix and writes nothing)."""
    if not ipv6:
        return NetFam(prefix=seg.subnet, host_ip=seg.host_ipv4, gateway_mode=seg.gateway_mode)
    if seg.subnet6 is None:
        return None
    host_ip = seg.option(HOST_IPV6)
    return NetFam(prefix=seg.subnet6, host_ip=IPv6Address(host_ip) if host_ip else None,
                  gateway_mode=seg.option(GATEWAY_MODE_IPV6) or "nat")


def host_match(ip: IPv4Address | IPv6Address) -> str:
    """An address as iptables-save prints a one-address match: 192.168.0.2/32, fd00::1/128."""
    return f"{ip}/{ip.max_prefixlen}"
