"""Pictures of a lab and of one packet's way through it: the only networkx importer.

    from netlab import graph
    g = graph.lab_graph("topologies/demo.yaml")     # a file or a Topology (no root)
    t = graph.trace_graph(trace, g)                  # a Trace from netlab.trace
    graph.save("demo.svg", g, t)                     # .svg .png .dot .html
    graph.draw(g, t, "png")                          # bytes (str for dot)

Pure: graph reads no kernel. A live lab's graph (what its namespaces hold now) comes from the
app layer, which observes the kernel and gives plain data to `observed_graph`:
`netlab.app.observe_lab.lab_graph("demo")`.

Node and edge attributes: see schema.py. Layout: Graphviz's `dot` when installed, else
matplotlib (render.py)."""
from __future__ import annotations

import os

import networkx as nx

from ..model.topology import Topology
from ..trace.model import Trace
from .build import Observed, observed_graph, topology_graph, trace_graph
from .render import FORMATS, GraphError, engine, inline_svg, render
from .scene import Scene, lab_scene, trace_scene

LabGraph = nx.Graph                 # a lab: interfaces and their links (schema.py)
PathGraph = nx.MultiDiGraph         # one probe's way: one edge per hop

__all__ = ["FORMATS", "GraphError", "LabGraph", "Observed", "PathGraph", "draw", "engine", "format_of", "html",
           "lab_graph", "observed_graph", "save", "scene", "svg", "topology_graph", "trace_graph", "trace_html",
           "trace_svg"]


def lab_graph(target: Topology | str) -> nx.Graph:
    """The topology graph of a Topology or of a lab file (as planned: no kernel is read)."""
    from ..model import load_file
    from ..plan.planner import build_plan
    topo = target if isinstance(target, Topology) else load_file(target)
    return topology_graph(topo, build_plan(topo))


def scene(topology: nx.Graph | None = None, trace: nx.MultiDiGraph | None = None) -> Scene:
    if topology is not None:
        return lab_scene(topology, trace)
    if trace is None:
        raise GraphError("nothing to draw: give a lab graph, a trace graph or both")
    return trace_scene(trace)


def draw(topology: nx.Graph | None = None, trace: nx.MultiDiGraph | None = None, fmt: str = "svg") -> bytes | str:
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
# `topology`: the lab the trace is drawn on (the app layer looks up a live one); None: the
# path alone.
def trace_svg(trace: Trace, topology: nx.Graph | None = None) -> str:
    return svg(topology, trace_graph(trace, topology))


def trace_html(trace: Trace, topology: nx.Graph | None = None) -> str:
    from .webpage import fragment
    tg = trace_graph(trace, topology)
    return fragment(svg(topology, tg), topology, tg, styled=True)
