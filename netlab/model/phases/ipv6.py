"""The IPv6 keys as Compose and daemon.json spell them: a network's `enable_ipv6` and its
`ipam.config` entries (one per address family; the flat `subnet`/`gateway`/`ip_range` stay the
IPv4 one), and the daemon's `ipv6`, `fixed-cidr-v6` and IPv6 `default-address-pools`."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Network
from typing import Any

from ...engine import Engine
from ..context import Context, listing, mapping
from ..ipam6 import ULA_SINCE, first_address, subnet_refusal
from ..topology import Host, Pool6
from .aux import read_aux

FLAT_V4 = ("subnet", "gateway", "ip_range")
GATEWAY_MODE6 = "com.docker.network.bridge.gateway_mode_ipv6"


@dataclass(frozen=True)
class Ipam:
    """A network's addressing as written: where its IPv4 keys are, and its IPv6 ones."""

    v4: dict[Any, Any]          # subnet/gateway/ip_range of IPv4: the flat keys or an ipam entry
    v4_path: str                # the key path those keys sit under
    subnet6: IPv6Network | None = None
    gateway6: IPv6Address | None = None
    ip_range6: IPv6Network | None = None
    path6: str = ""             # the key path of the IPv6 subnet, for messages
    aux6: tuple[tuple[str, IPv6Address], ...] = ()


def read_ipam(ctx: Context, spec: dict[Any, Any], path: str) -> Ipam:
    v4, v4_path = spec, path
    v6: tuple[dict[Any, Any], str] | None = None
    for i, entry in enumerate(listing(mapping(spec.get("ipam")).get("config"))):
        epath = f"{path}.ipam.config[{i}]"
        entry = mapping(entry)
        subnet = entry.get("subnet")
        if not isinstance(subnet, str):
            if "subnet" not in entry:
                ctx.err(epath, "an `ipam.config` entry needs a `subnet`")
            continue
        if ":" in subnet:
            if v6 is not None:
                ctx.err(epath, "a second IPv6 subnet; netlab takes one subnet per address family")
                continue
            v6 = (entry, epath)
        elif v4_path != path:
            ctx.err(epath, "a second IPv4 subnet; netlab takes one subnet per address family")
        elif any(k in spec for k in FLAT_V4):
            given = ", ".join(f"`{k}`" for k in FLAT_V4 if k in spec)
            ctx.err(epath, f"the IPv4 subnet is given twice: by this entry and by the network's {given}; "
                           "keep one of them")
        else:
            v4, v4_path = entry, epath
    if v6 is None:
        return Ipam(v4, v4_path)
    subnet6, gateway6, ip_range6 = _addressing6(ctx, spec, *v6, path)
    isolated = mapping(spec.get("driver_opts")).get(GATEWAY_MODE6) == "isolated"
    return Ipam(v4, v4_path, subnet6, gateway6, ip_range6, path6=f"{v6[1]}.subnet",
                aux6=read_aux(ctx, v6[0], v6[1], subnet6, gateway6, isolated))


def _addressing6(ctx: Context, spec: dict[Any, Any], entry: dict[Any, Any], epath: str,
                 path: str) -> tuple[IPv6Network | None, IPv6Address | None, IPv6Network | None]:
    subnet = ctx.net6(entry.get("subnet"), f"{epath}.subnet")
    gateway = ctx.addr6(entry.get("gateway"), f"{epath}.gateway")
    ip_range = ctx.net6(entry.get("ip_range"), f"{epath}.ip_range")
    if spec.get("enable_ipv6") is not True:
        ctx.err(f"{path}.enable_ipv6" if "enable_ipv6" in spec else path,
                "an IPv6 subnet in `ipam.config` needs `enable_ipv6: true` on the network")
    if subnet is None:
        return None, None, None
    refusal = subnet_refusal(subnet) if spec.get("driver", "bridge") == "bridge" else None
    if refusal is not None:
        ctx.err(f"{epath}.subnet", f"{refusal} (Docker's bridge driver refuses it)")
        return None, None, None
    if subnet.prefixlen == 128:
        ctx.err(f"{epath}.subnet", f"subnet {subnet} is too small: Docker keeps back the first address "
                                   "of an IPv6 subnet and needs one more for the gateway; use /127 or shorter")
        return None, None, None
    if gateway is not None and (gateway not in subnet or gateway == subnet.network_address):
        ctx.err(f"{epath}.gateway", f"gateway {gateway} is not a usable address of subnet {subnet}; "
                                    f"use one inside it, such as {first_address(subnet)}")
    if ip_range is not None and not ip_range.subnet_of(subnet):
        ctx.err(f"{epath}.ip_range", f"ip_range {ip_range} is not inside subnet {subnet}")
    return subnet, gateway, ip_range


