"""`name`, `underlay` and `outside`: the lab's own namespace prefix and the world around it."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address

from .. import naming
from ..context import Context, is_addr6, listing, mapping
from ..lan6 import DOCUMENTATION
from ..topology import Underlay

TEST_NETS = tuple(IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))


def read_name(ctx: Context) -> str:
    name = ctx.data.get("name")
    if name is None:
        ctx.err("name", "missing: every lab needs a `name:` of 1-8 characters [a-z0-9], "
                        "such as `name: demo`")
        name = "lab"
    elif isinstance(name, str) and not naming.LAB_NAME.fullmatch(name):
        ctx.err("name", f"{name!r} is not a valid lab name: use 1-8 characters of [a-z0-9] "
                        "(it prefixes every namespace the lab makes)")
    return name if isinstance(name, str) else "lab"


def read_underlay(ctx: Context) -> Underlay:
    raw = mapping(ctx.data.get("underlay"))
    subnet = ctx.net(raw.get("subnet"), "underlay.subnet") or Underlay.subnet
    gateway = Underlay.gateway if "gateway" not in raw else ctx.addr(raw["gateway"], "underlay.gateway")
    if "subnet" in raw and "gateway" not in raw:
        gateway = IPv4Address(int(subnet.broadcast_address) - 1)
    if gateway is not None and gateway not in subnet:
        ctx.err("underlay.gateway" if "gateway" in raw else "underlay.subnet",
                f"gateway {gateway} is outside the underlay subnet {subnet}")
    mtu = raw.get("mtu", 1500)
    if isinstance(mtu, int) and not 1280 <= mtu <= 9000:
        ctx.err("underlay.mtu", f"MTU {mtu} is out of range 1280-9000")
    return Underlay(subnet, gateway or Underlay.gateway, mtu if isinstance(mtu, int) else 1500)


def lan_ipv6_asked(ctx: Context) -> bool | None:
    """`underlay.ipv6`: True or False as written, None when the lab leaves it to its networks."""
    asked = mapping(ctx.data.get("underlay")).get("ipv6")
    return asked if isinstance(asked, bool) else None


def read_outside(ctx: Context) -> tuple[tuple[IPv4Address, ...], tuple[IPv6Address, ...] | None]:
    """The stand-in internet's IPv4 and IPv6 hosts; IPv6 None: no `addresses` given (the
    default 203.0.113.10, and its IPv6 twin in a lab with IPv6, phases/lan6.py)."""
    raw = mapping(ctx.data.get("outside"))
    if "addresses" not in raw:
        return (IPv4Address("203.0.113.10"),), None
    out: list[IPv4Address] = []
    out6: list[IPv6Address] = []
    for i, value in enumerate(listing(raw.get("addresses"))):
        path = f"outside.addresses[{i}]"
        if is_addr6(value):
            a6 = IPv6Address(value)
            if a6 in out6:
                ctx.err(path, f"{a6} is listed twice")
            elif a6 not in DOCUMENTATION:
                ctx.err(path, f"{a6} is not in the IPv6 documentation prefix 2001:db8::/32; stand-in "
                              "internet hosts must be, so that lab traffic can never leak to real hosts")
            else:
                out6.append(a6)
            continue
        a = ctx.addr(value, path)
        if a is None:
            continue
        if a in out:
            ctx.err(path, f"{a} is listed twice")
            continue
        if not any(a in n for n in TEST_NETS):
            ctx.err(path, f"{a} is not a TEST-NET address; stand-in internet hosts must be in "
                          "192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24 so that lab traffic "
                          "can never be mistaken for (or leak to) real hosts")
            continue
        out.append(a)
    return tuple(out), tuple(out6)
