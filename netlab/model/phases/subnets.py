"""Subnets, per host and network, in Docker's order: the default bridge first, explicit
subnets claimed before automatic ones, a global (swarm) scope beside each host's local one.
The result is every network's segment on every host it spans."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Network
from typing import Any

from ... import drivers
from ...drivers import gwbridge
from ...engine import DEFAULT as DEFAULT_ENGINE
from ...engine import Engine
from .. import naming
from ..context import Context, Stop, get, mapping
from ..ipam import SubnetAllocator, global_pools, local_pools
from ..specs import NetworkSpec
from ..topology import Host, Segment, Underlay
from .subnets6 import HostSubnets6

Segments = dict[str, dict[str, Segment]]


@dataclass
class _Swarm:
    """The global scope: one subnet and one VNI per global-scope network, for all hosts."""

    subnets: dict[str, IPv4Network | None] = field(default_factory=dict)
    vnis: dict[str, int] = field(default_factory=dict)


def swarm_engine(hosts: Mapping[str, Host]) -> Engine:
    """The global scope is the swarm manager's, and the first host inits the swarm."""
    return next(iter(hosts.values())).engine if hosts else DEFAULT_ENGINE


def _global(net: NetworkSpec) -> bool:
    return drivers.DRIVERS[net.driver].global_scope


def users_of_networks(ctx: Context, hosts: Mapping[str, Host], raw: Mapping[Any, Any]) -> dict[str, set[str | None]]:
    """network -> the hosts of the containers that list it, read from the file as written."""
    users: dict[str, set[str | None]] = {}
    for spec in raw.values():
        spec = mapping(spec)
        nets = spec.get("networks")
        names = nets if isinstance(nets, list) else list(mapping(nets))
        for n in names:
            if isinstance(n, str):
                host = get(spec, "host", next(iter(hosts), None))
                users.setdefault(n, set()).add(host if isinstance(host, str) else None)
    return users


def hosts_of(net: NetworkSpec, hosts: Mapping[str, Host], users: dict[str, set[str | None]]) -> list[str]:
    """The hosts a network spans: those listed, all for a global-scope one, else those of its
    containers (or all, when none uses it)."""
    if net.hosts is not None:
        return [h for h in hosts if h in net.hosts]
    if _global(net):
        return list(hosts)
    used = users.get(net.name, set())
    return [h for h in hosts if h in used] or list(hosts)


def _swarm(networks: Mapping[str, NetworkSpec], hosts: Mapping[str, Host]) -> _Swarm:
    engine = swarm_engine(hosts)
    alloc = SubnetAllocator(global_pools(engine))
    for n in networks.values():
        if _global(n) and n.subnet is not None:
            alloc.claim(n.subnet)
    swarm = _Swarm()
    vni = engine.overlay_first_vni
    for name, n in networks.items():
        if _global(n):
            swarm.vnis[name] = vni
            vni += 1
            swarm.subnets[name] = n.subnet or alloc.auto()
    return swarm


def allocate_subnets(ctx: Context, underlay: Underlay, hosts: Mapping[str, Host],
                     networks: Mapping[str, NetworkSpec], raw: Mapping[Any, Any]) -> Segments:
    users = users_of_networks(ctx, hosts, raw)
    segments: Segments = {h: {} for h in hosts}
    swarm = _swarm(networks, hosts)
    for hname, host in hosts.items():
        mine = [networks[net] for net in networks if hname in hosts_of(networks[net], hosts, users)]
        _HostSubnets(ctx, underlay, host, networks, swarm, segments[hname]).run(mine)
    return segments


