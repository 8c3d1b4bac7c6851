"""A Scene to DOT text, SVG or PNG: Graphviz's `dot` lays it out when it is installed
(Debian package graphviz), else the matplotlib fallback draws it."""
from __future__ import annotations

import os
import shutil
import subprocess

from ..errors import NetlabError
from .dot import to_dot
from .shapes import Scene, wrapped

FORMATS = ("svg", "png", "dot", "html")
ENGINE = "NETLAB_GRAPH_ENGINE"      # `matplotlib` forces the fallback (tests, comparisons)


class GraphError(NetlabError):
    """A picture cannot be made: unknown format, a layout engine that failed."""


def engine() -> str:
    """`graphviz` when the `dot` binary is here, else `matplotlib`."""
    if os.environ.get(ENGINE) == "matplotlib" or not shutil.which("dot"):
        return "matplotlib"
    return "graphviz"


def render(scene: Scene, fmt: str) -> bytes:
    scene = wrapped(scene)
    if fmt == "dot":
        return to_dot(scene).encode()
    if fmt not in ("svg", "png"):
        raise GraphError(f"cannot draw {fmt!r}: use one of {', '.join(FORMATS)}")
    if engine() == "graphviz":
        return _graphviz(to_dot(scene), fmt)
    try:
        from . import mpl
    except ImportError:
        raise GraphError("drawing needs Graphviz (apt-get install graphviz) or matplotlib "
                         "(pip install matplotlib)") from None
    return mpl.render(scene, fmt)


def _graphviz(text: str, fmt: str) -> bytes:
    proc = subprocess.run(["dot", f"-T{fmt}"], input=text.encode(), capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise GraphError(f"graphviz failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def inline_svg(svg: bytes) -> str:
    """An SVG document as an element to put in HTML (no XML prolog, no DOCTYPE)."""
    text = svg.decode()
    return text[text.find("<svg"):]
