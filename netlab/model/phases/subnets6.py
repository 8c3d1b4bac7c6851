"""IPv6 subnets, per host, beside the IPv4 ones (subnets.py) and in the same order: docker0
first (`fixed-cidr-v6`, or from the pools), explicit subnets claimed before automatic ones."""
from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv6Network

from ... import drivers
from ..context import Context
from ..ipam6 import ULA_SINCE, SubnetAllocator6, engine_host_id, first_address, ula_pool
from ..specs import NetworkSpec
from ..topology import Host, Pool6, Segment


def host_pools6(lab: str, host: Host) -> tuple[Pool6, ...]:
    """The daemon's IPv6 pools; without any, 27.0+ adds the ULA /48 of its host ID."""
    if host.daemon.default_address_pools6:
        return host.daemon.default_address_pools6
    return (ula_pool(engine_host_id(lab, host.name)),) if host.engine.knows(ULA_SINCE) else ()


class HostSubnets6:
    """One host's IPv6 local scope: its pools and what took each subnet."""

    def __init__(self, ctx: Context, host: Host) -> None:
        self.ctx, self.host = ctx, host
        self.alloc = SubnetAllocator6(host_pools6(ctx.lab, host))
        self.owner: dict[IPv6Network, str] = {}
        self.subnets: dict[str, IPv6Network | None] = {}

    def default_bridge(self) -> None:
        d = self.host.daemon
        if not d.ipv6:
            return
        sub = d.fixed_cidr_v6
        if sub is not None:
            self.alloc.claim(sub)
        else:
            sub = self.alloc.auto()
            # no pool at all: hosts.py said what is missing (or that fixed-cidr-v6 is bad)
            if sub is None and self.alloc.pools:
                self.ctx.err(f"hosts.{self.host.name}.daemon.ipv6", "no free IPv6 pool for the default "
                                                                    "bridge; set `fixed-cidr-v6`")
        if sub is not None:
            self.owner[sub] = "the default bridge"
            self.subnets["bridge"] = sub

    def claim(self, n: NetworkSpec) -> None:
        sub = n.subnet6
        if sub is None:
            return
        clash = self.alloc.overlaps(sub)
        if clash is not None:
            self.ctx.err(n.path6, f"IPv6 subnet {sub} overlaps {self.owner.get(clash, '?')} ({clash}) "
                                  f"on host {self.host.name!r}")
            return
        self.alloc.claim(sub)
        self.owner[sub] = f"network {n.name!r}"
        self.subnets[n.name] = sub

    def place(self, n: NetworkSpec) -> None:
        if not n.enable_ipv6 or n.subnet6 is not None or n.name in self.subnets:
            return
        sub = self.alloc.auto()
        if sub is None:
            if not self.alloc.pools or drivers.DRIVERS[n.driver].global_scope:
                return      # networks.py refused the network: there is no pool to take from
            self.ctx.err(f"networks.{n.name}.enable_ipv6", f"no free IPv6 pool left on host "
                                                          f"{self.host.name!r}; give it an IPv6 subnet")
            return
        self.owner[sub] = f"network {n.name!r}"
        self.subnets[n.name] = sub

    def segment(self, seg: Segment, n: NetworkSpec | None) -> Segment:
        """The segment with its IPv6 addressing, or as it is when the network has none."""
        sub = self.subnets.get(seg.network)
        if sub is None:
            return seg
        gateway = (n.gateway6 if n is not None else None) or first_address(sub)
        return replace(seg, subnet6=sub, gateway6=gateway, ip_range6=n.ip_range6 if n is not None else None)
