"""`hosts`: each Docker host's underlay address and daemon.json settings."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from ...engine import DEFAULT as DEFAULT_ENGINE
from ...engine import ENGINES, Engine, engine_named
from .. import naming
from ..context import Context, listing, mapping
from ..topology import Daemon, Host, Pool, Underlay
from .ipv6 import is_v6_pool, read_daemon6

DAEMON_FLAGS = ("icc", "ip-masq", "iptables", "ip-forward", "userland-proxy")


def read_hosts(ctx: Context, underlay: Underlay) -> dict[str, Host]:
    raw = ctx.data.get("hosts")
    # not a mapping (the schema said so): go on with the default host, not with none
    raw = raw if isinstance(raw, dict) else {"node1": None}
    if not raw and isinstance(ctx.data.get("hosts"), dict):
        ctx.err("hosts", "no hosts: list at least one, or leave `hosts:` out for node1")
    wanted = _wanted_addresses(ctx, raw, underlay)
    taken = {underlay.gateway} | {a for a in wanted.values() if a is not None}
    hosts: dict[str, Host] = {}
    base = int(underlay.subnet.network_address) + 105
    for name, a in wanted.items():
        if a is None:
            cand = base
            while IPv4Address(cand) in taken and cand < int(underlay.subnet.broadcast_address):
                cand += 1
            a = IPv4Address(cand)
            if a not in underlay.subnet or a == underlay.subnet.broadcast_address:
                ctx.err(f"hosts.{name}", f"no free underlay address left in {underlay.subnet}; "
                                         "give the host an `address:`")
            taken.add(a)
        engine = read_engine(ctx, mapping(raw[name]), f"hosts.{name}")
        daemon = read_daemon(ctx, mapping(mapping(raw[name]).get("daemon")), f"hosts.{name}.daemon", engine)
        hosts[name] = Host(str(name), naming.netns(ctx.lab, str(name)), a, daemon, engine)
    return hosts


def read_engine(ctx: Context, spec: dict[Any, Any], path: str) -> Engine:
    """The host's engine: `--engine`, else its own `engine:`, else the lab's, else 20.10."""
    if ctx.engine is not None:
        engine = engine_named(ctx.engine)
        if engine is None:      # the CLI offers known names only: a notebook's mistake
            ctx.err("engine", f"the engine asked for, {ctx.engine!r}, is unknown; known engines: "
                              f"{', '.join(repr(n) for n in ENGINES)}")
            return DEFAULT_ENGINE
        return engine
    for where, value in ((f"{path}.engine", spec.get("engine")), ("engine", ctx.data.get("engine"))):
        if value is None:
            continue
        engine = engine_named(value)
        if engine is None:
            ctx.err(where, f"unknown engine {value!r}; known engines: "
                           f"{', '.join(repr(n) for n in ENGINES)} (quote the version: \"28.5\")")
            return DEFAULT_ENGINE
        return engine
    return DEFAULT_ENGINE


def _wanted_addresses(ctx: Context, raw: dict[Any, Any], underlay: Underlay) -> dict[Any, IPv4Address | None]:
    """Each host's `address:` as written (None: to be picked), with names and clashes checked."""
    taken = {underlay.gateway}
    wanted: dict[Any, IPv4Address | None] = {}
    for name, spec in raw.items():
        path = f"hosts.{name}"
        if not naming.HOST_NAME.fullmatch(str(name)) or len(str(name)) > naming.MAX_HOST_NAME:
            ctx.err(path, f"host name {name!r} must be 1-{naming.MAX_HOST_NAME} characters of "
                          f"[a-z0-9-] starting with a letter or digit (it names the underlay "
                          f"port {naming.underlay_port(str(name))!r}, and interface names are "
                          f"limited to {naming.IFNAMSIZ} characters)")
        spec = mapping(spec)
        a = ctx.addr(spec.get("address"), f"{path}.address") if "address" in spec else None
        if a is not None:
            if a not in underlay.subnet or a in (underlay.subnet.network_address,
                                                 underlay.subnet.broadcast_address):
                ctx.err(f"{path}.address", f"{a} is not a usable address of the underlay "
                                           f"subnet {underlay.subnet}")
            elif a in taken:
                owner = "the underlay gateway" if a == underlay.gateway else \
                    f"host {next(n for n, x in wanted.items() if x == a)!r}"
                ctx.err(f"{path}.address", f"{a} is already used by {owner}; give each host its own address")
            taken.add(a)
        wanted[name] = a
    return wanted