def check_pool_needed(ctx: Context, name: str, spec: dict[Any, Any], ipam: Ipam, on: list[Host],
                      global_scope: bool) -> None:
    """`enable_ipv6` with no IPv6 subnet: the engine must have a pool to take one from."""
    if spec.get("enable_ipv6") is not True or ipam.subnet6 is not None or any(
            "subnet" in mapping(e) and ":" in str(mapping(e).get("subnet"))
            for e in listing(mapping(spec.get("ipam")).get("config"))):
        return
    path = f"networks.{name}.enable_ipv6"
    if global_scope:
        ctx.err(path, "enable_ipv6 on a swarm-scoped network needs an explicit IPv6 subnet in "
                      "`ipam.config`: the swarm's default pools are IPv4 only")
        return
    old = [h for h in on if not h.engine.knows(ULA_SINCE) and not h.daemon.default_address_pools6]
    if old:
        names = ", ".join(f"{h.name} ({h.engine.name})" for h in old)
        ctx.err(path, f"enable_ipv6 without an IPv6 subnet: the engine of host {names} has no IPv6 "
                      f"address pool to take one from (dockerd derives a ULA pool from {ULA_SINCE}); "
                      "give the network an IPv6 subnet in `ipam.config`")


@dataclass(frozen=True)
class Daemon6:
    ipv6: bool = False
    fixed_cidr_v6: IPv6Network | None = None
    pools6: tuple[Pool6, ...] = ()


def read_daemon6(ctx: Context, raw: dict[Any, Any], path: str, engine: Engine) -> Daemon6:
    ipv6 = raw.get("ipv6") is True
    fixed = ctx.net6(raw.get("fixed-cidr-v6"), f"{path}.fixed-cidr-v6")
    refusal = subnet_refusal(fixed) if fixed is not None else None
    if refusal is not None:
        ctx.err(f"{path}.fixed-cidr-v6", f"{refusal} (dockerd refuses it)")
        fixed = None
    elif fixed is not None and fixed.prefixlen == 128:
        ctx.err(f"{path}.fixed-cidr-v6", f"{fixed} is too small for the default bridge: Docker keeps "
                                         "back its first address and needs one more for the gateway")
        fixed = None
    pools6 = _pools6(ctx, raw, path)
    if ipv6 and "fixed-cidr-v6" not in raw and not engine.knows(ULA_SINCE) and not pools6:
        ctx.err(f"{path}.ipv6", f"`ipv6: true` needs `fixed-cidr-v6` on Docker {engine.name}: it has no "
                                "IPv6 pool for the default bridge (dockerd derives a ULA pool from "
                                f"{ULA_SINCE})")
    return Daemon6(ipv6, fixed, pools6)


def _pools6(ctx: Context, raw: dict[Any, Any], path: str) -> tuple[Pool6, ...]:
    pools: list[Pool6] = []
    for i, p in enumerate(listing(raw.get("default-address-pools"))):
        p = mapping(p)
        base, size = p.get("base"), p.get("size")
        if not (isinstance(base, str) and ":" in base):
            continue        # an IPv4 pool: hosts.py reads it
        ppath = f"{path}.default-address-pools[{i}]"
        net = ctx.net6(base, f"{ppath}.base")
        if "size" not in p:
            ctx.err(ppath, "a pool needs both `base` (a CIDR) and `size` (a prefix length)")
        elif net is not None and isinstance(size, int) and not isinstance(size, bool):
            if not net.prefixlen <= size <= 127:
                ctx.err(f"{ppath}.size", f"size {size} must be between the base prefix /{net.prefixlen} and /127")
            else:
                pools.append(Pool6(net, size))
    return tuple(pools)


def is_v6_pool(p: object) -> bool:
    base = mapping(p).get("base")
    return isinstance(base, str) and ":" in base
