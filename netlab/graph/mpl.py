"""A Scene drawn with matplotlib, for machines without Graphviz: a nested box layout of our
own. Each cluster stacks its contents in bands (one per starting row: a host's namespace
above its overlay sandboxes above its containers), side by side within a band; a
namespace lays its interfaces in rows by tier. Lines join box edges; labels sit on a
white backing so lines never run through them."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .shapes import CLUSTER_FILL, Box, Cluster, Line, Scene

if TYPE_CHECKING:               # matplotlib is imported when a picture is drawn, not before
    from matplotlib.axes import Axes
    from matplotlib.patches import FancyBboxPatch

LINE_H, PAD, GAP, LABEL_H = 14.0, 8.0, 22.0, 30.0
FONT = "DejaVu Sans"
# DejaVu's average advance is about 0.6 em; at 100 dpi one point is 100/72 pixels
TITLE_PT, TEXT_PT, NOTE_PT = 8.5, 7.0, 7.0


def text_width(text: str, points: float, bold: bool = False) -> float:
    return len(text) * points * 100 / 72 * (0.66 if bold else 0.6)


@dataclass
class Rect:
    x: float
    y: float                        # top; y grows downwards while laying out
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


def _box_size(box: Box) -> tuple[float, float]:
    if box.shape == "note":
        widths = [text_width(box.title, NOTE_PT + 1, True)] + [text_width(f"{s:>3} {t}", NOTE_PT) * 1.05
                                                               for s, t, _ in box.rows]
        return max(widths) + 2 * PAD, (len(box.rows) + 1) * LINE_H + PAD
    widths = [text_width(box.title, TITLE_PT, True)] + [text_width(t, TEXT_PT) for t in box.lines]
    return max(widths) + 2 * PAD, (len(box.lines) + 1) * LINE_H + PAD


class Layout:
    def __init__(self, scene: Scene):
        self.scene = scene
        self.rects: dict[str, Rect] = {}
        self.frames: list[tuple[Cluster, Rect]] = []

    def tier_of(self, c: Cluster) -> int:
        tiers = [t for b in c.boxes if (t := self.scene.boxes[b].tier) is not None]
        tiers += [self.tier_of(ch) for ch in c.children]
        return min(tiers, default=0)

    def notes(self, c: Cluster) -> list[str]:
        return [b for b in c.boxes if self.scene.boxes[b].shape == "note"]

    def measure(self, c: Cluster) -> tuple[float, float]:
        w, h = self._measure_body(c)
        notes = [_box_size(self.scene.boxes[b]) for b in self.notes(c)]
        if notes:
            w += max(n[0] for n in notes) + GAP
            h = max(h, LABEL_H + sum(n[1] for n in notes) + GAP * len(notes))
        return w, h

    def _measure_body(self, c: Cluster) -> tuple[float, float]:
        rows = self._rows(c)
        row_sizes = [(sum(_box_size(self.scene.boxes[b])[0] for b in r) + GAP * (len(r) - 1),
                      max(_box_size(self.scene.boxes[b])[1] for b in r)) for r in rows]
        bands = self._bands(c.children)
        band_sizes = [(sum(self.measure(ch)[0] for ch in band) + GAP * (len(band) - 1),
                       max(self.measure(ch)[1] for ch in band)) for band in bands]
        parts = row_sizes + band_sizes
        w = max((p[0] for p in parts), default=60) + 2 * PAD
        h = sum(p[1] for p in parts) + GAP * max(len(parts) - 1, 0) + LABEL_H + PAD
        return max(w, text_width(c.label.split("\n")[0], TITLE_PT, True) + 2 * PAD), h

    def _rows(self, c: Cluster) -> list[list[str]]:
        rows: dict[int, list[str]] = {}
        for b in c.boxes:
            if self.scene.boxes[b].shape == "note":
                continue
            rows.setdefault(self.scene.boxes[b].tier or 0, []).append(b)
        return [rows[t] for t in sorted(rows)]

    def _bands(self, children: list[Cluster]) -> list[list[Cluster]]:
        bands: dict[int, list[Cluster]] = {}
        for ch in children:
            bands.setdefault(self.tier_of(ch), []).append(ch)
        return [bands[t] for t in sorted(bands)]

    def place(self, c: Cluster, x: float, y: float) -> None:
        w, h = self.measure(c)
        self.frames.append((c, Rect(x, y, w, h)))
        ny = y + LABEL_H
        for b in self.notes(c):
            nw, nh = _box_size(self.scene.boxes[b])
            self.rects[b] = Rect(x + w - PAD - nw, ny, nw, nh)
            ny += nh + GAP
        if self.notes(c):
            w = self._measure_body(c)[0]
        cy = y + LABEL_H
        for row in self._rows(c):
            sizes = [_box_size(self.scene.boxes[b]) for b in row]
            total = sum(s[0] for s in sizes) + GAP * (len(row) - 1)
            cx = x + (w - total) / 2
            for b, (bw, bh) in zip(row, sizes):
                self.rects[b] = Rect(cx, cy, bw, bh)
                cx += bw + GAP
            cy += max(s[1] for s in sizes) + GAP
        for band in self._bands(c.children):
            sizes = [self.measure(ch) for ch in band]
            total = sum(s[0] for s in sizes) + GAP * (len(band) - 1)
            cx = x + (w - total) / 2
            for ch, (cw, _) in zip(band, sizes):
                self.place(ch, cx, cy)
                cx += cw + GAP
            cy += max(s[1] for s in sizes) + GAP

    def run(self) -> tuple[float, float]:
        top = Cluster("", "", "netns", [b for b in self.scene.boxes if not self._placed_in_cluster(b)],
                      self.scene.clusters)
        w, h = self.measure(top)
        self.place(top, 0, 0)
        self.frames = [(c, r) for c, r in self.frames if c is not top]
        return w, h

    def _placed_in_cluster(self, box_id: str) -> bool:
        def inside(cs: list[Cluster]) -> bool:
            return any(box_id in c.boxes or inside(c.children) for c in cs)
        return inside(self.scene.clusters)


def render(scene: Scene, fmt: str) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    layout = Layout(scene)
    w, h = layout.run()
    title_h = 50.0
    dpi = 100
    fig = plt.figure(figsize=((w + 20) / dpi, (h + title_h + 20) / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-10, w + 10)
    ax.set_ylim(h + 10, -title_h)
    ax.axis("off")
    ax.text(w / 2, -title_h + 14, scene.title, ha="center", va="top", fontsize=11, fontweight="bold", family=FONT)
    if scene.caption:
        ax.text(w / 2, -title_h + 32, scene.caption, ha="center", va="top", fontsize=8, color="#555555", family=FONT)
    for c, r in layout.frames:
        ax.add_patch(FancyBboxPatch((r.x, r.y), r.w, r.h, boxstyle="round,pad=0,rounding_size=8",
                                    fc=CLUSTER_FILL.get(c.kind, "#ffffff"),
                                    ec="#555555" if c.kind == "host" else "#a0a0a0",
                                    lw=1.6 if c.kind == "host" else 0.8, zorder=1))
        first, _, rest = c.label.partition("\n")
        ax.text(r.x + PAD, r.y + 5, first, ha="left", va="top", fontsize=8.5, fontweight="bold", family=FONT, zorder=2)
        if rest:
            ax.text(r.x + PAD, r.y + 17, rest, ha="left", va="top", fontsize=7, color="#666666", family=FONT, zorder=2)
    taken = list(layout.rects.values()) + [_title_rect(c, r) for c, r in layout.frames]
    for line in scene.lines:
        _line(ax, layout.rects, line, taken)
    for box_id, r in layout.rects.items():
        _box(ax, scene.boxes[box_id], r, FancyBboxPatch)
    out = io.BytesIO()
    fig.savefig(out, format=fmt, dpi=dpi)
    plt.close(fig)
    return out.getvalue()


def _title_rect(c: Cluster, r: Rect) -> Rect:
    first = c.label.split("\n")[0]
    return Rect(r.x + PAD, r.y + 3, text_width(first, TITLE_PT, True), 26)


def _free_spot(p: tuple[float, float], q: tuple[float, float], w: float, h: float,
               taken: list[Rect]) -> tuple[float, float]:
    """Where along p-q a label of w x h touches no box, no title and no other label."""
    def clear(x: float, y: float) -> bool:
        return all(not (x < o.x + o.w + 3 and o.x < x + w + 3 and y - h / 2 < o.y + o.h and o.y < y + h / 2)
                   for o in taken)
    for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.12, 0.88):
        x, y = p[0] + (q[0] - p[0]) * t + 4, p[1] + (q[1] - p[1]) * t
        if clear(x, y):
            return x, y
    return p[0] + (q[0] - p[0]) * 0.5 + 4, p[1] + (q[1] - p[1]) * 0.5


def _line(ax: Axes, rects: dict[str, Rect], line: Line, taken: list[Rect]) -> None:
    if line.style == "invis" or line.u not in rects or line.v not in rects:
        return
    a, b = rects[line.u], rects[line.v]
    if abs((a.y + a.h / 2) - (b.y + b.h / 2)) < 1:       # same row: side to side
        left, right = (a, b) if a.x < b.x else (b, a)
        p, q = (left.x + left.w, left.y + left.h / 2), (right.x, right.y + right.h / 2)
    else:
        upper, lower = (a, b) if a.y < b.y else (b, a)
        p, q = (upper.cx, upper.y + upper.h), (lower.cx, lower.y)
    n = len(line.colours)
    style = {"solid": "-", "dashed": "--", "dotted": ":"}.get(line.style, "-")
    for i, colour in enumerate(line.colours):
        off = (i - (n - 1) / 2) * 2.5
        ax.plot([p[0] + off, q[0] + off], [p[1], q[1]], color=colour, lw=line.penwidth, ls=style, zorder=3)
    if line.label:
        colour = line.colours[0] if line.penwidth > 1 else "#555555"
        rows = line.label.split("\n")
        w, h = max(text_width(r, 7.5) for r in rows) + 4, 11 * len(rows) + 2
        x, y = _free_spot(p, q, w, h, taken)
        taken.append(Rect(x, y - h / 2, w, h))
        ax.text(x, y, line.label, fontsize=7.5, color=colour, family=FONT,
                ha="left", va="center", zorder=6, bbox={"fc": "white", "ec": "none", "pad": 0.5, "alpha": 0.9})


def _box(ax: Axes, box: Box, r: Rect, patch: type[FancyBboxPatch]) -> None:
    style = "square,pad=0" if box.shape in ("note", "drop") else "round,pad=0,rounding_size=6"
    ax.add_patch(patch((r.x, r.y), r.w, r.h, boxstyle=style, fc=box.fill, ec=box.border,
                       lw=box.penwidth, zorder=4))
    if box.double:
        ax.add_patch(patch((r.x - 3, r.y - 3), r.w + 6, r.h + 6, boxstyle="round,pad=0,rounding_size=8",
                           fc="none", ec=box.border, lw=box.penwidth, zorder=4))
    if box.shape == "note":
        ax.text(r.x + PAD, r.y + 4, box.title, ha="left", va="top", fontsize=8, fontweight="bold", family=FONT,
                zorder=5)
        for i, (step, text, colour) in enumerate(box.rows, 1):
            y = r.y + 4 + i * LINE_H
            ax.text(r.x + PAD, y, f"{step:>3}", ha="left", va="top", fontsize=7, color=colour,
                    fontweight="bold", family="DejaVu Sans Mono", zorder=5)
            ax.text(r.x + PAD + text_width("000 ", NOTE_PT), y, text, ha="left", va="top", fontsize=7,
                    family="DejaVu Sans Mono", zorder=5)
        return
    ax.text(r.cx, r.y + 4, box.title, ha="center", va="top", fontsize=TITLE_PT, fontweight="bold", color=box.ink,
            family=FONT, zorder=5)
    for i, text in enumerate(box.lines, 1):
        ax.text(r.cx, r.y + 4 + i * LINE_H, text, ha="center", va="top", fontsize=TEXT_PT, color=box.ink,
                family=FONT, zorder=5)
