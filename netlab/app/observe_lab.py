"""A live lab's picture: read what its namespaces hold now (the kernel) and give it, as plain
data, to the pure graph builder (netlab.graph.observed_graph); and what `netlab graph` draws
for a FILE or a LAB."""
from __future__ import annotations

import os
from collections.abc import Iterable

from .. import graph
from ..errors import KernelError, LabError
from ..model.topology import Topology
from . import compose_labs, state
from .loop import off_loop
from .tracing import for_target

__all__ = ["graph_for", "known_lab_graph", "lab_graph", "live_graph", "observe_links"]


def observe_links(namespaces: Iterable[str]) -> graph.Observed:
    """Each namespace's interfaces (name -> up), or None where the namespace is missing or
    cannot be read (needs root)."""
    from ..kernel import netns
    from ..kernel.observe import read_netns
    out: graph.Observed = {}
    for ns in namespaces:
        try:
            links = read_netns(ns).links if netns.exists(ns) else None
        except (OSError, KernelError):
            links = None
        out[ns] = None if links is None else {name: link.up for name, link in links.items()}
    return out


def live_graph(lab: str) -> graph.LabGraph:
    """The lab as last brought up, with what its namespaces hold now (needs root to read them)."""
    st = state.load(lab)
    if st is None:
        raise state.not_up(lab)
    g = graph.topology_graph(state.snapshot_topology(lab), st.plan)
    return graph.observed_graph(g, observe_links(g.graph["namespaces"]))


def lab_graph(target: Topology | str) -> graph.LabGraph:
    """The topology graph of a lab file, a Topology, or (by name) a lab that is up."""
    if isinstance(target, Topology):
        return graph.lab_graph(target)
    if os.path.isfile(target):          # a lab file or a Compose file
        return graph.lab_graph(compose_labs.load(target).topology)
    return live_graph(compose_labs.lab_of(target))


def known_lab_graph(lab: str) -> graph.LabGraph | None:
    """The lab's graph when it is up here (so a trace is drawn on it), else None."""
    try:
        if state.load(lab) is None:
            return None
        return off_loop(live_graph, lab)
    except (LabError, OSError):
        return None


def graph_for(target: str, src: str | None = None, dst: str | None = None, proto: str | None = None,
              port: int | None = None, predict: bool = False,
              family: int | None = None, by_name: bool = True) -> tuple[graph.LabGraph, graph.PathGraph | None]:
    """What `netlab graph FILE|LAB [--trace SRC DST]` draws: a file's lab and its predicted
    path (no root), or a live lab and a live trace (root), or its predicted path (--predict).
    `by_name`: DST's name resolved as SRC would first (False: `--no-resolve`)."""
    is_file = os.path.isfile(target)
    topology = lab_graph(target)
    if src is None or dst is None:
        return topology, None
    t = for_target(target, src, dst, proto=proto, port=port, predict=predict or is_file, family=family,
                   by_name=by_name)
    return topology, graph.trace_graph(t, topology)