class _HostSubnets:
    """One host's local address space: its pools, what took each subnet, its segments."""

    def __init__(self, ctx: Context, underlay: Underlay, host: Host, networks: Mapping[str, NetworkSpec],
                 swarm: _Swarm, out: dict[str, Segment]) -> None:
        self.ctx, self.underlay, self.host, self.networks, self.swarm, self.out = \
            ctx, underlay, host, networks, swarm, out
        pools = host.daemon.default_address_pools or local_pools(host.engine)
        self.alloc = SubnetAllocator(pools, reserved=(underlay.subnet,))
        self.owner: dict[IPv4Network, str] = {}
        self.v6 = HostSubnets6(ctx, host)

    def run(self, mine: list[NetworkSpec]) -> None:
        # explicit subnets first, so automatic ones step around them
        bridge_net = self.default_bridge()
        self.v6.default_bridge()
        for n in mine:
            self.claim(n)
            self.v6.claim(n)
        self.out["bridge"] = self.v6.segment(
            drivers.bridge.default_segment(self.ctx.lab, self.host, bridge_net), None)
        for n in mine:
            self.v6.place(n)
            self.place(n)

    def default_bridge(self) -> IPv4Network:
        d = self.host.daemon
        path = f"hosts.{self.host.name}.daemon"
        if d.bip is not None:
            bridge_net: IPv4Network | None = d.bip.network
            self.alloc.claim(d.bip.network)
        else:
            bridge_net = self.alloc.auto()
        if bridge_net is None:
            self.ctx.err(path, "no free address pool for the default bridge; set `bip`")
            raise Stop
        self.owner[bridge_net] = "the default bridge"
        if bridge_net.overlaps(self.underlay.subnet):
            self.ctx.err(f"{path}.bip", f"default bridge subnet {bridge_net} overlaps the underlay "
                                        f"{self.underlay.subnet}")
        return bridge_net

    def claim(self, n: NetworkSpec) -> None:
        """An explicit local subnet (or a global one, checked against the local ones)."""
        sub = self.swarm.subnets.get(n.name) if _global(n) else n.subnet
        if sub is None or _global(n) and n.subnet is None:
            return
        on_underlay = sub.overlaps(self.underlay.subnet) and not drivers.DRIVERS[n.driver].on_underlay
        clash = self.alloc.overlaps(sub) or (sub if on_underlay else None)
        if clash is not None:
            other = self.owner.get(clash, f"the underlay {self.underlay.subnet}")
            self.ctx.err(f"networks.{n.name}.subnet",
                         f"subnet {sub} overlaps {other} ({clash}) on host {self.host.name!r}")
        else:
            self.alloc.claim(sub)
            self.owner[sub] = f"network {n.name!r}"

    def place(self, n: NetworkSpec) -> None:
        hname = self.host.name
        if _global(n):
            self.join_swarm(n)
            sub = self.swarm.subnets[n.name]
            if n.subnet is None and sub is not None and self.alloc.overlaps(sub):
                self.ctx.err(f"networks.{n.name}", f"automatic overlay subnet {sub} overlaps a local "
                                                   f"network on host {hname!r}; give it a `subnet`")
        else:
            sub = n.subnet or self.alloc.auto()
            if n.subnet is None and sub is not None:
                self.owner[sub] = f"network {n.name!r}"
        if sub is None:
            self.ctx.err(f"networks.{n.name}", f"no free address pool left on host {hname!r}; give it a `subnet`")
            return
        driver = drivers.DRIVERS[n.driver]
        seg = self.v6.segment(driver.segment(self.ctx.lab, n, self.host, sub, self.swarm.vnis.get(n.name, 0)), n)
        if n.aux or n.aux6:
            seg = replace(seg, aux_addresses=n.aux, aux_addresses6=n.aux6 if seg.subnet6 is not None else ())
        self.out[n.name] = seg

    def join_swarm(self, n: NetworkSpec) -> None:
        """The host joins the swarm before its first global-scope network, and joining makes
        docker_gwbridge from the next free local pool."""
        if naming.GWBRIDGE in self.out or naming.GWBRIDGE in self.networks:
            return
        gwb = self.alloc.auto()
        if gwb is None:
            self.ctx.err(f"networks.{n.name}", f"no free address pool left on host {self.host.name!r} "
                                               f"for {naming.GWBRIDGE}")
        else:
            self.out[naming.GWBRIDGE] = gwbridge.segment(self.ctx.lab, self.host.name, gwb)
