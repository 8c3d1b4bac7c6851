"""`networks`: user-defined networks, checked; their subnets are allocated per host later
(subnets.py), in file order. What a driver takes and refuses is the driver's (drivers/)."""
from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from ... import drivers
from ...drivers.options import Option
from .. import naming
from ..context import DOCKER_NAME_RULE, Context, get, listing, mapping
from ..ipam import first_host
from ..specs import NetworkSpec
from ..topology import Host
from .aux import read_aux
from .ipv6 import check_pool_needed, read_ipam

BUILTIN_NETWORKS = ("bridge", "host", "none")
GATEWAY_MODE4 = "com.docker.network.bridge.gateway_mode_ipv4"


def read_networks(ctx: Context, hosts: Mapping[str, Host]) -> dict[str, NetworkSpec]:
    out: dict[str, NetworkSpec] = {}
    for name, spec in mapping(ctx.data.get("networks")).items():
        path = f"networks.{name}"
        spec = mapping(spec)
        if name in BUILTIN_NETWORKS:
            how = "configure the default bridge through a host's `daemon:`" if name == "bridge" else \
                f"use `network_mode: {name}` on a container, and another name for a network"
            ctx.err(path, f"{name!r} is one of Docker's built-in networks (bridge, host, none); {how}")
            continue
        if not naming.DOCKER_NAME.fullmatch(str(name)):
            ctx.err(path, f"network name {name!r} {DOCKER_NAME_RULE}")
        driver = _driver(ctx, spec, path)
        ipam = read_ipam(ctx, spec, path)
        subnet, gateway, ip_range = _addressing(ctx, ipam.v4, ipam.v4_path)
        isolated = mapping(spec.get("driver_opts")).get(GATEWAY_MODE4) == "isolated"
        aux = read_aux(ctx, ipam.v4, ipam.v4_path, subnet, gateway, isolated) if ipam.v4 is not spec else ()
        listed = listing(spec.get("hosts"))
        for i, h in enumerate(listed):
            if isinstance(h, str) and h not in hosts:
                ctx.err(f"{path}.hosts[{i}]", f"unknown host {h!r}{ctx.suggest(h, hosts)}")
        spans = tuple(h for h in listed if isinstance(h, str))     # others: the schema said
        _swarm_allowed(ctx, driver, [hosts[h] for h in spans or hosts if h in hosts], f"{path}.driver")
        check_pool_needed(ctx, str(name), spec, ipam, [hosts[h] for h in spans or hosts if h in hosts],
                          drivers.DRIVERS[driver].global_scope)
        out[str(name)] = NetworkSpec(
            name=str(name), driver=driver, subnet=subnet, gateway=gateway, ip_range=ip_range,
            internal=spec.get("internal") is True,
            options=_options(ctx, driver, spec, path, [hosts[h] for h in spans or hosts if h in hosts]),
            hosts=spans or None, enable_ipv6=spec.get("enable_ipv6") is True,
            subnet6=ipam.subnet6, gateway6=ipam.gateway6, ip_range6=ipam.ip_range6,
            path6=ipam.path6, aux=aux, aux6=ipam.aux6, attachable=spec.get("attachable") is True)
    return out


def _driver(ctx: Context, spec: dict[Any, Any], path: str) -> str:
    driver = get(spec, "driver", "bridge")
    if not isinstance(driver, str):
        return "bridge"     # the schema reported the type
    if driver not in drivers.DRIVERS:
        ctx.err(f"{path}.driver", f"unknown driver {driver!r}{ctx.suggest(driver, tuple(drivers.DRIVERS))}")
        return "bridge"
    return driver


_Addressing = tuple[IPv4Network | None, IPv4Address | None, IPv4Network | None]    # subnet, gateway, ip_range


def _addressing(ctx: Context, spec: dict[Any, Any], path: str) -> _Addressing:
    subnet = ctx.net(spec.get("subnet"), f"{path}.subnet")
    gateway = ctx.addr(spec.get("gateway"), f"{path}.gateway")
    ip_range = ctx.net(spec.get("ip_range"), f"{path}.ip_range")
    if "subnet" not in spec:
        for key in ("gateway", "ip_range"):
            if key in spec:
                ctx.err(f"{path}.{key}", f"`{key}` needs an explicit `subnet` (as "
                                         f"`docker network create --{key.replace('_', '-')}` does)")
    if subnet is not None:
        if gateway is not None and (gateway not in subnet or gateway in (
                subnet.network_address, subnet.broadcast_address)):
            ctx.err(f"{path}.gateway", f"gateway {gateway} is not a usable address of subnet {subnet}; "
                                       f"use one inside it, such as {first_host(subnet)}")
        if ip_range is not None and not ip_range.subnet_of(subnet):
            ctx.err(f"{path}.ip_range", f"ip_range {ip_range} is not inside subnet {subnet}")
    return subnet, gateway, ip_range


def _options(ctx: Context, driver: str, spec: dict[Any, Any], path: str,
             on: list[Host]) -> tuple[tuple[str, str], ...]:
    """driver_opts as strings, the keys checked against the driver's and the values by its
    checks: a bad value is reported and dropped, so segments read valid ones only. An option
    (or value) newer than the engine of a host `on` which the network lives is refused there."""
    known = tuple(o.key for o in drivers.DRIVERS[driver].options)
    opts: dict[str, str] = {}
    for key, value in mapping(spec.get("driver_opts")).items():
        if key not in known:
            other = next((d.name for d in drivers.DRIVERS.values() if key in (o.key for o in d.options)), None)
            ctx.err(f"{path}.driver_opts.{key}",
                    f"option {key!r} is for the {other} driver, not {driver}; the {driver} "
                    f"driver takes {', '.join(known)}" if other else
                    f"unknown option {key!r} for the {driver} driver{ctx.suggest(key, known)}")
            continue
        opts[key] = str(value).lower() if isinstance(value, bool) else str(value)
    options = {o.key: o for o in drivers.DRIVERS[driver].options}
    kept = tuple((k, v) for k, v in opts.items() if options[k].check(ctx, v, f"{path}.driver_opts.{k}"))
    return tuple((k, v) for k, v in kept if _engines_know(ctx, options[k], v, f"{path}.driver_opts.{k}", on))


def _swarm_allowed(ctx: Context, driver: str, on: list[Host], path: str) -> None:
    """dockerd refuses swarm mode, which global-scope networks need, with nftables (29)."""
    nft = [h for h in on if h.engine.backend == "nftables"]
    if drivers.DRIVERS[driver].global_scope and nft:
        names = ", ".join(f"{h.name} ({h.engine.name})" for h in nft)
        ctx.err(path, f"an {driver} network needs swarm mode, which Docker does not allow with its nftables "
                      f"firewall backend (host {names}); use an iptables engine there, such as \"29.7\"")


def _engines_know(ctx: Context, option: Option, value: str, path: str, on: list[Host]) -> bool:
    since = option.introduced(value)
    old = [h for h in on if since and not h.engine.knows(since)]
    if old:
        what = f"{option.key}={value}" if since != option.since else option.key
        names = ", ".join(f"{h.name} ({h.engine.name})" for h in old)
        ctx.err(path, f"{what} was introduced in Docker {since}; the engine of host {names} does not "
                      f"know it: choose a later `engine:` or leave the option out")
    return not old
