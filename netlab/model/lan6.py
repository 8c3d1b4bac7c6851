"""The lab LAN's IPv6 twin, derived readably from its IPv4 one, in the documentation prefix.

The LAN 10.10.101.0/24 becomes 2001:db8:a:101::/64: the third octet of the IPv4 network as
written (its decimal digits read as a hexadecimal group). Each address keeps its last octet
the same way: the router 10.10.101.254 is 2001:db8:a:101::254, the host 10.10.101.105 is
2001:db8:a:101::105. A LAN wider than a /24 keeps as many octets as its hosts differ in
(10.10.0.0/16: 10.10.1.5 is 2001:db8:a:0::1:5). The stand-in internet host 203.0.113.10 has
the twin 2001:db8:ff::10. The real-engine oracle gives its outside the same addresses, so the
two agree on one contract (docs/lan.md)."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

LAN_PREFIX = "2001:db8:a"
STANDIN6 = IPv6Address("2001:db8:ff::10")     # twin of 203.0.113.10
DOCUMENTATION = IPv6Network("2001:db8::/32")


def lan_subnet(subnet: IPv4Network) -> IPv6Network:
    return IPv6Network(f"{LAN_PREFIX}:{subnet.network_address.packed[2]}::/64")


def lan_address(subnet: IPv4Network, address: IPv4Address) -> IPv6Address:
    """`address`'s twin: the octets that differ within `subnet` (at least the last), each
    written as the group of the same digits."""
    kept = address.packed[min(max(subnet.prefixlen // 8, 1), 3):]
    return IPv6Address(f"{LAN_PREFIX}:{subnet.network_address.packed[2]}::" + ":".join(str(o) for o in kept))
