"""The LAN's IPv6 twin (model/lan6.py): in a lab where any network or any daemon has IPv6
(or `underlay.ipv6` says so), the outside's router and every host get an IPv6 address on the
LAN, the hosts a default route through the router, and the stand-in internet an IPv6 host.
An IPv4 lab is untouched."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from ipaddress import IPv6Address

from ..context import Context
from ..lan6 import STANDIN6, lan_address, lan_subnet
from ..topology import Container, Host, Segment, Underlay
from .underlay import lan_ipv6_asked


def uses_ipv6(hosts: Mapping[str, Host], segments: Mapping[str, Mapping[str, Segment]]) -> bool:
    return (any(h.daemon.ipv6 for h in hosts.values())
            or any(seg.ipv6 for per_host in segments.values() for seg in per_host.values()))


def give_lan_ipv6(ctx: Context, underlay: Underlay, hosts: dict[str, Host],
                  segments: Mapping[str, Mapping[str, Segment]],
                  outside6: tuple[IPv6Address, ...] | None) -> tuple[Underlay, tuple[IPv6Address, ...]]:
    """The underlay with its IPv6 twin (hosts updated in place) and the outside's IPv6
    addresses; `outside6` None: the file lists no `outside.addresses`, so the default's twin."""
    wanted = lan_ipv6_asked(ctx)
    if wanted is False or (wanted is None and not uses_ipv6(hosts, segments)):
        if outside6:
            ctx.err("outside.addresses", f"{outside6[0]} is IPv6, but the lab has no IPv6 (no network with "
                                         "enable_ipv6, no daemon with ipv6: true), so its LAN has none; "
                                         "`underlay: {ipv6: true}` gives it one")
        return underlay, ()
    subnet6 = lan_subnet(underlay.subnet)
    for name, h in hosts.items():
        hosts[name] = replace(h, address6=lan_address(underlay.subnet, h.address))
    for a in outside6 or ():
        if a in subnet6:
            ctx.err("outside.addresses", f"{a} is on the lab's IPv6 LAN {subnet6}; a stand-in internet "
                                         "host must be off it (2001:db8:ff::/48, say)")
    underlay = replace(underlay, subnet6=subnet6, gateway6=lan_address(underlay.subnet, underlay.gateway))
    return underlay, (STANDIN6,) if outside6 is None else outside6


def lan_address_clashes(ctx: Context, underlay: Underlay, hosts: Mapping[str, Host], containers: list[Container],
                        paths: Mapping[tuple[str, str], str]) -> None:
    """An endpoint on the LAN's IPv6 prefix (a macvlan network shares the wire) must not take
    the router's or a host's IPv6 address: IPAM cannot know them, as for IPv4 (reserved)."""
    if underlay.gateway6 is None:
        return
    owners: dict[IPv6Address, str] = {underlay.gateway6: "the LAN router's IPv6 address"}
    owners |= {h.address6: f"the IPv6 LAN address of host {h.name!r}" for h in hosts.values()
               if h.address6 is not None}
    for c in containers:
        for a in c.attachments:
            ip = a.address6.ip if a.address6 is not None else None
            if ip in owners:
                ctx.err(paths.get((c.name, a.network), f"containers.{c.name}"),
                        f"{ip} on {a.network!r} is {owners[ip]} (docs/lan.md); give the network an "
                        "IPv6 ip_range that leaves it out, or another ipv6_address")
