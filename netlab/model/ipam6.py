"""IPv6 address management as dockerd does it: subnets first-fit from the host's IPv6 pools
(27.0+: the user's IPv6 `default-address-pools`, else a ULA /48 derived from the engine's host
ID, cut into /64s), the first address of every subnet kept back (the Subnet-Router anycast
address), gateway and endpoints sequential after it, and docker0's MAC-derived addresses."""
from __future__ import annotations

import hashlib
from ipaddress import IPv6Address, IPv6Network

from . import naming
from .ipam import Addresses
from .topology import Pool6

MAX_CANDIDATES = 1 << 16
# Since 27.0 dockerd adds a ULA pool when the daemon has no IPv6 pool of its own
# (daemon.networkOptions); before, an IPv6 network without a subnet fails to find a pool.
ULA_SINCE = "27.0"
# docker0 with fixed-cidr-v6 of at least 48 host bits: the bridge driver builds each
# endpoint's address from its MAC (the daemon's deferIPv6Alloc, `ones <= 80`); gone in 28.0,
# whose bridge driver takes IPAM's address (and whose MACs are random)
MAC_DERIVED_MAX_PREFIX = 80
MAC_DERIVED_UNTIL = "28.0"
LINK_LOCAL = IPv6Network("fe80::/64")
MULTICAST = IPv6Network("ff00::/8")
V4_MAPPED = IPv6Network("::ffff:0:0/96")


def ula_pool(host_id: str) -> Pool6:
    """ipamutils.DeriveULABaseNetwork: fd00::/8 with the low 40 bits of the first 8 bytes of
    sha256(host ID) as the Global ID, a /48 split into /64s."""
    gid = int.from_bytes(hashlib.sha256(host_id.encode()).digest()[:8], "big") & ((1 << 40) - 1)
    return Pool6(IPv6Network((int(IPv6Address("fd00::")) + (gid << 80), 48)), 64)


def engine_host_id(lab: str, host: str) -> str:
    """A real engine's ID is a random UUID kept in /var/lib/docker/engine-id; ours is derived
    from the lab and the host, so the ULA prefix is the same on every load."""
    h = naming.digest(lab, "engine-id", host)[:32]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def ordered_pools(pools: tuple[Pool6, ...]) -> tuple[Pool6, ...]:
    """defaultipam's newAddrSpace: the pools sorted by address (then prefix length), and a pool
    inside one before it dropped, so automatic subnets come lowest address first."""
    kept: list[Pool6] = []
    for p in sorted(pools, key=lambda p: (p.base.network_address, p.base.prefixlen)):
        if not kept or not kept[-1].base.overlaps(p.base):
            kept.append(p)
    return tuple(kept)


class SubnetAllocator6:
    """One host's IPv6 local scope: explicit subnets claimed, automatic ones the lowest free."""

    def __init__(self, pools: tuple[Pool6, ...]) -> None:
        self.pools = ordered_pools(pools)
        self.allocated: list[IPv6Network] = []

    def overlaps(self, net: IPv6Network) -> IPv6Network | None:
        return next((a for a in self.allocated if a.overlaps(net)), None)

    def claim(self, net: IPv6Network) -> None:
        self.allocated.append(net)

    def auto(self) -> IPv6Network | None:
        looked = 0
        for pool in self.pools:
            size = max(pool.size, pool.base.prefixlen)
            step = 1 << (128 - size)
            count = 1 << (size - pool.base.prefixlen)
            i = 0
            # a /48 holds 65,536 /64s: skip past each overlap instead of trying them one by one
            while i < count and looked < MAX_CANDIDATES:
                looked += 1
                net = IPv6Network((int(pool.base.network_address) + i * step, size))
                clash = self.overlaps(net)
                if clash is None:
                    self.allocated.append(net)
                    return net
                end = int(clash.broadcast_address) + 1
                i = max(i + 1, (end - int(pool.base.network_address) + step - 1) // step)
        return None


class AddressAllocator6(Addresses[IPv6Address]):
    """Endpoints of one IPv6 subnet get the next free address of the range, in order."""

    def __init__(self, subnet: IPv6Network, ip_range: IPv6Network | None, gateway: IPv6Address | None) -> None:
        self.subnet = subnet
        used = {subnet.network_address} | ({gateway} if gateway is not None else set())
        super().__init__(ip_range or subnet, used, IPv6Address)


def subnet_refusal(subnet: IPv6Network) -> str | None:
    """The bridge driver's validateIPv6Subnet: why Docker refuses this subnet, if it does."""
    if subnet.subnet_of(V4_MAPPED):
        return f"{subnet} is IPv4-mapped, not a valid IPv6 subnet"
    if subnet.overlaps(MULTICAST):
        return f"multicast subnet {subnet} is not allowed"
    if subnet != LINK_LOCAL and subnet.overlaps(LINK_LOCAL):
        return f"{subnet} clashes with the link-local prefix {LINK_LOCAL}"
    return None


def first_address(subnet: IPv6Network) -> IPv6Address | None:
    """The gateway IPAM picks: the first address after the reserved Subnet-Router anycast."""
    return subnet.network_address + 1 if subnet.prefixlen < 128 else None


def mac_derived(subnet: IPv6Network, mac: str) -> IPv6Address:
    """The bridge driver's address for an endpoint of docker0: the prefix, then the MAC in the
    last 48 bits."""
    return IPv6Address(int(subnet.network_address) | int(mac.replace(":", ""), 16))
