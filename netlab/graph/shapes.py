"""What a picture is made of, before any renderer lays it out: boxes (interfaces, rule
tables, the drop point), clusters (namespaces inside hosts) and lines, with the palette both
renderers share."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..trace.model import REPLY, REQUEST

FILL = {"bridge": "#d6e6f5", "veth": "#ffffff", "vxlan": "#fde0c5", "macvlan": "#dcefd2",
        "vlan": "#dcefd2", "lo": "#eeeeee", None: "#ffffff"}
CLUSTER_FILL = {"outside": "#f4f4f4", "host": "#fbfbf2", "netns-host": "#fffbe6", "container": "#eef5fb",
                "overlay": "#fdf1e6", "netns": "#ffffff"}
LEG_COLOUR = {REQUEST: "#d62728", REPLY: "#1f77b4"}
DIM = "#9a9a9a"
INK = "#222222"
VXLAN = "#e07b00"                   # a VXLAN device to the interface its outer packets use
ROLE_LEVEL = {"outside": 0, "host": 1, "overlay": 2, "container": 3}
# rows of the picture, top to bottom, as the seed's diagrams draw a lab: outside's bridge and
# ports, a host's uplink, bridges and bridge ports, overlay sandboxes, containers
TIER_BASE = {"outside": 0, "host": 3, "overlay": 6, "container": 9}


@dataclass(kw_only=True)
class Box:
    """An interface (or the drop point, or a table of rules) as drawn."""

    id: str
    title: str
    lines: list[str] = field(default_factory=list)
    fill: str = "#ffffff"
    border: str = INK
    ink: str = INK
    penwidth: float = 1.0
    double: bool = False            # the probe arrived here
    shape: str = "box"              # box | drop | note
    tier: int | None = None         # the row it sits in (TIERS), None: wherever fits
    rows: list[tuple[str, str, str]] = field(default_factory=list)   # note: (step, text, colour)


@dataclass
class Cluster:
    id: str
    label: str
    kind: str                       # outside | host | netns-host | container | overlay | netns
    boxes: list[str] = field(default_factory=list)
    children: list[Cluster] = field(default_factory=list)


@dataclass(kw_only=True)
class Line:
    """A link, or a step of the packet's path that follows no link."""

    u: str
    v: str
    kind: str                       # a topology edge kind, or `path`
    label: str = ""
    colours: list[str] = field(default_factory=lambda: [INK])
    style: str = "solid"            # solid | dashed | dotted | invis
    arrows: str = "none"            # none | forward | both
    constraint: bool = True         # shapes the layout (False: drawn over it)
    penwidth: float = 1.0


@dataclass
class Scene:
    title: str
    boxes: dict[str, Box]
    clusters: list[Cluster]
    lines: list[Line]
    caption: str = ""


# ---- text that fits its box ----------------------------------------------------------------
# A rule longer than this wraps at its spaces (a continuation line indented), so that a
# namespace's table of rules does not widen the picture past a window, and no renderer's
# guess at a font's width can push a long line past its box.
WRAP = 60
INDENT = "\u00a0\u00a0"             # non-breaking: renderers keep it


def wrap(text: str, width: int = WRAP) -> list[str]:
    """`text` in lines of at most `width` characters, broken at spaces (a word longer than
    a line is cut); lines after the first are indented."""
    room = width - len(INDENT)
    words = [w[i:i + room] for w in text.split(" ") for i in range(0, max(len(w), 1), room)]
    lines = [words[0]]
    for word in words[1:]:
        limit = width if len(lines) == 1 else room
        if len(lines[-1]) + 1 + len(word) > limit:
            lines.append(word)
        else:
            lines[-1] += " " + word
    return lines[:1] + [INDENT + x for x in lines[1:]]


def wrapped(scene: Scene, width: int = WRAP) -> Scene:
    """The scene with every long line of a box and every long row of a table wrapped (a
    continuation row has no step number)."""
    boxes = {}
    for key, box in scene.boxes.items():
        rows = [(step if i == 0 else "", part, colour)
                for step, text, colour in box.rows for i, part in enumerate(wrap(text, width))]
        lines = [part for text in box.lines for part in wrap(text, width)]
        boxes[key] = replace(box, rows=rows, lines=lines)
    return replace(scene, boxes=boxes)
