"""Pictures of a lab and of one packet's way through it: the only networkx importer.

    from netlab import graph
    g = graph.lab_graph("topologies/demo.yaml")     # a file (no root) or a live lab's name
    t = graph.trace_graph(trace, g)                  # a Trace from netlab.trace
    graph.save("demo.svg", g, t)                     # .svg .png .dot .html
    graph.draw(g, t, "png")                          # bytes (str for dot)

Node and edge attributes: see schema.py. Layout: Graphviz's `dot` when installed, else
matplotlib (render.py)."""
from __future__ import annotations

import os

import networkx as nx

from ..errors import LabError
from .build import live_graph, topology_graph, trace_graph
from .render import FORMATS, GraphError, engine, inline_svg, render
from .scene import Scene, lab_scene, trace_scene

__all__ = ["FORMATS", "GraphError", "draw", "engine", "for_target", "format_of", "html", "lab_graph", "live_graph", "save", "scene",
           "svg", "topology_graph", "trace_graph", "trace_html", "trace_svg"]


def lab_graph(target) -> nx.Graph:
    """The topology graph of a lab file, a Topology, or (by name) a lab that is up."""
    from ..plan.planner import build_plan
    from ..model import load_file
    from ..model.topology import Topology
    if isinstance(target, Topology):
        return topology_graph(target, build_plan(target))
    if os.path.isfile(target):
        topo = load_file(target)
        return topology_graph(topo, build_plan(topo))
    return live_graph(target)


def for_target(target: str, src: str | None = None, dst: str | None = None, proto: str | None = None,
               port: int | None = None, predict: bool = False) -> tuple[nx.Graph, nx.MultiDiGraph | None]:
    """What `netlab graph FILE|LAB [--trace SRC DST]` draws: a file's lab and its predicted
    path (no root), or a live lab and a live trace (root), or its predicted path (--predict)."""
    # the functions' own modules: importing netlab.trace.predict rebinds the package's
    # `predict` attribute to that module, so `from ..trace import predict` is unreliable
    from ..trace.predict import predict_trace
    from ..trace.session import trace as live_trace
    is_file = os.path.isfile(target)
    topology = lab_graph(target)
    if src is None:
        return topology, None
    if is_file:
        t = predict_trace(target, src, dst, proto=proto, port=port)
    elif predict:
        from ..app.lifecycle import snapshot_topology
        t = predict_trace(snapshot_topology(target), src, dst, proto=proto, port=port)
    else:
        t = live_trace(target, src, dst, proto=proto, port=port)
    return topology, trace_graph(t, topology)


def scene(topology: nx.Graph | None = None, trace: nx.MultiDiGraph | None = None) -> Scene:
    if topology is not None:
        return lab_scene(topology, trace)
    if trace is None:
        raise GraphError("nothing to draw: give a lab graph, a trace graph or both")
    return trace_scene(trace)


def draw(topology: nx.Graph | None = None, trace: nx.MultiDiGraph | None = None, fmt: str = "svg"):
    """The picture as bytes (svg, png) or text (dot, html)."""
    if fmt == "html":
        return html(topology, trace)
    data = render(scene(topology, trace), fmt)
    return data.decode() if fmt == "dot" else data


def svg(topology: nx.Graph | None = None, trace: nx.MultiDiGraph | None = None) -> str:
    return inline_svg(render(scene(topology, trace), "svg"))


def html(topology: nx.Graph | None = None, trace: nx.MultiDiGraph | None = None) -> str:
    """A standalone page: the picture and the tables under it."""
    from .webpage import fragment, page
    return page(scene(topology, trace).title, fragment(svg(topology, trace), topology, trace))


def format_of(path: str) -> str:
    """The picture format a file name asks for, by its suffix."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in FORMATS:
        raise GraphError(f"{path}: unknown picture format {fmt!r}; name the file .svg, .png, .dot or .html")
    return fmt


def save(path: str, topology: nx.Graph | None = None, trace: nx.MultiDiGraph | None = None) -> str:
    """Write the picture in the format its suffix names; returns the format."""
    fmt = format_of(path)
    data = draw(topology, trace, fmt)
    try:
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
    except OSError as e:
        raise GraphError(f"cannot write {path}: {e.strerror}") from None
    return fmt


# ---- what Jupyter calls (Trace._repr_svg_ / _repr_html_) ----------------------------------
def _known_lab(lab: str) -> nx.Graph | None:
    """The lab's graph when it is up here (so a trace is drawn on it), else None."""
    from ..app import state
    try:
        if state.load(lab) is None:
            return None
        from ..app.loop import off_loop
        return off_loop(live_graph, lab)
    except (LabError, OSError):
        return None


def trace_svg(trace, topology: nx.Graph | None = None) -> str:
    topology = topology if topology is not None else _known_lab(trace.lab)
    return svg(topology, trace_graph(trace, topology))


def trace_html(trace, topology: nx.Graph | None = None) -> str:
    from .webpage import fragment
    topology = topology if topology is not None else _known_lab(trace.lab)
    tg = trace_graph(trace, topology)
    return fragment(svg(topology, tg), topology, tg, styled=True)
