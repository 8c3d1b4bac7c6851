"""Endpoints' IPv6 addresses: static ones (`ipv6_address`) reserved before any automatic one,
then IPAM's next free address, or on docker0 with a `fixed-cidr-v6` of /80 or shorter the
address the bridge driver builds from the endpoint's MAC."""
from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv6Address, IPv6Interface

from ... import drivers
from ..context import Context
from ..ipam6 import MAC_DERIVED_MAX_PREFIX, MAC_DERIVED_UNTIL, AddressAllocator6, mac_derived
from ..specs import EndpointSpec
from ..topology import Attachment, Host, Segment


def mac_derived_on(seg: Segment, host: Host) -> bool:
    """docker0's addresses come from MACs when fixed-cidr-v6 leaves room for one (48 bits),
    before 28.0."""
    fixed = host.daemon.fixed_cidr_v6
    return seg.is_default and fixed is not None and seg.subnet6 == fixed and \
        fixed.prefixlen <= MAC_DERIVED_MAX_PREFIX and not host.engine.knows(MAC_DERIVED_UNTIL)


class Addresses6:
    """One IPv6 address allocator per network and host (per network when global-scope)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.allocators: dict[tuple[str, ...], AddressAllocator6] = {}
        self.static: dict[tuple[int, IPv6Address], str] = {}

    def of(self, seg: Segment) -> AddressAllocator6:
        assert seg.subnet6 is not None
        key = (seg.network,) if drivers.DRIVERS[seg.driver].global_scope else (seg.network, seg.host)
        if key not in self.allocators:
            self.allocators[key] = AddressAllocator6(seg.subnet6, seg.ip_range6, seg.gateway6)
            for name, a in seg.aux_addresses6:
                self.allocators[key].reserve(a)
                self.static[(id(self.allocators[key]), a)] = f"aux address {name!r}"
        return self.allocators[key]

    def reserve_static(self, name: str, ep: EndpointSpec, seg: Segment | None) -> None:
        path = f"{ep.path}.ipv6_address"
        if seg is None or seg.subnet6 is None or not ep.address6_given or seg.is_default:
            return      # no IPv6 on the network, or docker0: containers.py said so
        a = self.ctx.addr6(ep.ipv6_address, path)
        if a is None:
            return
        net, sub = ep.network, seg.subnet6
        alloc = self.of(seg)
        if a not in sub:
            self.ctx.err(path, f"{a} is outside the IPv6 subnet {sub} of {net!r}; pick an address inside it")
        elif a == sub.network_address:
            self.ctx.err(path, f"{a} is the first address of the IPv6 subnet {sub} of {net!r}, which Docker "
                               "keeps back (the Subnet-Router anycast address); pick another")
        elif not alloc.reserve(a):
            holder = self.static.get((id(alloc), a), "?")
            what = "the gateway" if a == seg.gateway6 else \
                holder if holder.startswith("aux address") else f"container {holder!r}"
            self.ctx.err(path, f"{a} is already used by {what} on {net!r}; pick another")
        else:
            self.static[(id(alloc), a)] = name

    def attach(self, ep: EndpointSpec | None, seg: Segment, att: Attachment, host: Host,
               has_gateway: bool) -> Attachment:
        """The attachment with its IPv6 address, when its network has IPv6."""
        if seg.subnet6 is None:
            return att
        if ep is not None and ep.address6_given and not seg.is_default:
            if not isinstance(ep.ipv6_address, str):
                return att      # the schema reported the type
            try:
                a: IPv6Address | None = IPv6Address(ep.ipv6_address)
            except ValueError:
                return att      # reported by reserve_static
        elif mac_derived_on(seg, host):
            a = mac_derived(seg.subnet6, att.mac)
            self.of(seg).reserve(a)
        else:
            a = self.of(seg).next()
            if a is None:
                self.ctx.err(ep.path if ep else f"networks.{seg.network}",
                             f"network {seg.network!r} has no free IPv6 address left in "
                             f"{seg.ip_range6 or seg.subnet6} on host {host.name!r}")
                return att
        assert a is not None
        return replace(att, address6=IPv6Interface(f"{a}/{seg.subnet6.prefixlen}"),
                       gateway6=seg.gateway6 if has_gateway else None)
