"""From a parsed lab file to a Topology: defaults, references, IPAM and ports, with every
problem collected (file, line, key path) before anything is returned. The work is done by
the phases (phases/), one per top-level key, in the order their results depend on."""
from __future__ import annotations

from .. import drivers
from ..errors import TopologyError
from . import naming
from .context import Context, Stop
from .phases import (
    allocate_subnets,
    attach,
    check_names,
    read_containers,
    read_expect,
    read_hosts,
    read_name,
    read_networks,
    read_outside,
    read_outside_routes,
    read_underlay,
)
from .phases.lan6 import give_lan_ipv6, lan_address_clashes
from .schema import check_shape
from .source import Source
from .topology import Topology


def load_text(text: str | bytes, file: str = "<string>", engine: str | None = None) -> Topology:
    from .source import parse_text
    return resolve(parse_text(text, file), engine)


def load_file(path: str, engine: str | None = None) -> Topology:
    """`engine`: every host runs this engine, whatever the file says (`--engine`)."""
    from .source import parse_file
    return resolve(parse_file(path), engine)


def resolve(src: Source, engine: str | None = None) -> Topology:
    shape = src.problems + check_shape(src)
    if shape and not isinstance(src.data, dict):
        raise TopologyError(shape)
    ctx = Context(src, engine)
    try:
        topo: Topology | None = run(ctx)
    except Stop:
        topo = None
    except Exception:
        if not shape:
            raise
        topo = None  # a wrong shape confused a later check; the shape errors say why
    if shape or ctx.diags:
        raise TopologyError(shape + ctx.diags)
    assert topo is not None
    return topo


def run(ctx: Context) -> Topology:
    """Every phase, reporting into `ctx`; Stop when there is anything to report."""
    ctx.lab = read_name(ctx)
    underlay = read_underlay(ctx)
    outside, outside6 = read_outside(ctx)
    hosts = read_hosts(ctx, underlay)
    networks = read_networks(ctx, hosts)
    raw = ctx.data.get("containers")
    raw = raw if isinstance(raw, dict) else {}
    check_names(ctx, hosts, raw)
    specs = read_containers(ctx, hosts, networks, raw)
    segments = allocate_subnets(ctx, underlay, hosts, networks, raw)
    underlay, outside6 = give_lan_ipv6(ctx, underlay, hosts, segments, outside6)
    routes = read_outside_routes(ctx, underlay, hosts, segments)
    for driver in drivers.DRIVERS.values():
        for path, message in driver.segment_problems(segments):
            ctx.err(path, message)
    containers = attach(ctx, underlay, hosts, specs, segments)
    paths = {(s.name, ep.network): ep.path for s in specs.values() for ep in s.endpoints}
    lan_address_clashes(ctx, underlay, hosts, containers, paths)
    for driver in drivers.DRIVERS.values():
        for path, message in driver.endpoint_problems(containers, segments, paths):
            ctx.err(path, message)
    expect = read_expect(ctx, hosts, containers)
    if ctx.diags:
        raise Stop
    return Topology(
        name=ctx.lab,
        file=ctx.src.file,
        underlay=underlay,
        outside_netns=naming.netns(ctx.lab, "outside"),
        outside_addresses=outside,
        outside_routes=routes,
        outside_addresses6=outside6,
        hosts=tuple(hosts.values()),
        segments=tuple(s for per_host in segments.values() for s in per_host.values()),
        containers=tuple(containers),
        expect=tuple(expect),
        network_order=tuple(networks),
    )