def read_daemon(ctx: Context, raw: dict[Any, Any], path: str, engine: Engine = DEFAULT_ENGINE) -> Daemon:
    d = Daemon()
    bip = _bip(ctx, raw, path)
    fixed = ctx.net(raw.get("fixed-cidr"), f"{path}.fixed-cidr")
    if fixed is not None and (bip is not None or "bip" not in raw):  # else: bip's error says it
        base = bip.network if bip else IPv4Network("172.17.0.0/16")
        if not fixed.subnet_of(base):
            ctx.err(f"{path}.fixed-cidr", f"{fixed} is not inside the default bridge subnet {base}")
    mtu = raw.get("mtu", 1500)
    if isinstance(mtu, int) and not (mtu == 0 or 68 <= mtu <= 65535):
        ctx.err(f"{path}.mtu", f"MTU {mtu} is out of range 68-65535")
    ip = ctx.addr(raw.get("ip"), f"{path}.ip") if "ip" in raw else None
    d6 = read_daemon6(ctx, raw, path, engine)
    if raw.get("ip6tables") is True and not engine.knows("27.0"):
        # before 27.0 ip6tables needed `experimental`, and netlab reproduces no rule it wrote so
        ctx.err(f"{path}.ip6tables", f"ip6tables was experimental before Docker 27.0 and netlab does not "
                                     f"reproduce engine {engine.name}'s ip6tables rules; choose engine "
                                     f"\"28.5\" or later, or leave the key out")
    flags = {k: raw[k] if isinstance(raw.get(k), bool) else getattr(d, k.replace("-", "_"))
             for k in DAEMON_FLAGS}
    return Daemon(
        bip=bip, fixed_cidr=fixed,
        icc=flags["icc"], ip_masq=flags["ip-masq"], iptables=flags["iptables"],
        ip_forward=flags["ip-forward"], userland_proxy=flags["userland-proxy"],
        # the engine's default: on from 27.0, so dockerd writes its ip6tables chains unasked
        ip6tables=raw["ip6tables"] if isinstance(raw.get("ip6tables"), bool) else engine.ip6tables,
        mtu=(mtu or 1500) if isinstance(mtu, int) else 1500,
        ip=ip or d.ip,
        default_address_pools=_pools(ctx, raw, path),
        dns=tuple(x for x in listing(raw.get("dns")) if isinstance(x, str)),
        dns_search=tuple(x for x in listing(raw.get("dns-search")) if isinstance(x, str)),
        dns_opts=tuple(x for x in listing(raw.get("dns-opts")) if isinstance(x, str)),
        ipv6=d6.ipv6, fixed_cidr_v6=d6.fixed_cidr_v6, default_address_pools6=d6.pools6,
    )


def _bip(ctx: Context, raw: dict[Any, Any], path: str) -> IPv4Interface | None:
    if not isinstance(raw.get("bip"), str):
        return None
    try:
        bip = IPv4Interface(raw["bip"])
    except ValueError:
        ctx.err(f"{path}.bip", f"{raw['bip']!r} is not an address with prefix such as 172.17.0.1/16")
        return None
    if bip.network.prefixlen >= 31 or bip.ip in (bip.network.network_address, bip.network.broadcast_address):
        ctx.err(f"{path}.bip", f"{raw['bip']!r} must be a gateway address with its "
                               "prefix, such as 172.17.0.1/16")
        return None
    return bip


def _pools(ctx: Context, raw: dict[Any, Any], path: str) -> tuple[Pool, ...]:
    pools: list[Pool] = []
    for i, p in enumerate(listing(raw.get("default-address-pools"))):
        if is_v6_pool(p):
            continue        # ipv6.py reads it
        ppath = f"{path}.default-address-pools[{i}]"
        p = mapping(p)
        base = ctx.net(p.get("base"), f"{ppath}.base")
        size = p.get("size")
        if "base" not in p or "size" not in p:
            ctx.err(ppath, "a pool needs both `base` (a CIDR) and `size` (a prefix length)")
        elif base is not None and isinstance(size, int):
            if not base.prefixlen <= size <= 30:
                ctx.err(f"{ppath}.size", f"size {size} must be between the base prefix "
                                         f"/{base.prefixlen} and /30")
            else:
                pools.append(Pool(base, size))
    return tuple(pools)
