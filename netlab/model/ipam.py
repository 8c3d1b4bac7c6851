"""Address management as dockerd does it: the engine's pools in Docker's order, a rotating start
index for automatic subnets, lowest-free addresses for endpoints."""
from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Generic, TypeVar

from ..engine import Engine
from .topology import Pool

MAX_CANDIDATES = 1 << 16


def local_pools(engine: Engine) -> tuple[Pool, ...]:
    """The pools automatic local-scope (bridge, macvlan) subnets come from, in order."""
    return tuple(Pool(base, size) for base, size in engine.local_pools)


def global_pools(engine: Engine) -> tuple[Pool, ...]:
    """The swarm's global-scope pools (overlay networks)."""
    return tuple(Pool(base, size) for base, size in engine.global_pools)


class _Candidates:
    """The pools' subnets in order, made when asked for: the global pool alone holds 65,536
    /24s, and making them all on every load cost a tenth of a second per command."""

    def __init__(self, pools: tuple[Pool, ...]) -> None:
        self.spans: list[tuple[IPv4Network, int, int]] = []     # (pool, its size, how many)
        total = 0
        for pool in pools:
            size = max(pool.size, pool.base.prefixlen)
            count = min(1 << (size - pool.base.prefixlen), MAX_CANDIDATES - total)
            if count <= 0:
                break
            self.spans.append((pool.base, size, count))
            total += count
        self.total = total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, i: int) -> IPv4Network:
        for base, size, count in self.spans:
            if i < count:
                return IPv4Network((int(base.network_address) + (i << (32 - size)), size))
            i -= count
        raise IndexError(i)


def candidates(pools: tuple[Pool, ...]) -> _Candidates:
    return _Candidates(pools)


class SubnetAllocator:
    """One per address space (a host's local scope, or the lab's global scope)."""

    def __init__(self, pools: tuple[Pool, ...], reserved: tuple[IPv4Network, ...] = ()) -> None:
        self.candidates = candidates(pools)
        self.allocated: list[IPv4Network] = []
        self.reserved = list(reserved)   # routes of the host: never picked automatically
        self.start = 0
        self.full = False   # nothing is freed while a lab loads: once full, always full

    def overlaps(self, net: IPv4Network) -> IPv4Network | None:
        return next((a for a in self.allocated if a.overlaps(net)), None)

    def claim(self, net: IPv4Network) -> None:
        """An explicit subnet: taken as asked (overlaps are reported by the caller)."""
        self.allocated.append(net)

    def auto(self) -> IPv4Network | None:
        if self.full:       # a scan of 65,536 candidates per network took minutes
            return None
        n = len(self.candidates)
        for step in range(n):
            i = (self.start + step) % n
            net = self.candidates[i]
            if self.overlaps(net) or any(r.overlaps(net) for r in self.reserved):
                continue
            self.allocated.append(net)
            self.start = i + 1
            return net
        self.full = True
        return None


A = TypeVar("A", IPv4Address, IPv6Address)


class Addresses(Generic[A]):
    """The addresses of a range handed out in order, the lowest free one first; `used`: what
    is never handed out (the gateway, and what the family reserves)."""

    def __init__(self, ip_range: IPv4Network | IPv6Network, used: set[A], make: Callable[[int], A]) -> None:
        self.range = ip_range
        self.used: set[A] = used
        self.make: Callable[[int], A] = make
        self.cursor = int(ip_range.network_address)

    def reserve(self, address: A) -> bool:
        if address in self.used:
            return False
        self.used.add(address)
        return True

    def next(self) -> A | None:
        # A lab never frees an address while it loads, so the lowest free one is never below
        # the last one handed out: resume there (a rescan from the start made 10,000
        # containers on one network quadratic).
        last = int(self.range.broadcast_address)
        while self.cursor <= last:
            addr = self.make(self.cursor)
            self.cursor += 1
            if addr not in self.used:
                self.used.add(addr)
                return addr
        return None


class AddressAllocator(Addresses[IPv4Address]):
    """Endpoints of one network on one host get the lowest free address of the range."""

    def __init__(self, subnet: IPv4Network, ip_range: IPv4Network | None, gateway: IPv4Address | None) -> None:
        self.subnet = subnet
        used: set[IPv4Address] = {gateway} if gateway is not None else set()
        if subnet.prefixlen < 31:
            used |= {subnet.network_address, subnet.broadcast_address}
        super().__init__(ip_range or subnet, used, IPv4Address)


def first_host(subnet: IPv4Network) -> IPv4Address:
    return next(subnet.hosts()) if subnet.prefixlen < 32 else subnet.network_address
