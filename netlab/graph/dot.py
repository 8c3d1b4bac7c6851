"""A Scene as Graphviz DOT: nested `subgraph cluster_*` for host > namespace > interfaces,
HTML-like labels, links pointed downwards so `dot` stacks outside above the hosts and the
containers below them."""
from __future__ import annotations

import math
import re
from html import escape

from .shapes import CLUSTER_FILL, Box, Cluster, Line, Scene

FONT = "DejaVu Sans"
MONO = "DejaVu Sans Mono"


def to_dot(scene: Scene) -> str:
    out = [
        f"digraph {_q(scene.title)} {{",
        f'  graph [rankdir=TB, newrank=true, compound=true, fontname="{FONT}", fontsize=13, '
        f'labelloc=t, label={_title(scene)}, nodesep=0.3, ranksep=0.55, pad=0.3, '
        f'bgcolor="white", outputorder=edgesfirst];',
        f'  node [fontname="{FONT}", fontsize=11, margin="0.12,0.05"];',
        f'  edge [fontname="{FONT}", fontsize=10, arrowsize=0.7];',
    ]
    placed: set[str] = set()
    for cluster in scene.clusters:
        out += _cluster(cluster, scene, "  ", placed)
    for box_id, box in scene.boxes.items():
        if box_id not in placed:
            out.append("  " + _node(box))
    for line in scene.lines:
        out.append("  " + _edge(line))
    out += _rows(scene)
    out.append("}")
    return "\n".join(out) + "\n"


def _rows(scene: Scene) -> list[str]:
    """Each tier one rank across every cluster, and the tiers in order (newrank allows both)."""
    rows: dict[int, list[str]] = {}
    for box in scene.boxes.values():
        if box.tier is not None:
            rows.setdefault(box.tier, []).append(box.id)
    out, prev = [], None
    for tier in sorted(rows):
        out.append("  { rank=same; " + " ".join(_q(b) for b in rows[tier]) + " }")
        if prev is not None:
            out.append(f"  {_q(rows[prev][0])} -> {_q(rows[tier][0])} [style=invis, weight=0];")
        prev = tier
    return out


# Where a cluster's title goes so that no line crosses it: lines enter a host from above and
# leave a container upwards only, so their titles sit at the bottom; outside is left
# downwards only. A host's namespace and an overlay sandbox have lines on both sides: their
# title is a node in their top row, which dot routes lines around.
LABEL_AT = {"host": "b", "container": "b", "outside": "t", "netns": "t"}


def _cluster(c: Cluster, scene: Scene, pad: str, placed: set[str]) -> list[str]:
    style = "rounded,filled" if c.kind != "host" else "rounded,filled,bold"
    # without rows (a path alone) lines run through every cluster, top to bottom
    free = all(b.tier is None for b in scene.boxes.values())
    as_node = (c.kind not in LABEL_AT or free) and bool(c.boxes)
    label = '""' if as_node else _cluster_label(c)
    lines = [f"{pad}subgraph {_q('cluster_' + _ident(c.id))} {{",
             f'{pad}  label={label}; style="{style}"; fillcolor="{CLUSTER_FILL.get(c.kind, "#ffffff")}"; '
             f'color="{"#555555" if c.kind == "host" else "#a0a0a0"}"; fontsize={13 if c.kind == "host" else 11}; '
             f"labeljust=l; labelloc={LABEL_AT.get(c.kind, 't')}; margin=10;"]
    tiers = [t for b in c.boxes if (t := scene.boxes[b].tier) is not None]
    if as_node:
        title = _q(f"title:{c.id}")
        lines.append(f"{pad}  {title} [shape=plaintext, margin=0.02, label={_cluster_label(c)}];")
        top = next(b for b in c.boxes if scene.boxes[b].tier == min(tiers)) if tiers else c.boxes[0]
        lines.append(f"{pad}  {{ rank=same; {title}; {_q(top)} }}")
        lines.append(f"{pad}  {title} -> {_q(top)} [style=invis];")
    for box_id in c.boxes:
        lines.append(f"{pad}  " + _node(scene.boxes[box_id]))
        placed.add(box_id)
    for child in c.children:
        lines += _cluster(child, scene, pad + "  ", placed)
    lines.append(f"{pad}}}")
    return lines


def _cluster_label(c: Cluster) -> str:
    first, _, rest = c.label.partition("\n")
    html = f"<b>{escape(first)}</b>"
    if rest:
        html += f'<br/><font point-size="9" color="#666666">{escape(rest)}</font>'
    return f"<{html}>"


def _node(box: Box) -> str:
    if box.shape == "note":
        return f"{_q(box.id)} [shape=plaintext, margin=0, label=<{_note(box)}>];"
    rows = [f'<font color="{box.ink}"><b>{escape(box.title)}</b></font>']
    rows += [f'<font point-size="9" color="{box.ink}">{escape(x)}</font>' for x in box.lines]
    shape = "box"
    style = "filled,bold" if box.shape == "drop" else "rounded,filled"
    extra = ", peripheries=2" if box.double else ""
    return (f'{_q(box.id)} [shape={shape}, style="{style}", fillcolor="{box.fill}", color="{box.border}", '
            f'penwidth={box.penwidth}{extra}, label=<{"<br/>".join(rows)}>];')


# DejaVu Sans Mono's advance is 0.602 em. Graphviz (Pango) measures a line of it ~1.5%
# narrower than Chromium draws it: a long rule ran 14 px past its box. A mono cell is given
# the room its characters take (points at 9 pt, plus the cell's padding).
MONO_ADVANCE = 0.61


def _note(box: Box) -> str:
    cells = [f'<tr><td colspan="2" align="left"><b>{escape(box.title)}</b></td></tr>']
    for step, text, colour in box.rows:
        width = math.ceil(len(text) * MONO_ADVANCE * 9) + 4
        number = f'<font color="{colour}"><b>{escape(step)}</b></font>' if step else ""
        cells.append(f'<tr><td align="right">{number}</td>'
                     f'<td align="left" width="{width}"><font face="{MONO}" point-size="9">{escape(text)}</font>'
                     f'</td></tr>')
    return (f'<table border="1" cellborder="0" cellspacing="0" cellpadding="2" bgcolor="{box.fill}" '
            f'color="#b0a060">{"".join(cells)}</table>')


def _edge(line: Line) -> str:
    attrs = [f'color="{":".join(line.colours)}"', f"style={line.style}", f"dir={line.arrows}",
             f"penwidth={line.penwidth}"]
    if line.label:
        colour = line.colours[0] if line.kind == "path" or line.penwidth > 1 else "#555555"
        # non-breaking spaces keep the first digit clear of a thick or slanted line
        gap = "\u00a0" * (2 if line.penwidth > 1 else 1)
        text = "<br/>".join(gap + escape(x) for x in line.label.split("\n"))
        attrs.append(f"label=<<font color=\"{colour}\">{text}</font>>")
    if not line.constraint:
        attrs.append("constraint=false")
    if line.kind == "layout":
        attrs.append("weight=2")
    return f"{_q(line.u)} -> {_q(line.v)} [{', '.join(attrs)}];"


def _title(scene: Scene) -> str:
    html = f"<b>{escape(scene.title)}</b>"
    if scene.caption:
        html += f'<br/><font point-size="10" color="#555555">{escape(scene.caption)}</font>'
    return f"<{html}>"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ident(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)
