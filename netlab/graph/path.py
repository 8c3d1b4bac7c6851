"""A packet's path drawn over a scene: the links it followed coloured by leg and numbered by
step, the steps no link shows (routed, bridged to the same port), the rules and NAT rewrites
of each namespace in a table, and the drop point."""
from __future__ import annotations

import networkx as nx

from ..trace.model import REQUEST, RuleHit
from ..trace.vocabulary import SENT, outcome_at, rewrite
from .schema import DROP
from .shapes import DIM, INK, LEG_COLOUR, Box, Cluster, Line, Scene

Hit = tuple[int | None, str, str]       # a step on a drawn link: its number (None: on the way), how, leg


def draw_path(scene: Scene, trace: nx.MultiDiGraph, along_links: bool = True) -> None:
    """Colour the links the packet followed, number its steps, add the steps that follow
    no link (routed, bridged to the same port), the rule tables and the drop point."""
    scene.caption = ("red: the request, blue: the reply; numbers: the hops, as netlab trace numbers them; "
                     "dashed: a step inside one namespace")
    touched = {n for n in trace.nodes if n in scene.boxes}
    for n, box in scene.boxes.items():
        if n not in touched:
            box.border, box.ink = "#c8c8c8", DIM
    lines = {(ln.u, ln.v): ln for ln in scene.lines}
    marks: dict[tuple[str, str], list[Hit]] = {}
    extra: dict[frozenset, list[tuple[str, str, dict]]] = {}
    for u, v, d in sorted(trace.edges(data=True), key=lambda e: e[2]["step"]):
        if v == DROP:
            continue
        path = _along(lines, u, v, d.get("bridge"), trace.nodes[u]["netns"]) if along_links else None
        if path is None:
            extra.setdefault(frozenset((u, v)), []).append((u, v, d))
            continue
        for i, key in enumerate(path):
            marks.setdefault(key, []).append((d["step"] if i == len(path) - 1 else None, d["how"], d["leg"]))
    for key, hits in marks.items():
        _mark(lines[key], hits)
    for edges in extra.values():
        scene.lines.append(_extra(edges, constraint=not along_links))
    _endpoints(scene, trace)
    _tables(scene, trace)
    _drop(scene, trace)


def _along(lines: dict, u: str, v: str, bridge: str | None, ns: str) -> list[tuple[str, str]] | None:
    """The drawn links a step followed: one link, or two through the bridge that switched it."""
    for key in ((u, v), (v, u)):
        if key in lines and lines[key].kind != "layout":
            return [key]
    if bridge:
        br = f"{ns}/{bridge}"
        first = next((k for k in ((u, br), (br, u)) if k in lines), None)
        second = next((k for k in ((br, v), (v, br)) if k in lines), None)
        if first and second:
            return [first, second]
    return None


def _steps_text(hits: list[Hit]) -> str:
    """`2, 12 bridged`, or `4 encapsulated, 18 decapsulated` when the steps differ."""
    steps = [(s, h) for s, h, _ in hits if s is not None]
    hows = list(dict.fromkeys(h for _, h in steps))
    if len(hows) == 1:
        return ", ".join(str(s) for s, _ in steps) + " " + hows[0]
    return "\n".join(f"{s} {h}" for s, h in steps)


def _mark(line: Line, hits: list[Hit]) -> None:
    legs = list(dict.fromkeys(leg for _, _, leg in hits))
    line.colours = [LEG_COLOUR[leg] for leg in legs]
    line.penwidth = 2.2
    line.style = "solid" if line.style == "invis" else line.style
    text = _steps_text(hits)
    line.label = f"{text}  ({line.label})" if line.label and text else text or line.label


def _extra(hits: list[tuple[str, str, dict]], constraint: bool) -> Line:
    u, v, _ = hits[0]
    legs = list(dict.fromkeys(d["leg"] for _, _, d in hits))
    both = {(a, b) for a, b, _ in hits}
    text = _steps_text([(d["step"], d["how"], d["leg"]) for _, _, d in hits])
    inside = u.split("/")[0] == v.split("/")[0]
    return Line(u=u, v=v, kind="path", label=text, colours=[LEG_COLOUR[leg] for leg in legs],
                style="dashed" if inside else "solid", arrows="both" if len(both) > 1 else "forward",
                constraint=constraint, penwidth=2.2)


def _endpoints(scene: Scene, trace: nx.MultiDiGraph) -> None:
    hops = trace.graph["hops"]
    for n, d in trace.nodes(data=True):
        box = scene.boxes.get(n)
        if box is None:
            continue
        box.border, box.ink = INK, INK
        if d.get("first"):
            box.border, box.penwidth = LEG_COLOUR[REQUEST], 2.5
        box.lines = box.lines + [f"\u25b6 {hops[s - 1].leg} {SENT} at hop {s}" for s in d.get("sent", [])]
        if d.get("delivered"):
            box.double, box.border, box.penwidth = True, "#2ca02c", 2.0
            box.lines = box.lines + [f"\u2714 {trace.graph['outcome'].status} {outcome_at(trace.graph['trace'])}"]


DECISIVE = ("accept", "drop")
NAT_TARGETS = ("DNAT", "SNAT", "MASQUERADE", "REDIRECT")


def decisive(rule: RuleHit) -> bool:
    """The decisions a picture shows: verdicts and NAT; jumps, returns and policy ACCEPTs of
    the untouched nat chains are in the tables."""
    if rule.kind == "policy":
        return rule.verdict == "drop"
    if rule.kind == "return":
        return False
    return rule.verdict in DECISIVE or (rule.target or "") in NAT_TARGETS or \
        any(f"-j {t}" in (rule.rule or "") for t in NAT_TARGETS)


def rule_text(rule: RuleHit) -> str:
    if rule.kind == "policy":
        return f"{rule.table} {rule.chain}: policy {rule.verdict.upper()}"
    return f"{rule.table} {(rule.rule or rule.chain).removeprefix('-A ')}"


def _tables(scene: Scene, trace: nx.MultiDiGraph) -> None:
    """One table per namespace: the decisive rules and NAT rewrites, by step."""
    rows: dict[str, list] = {}
    for n, d in trace.nodes(data=True):
        if n == DROP:
            continue
        for r in d["rules"]:
            if decisive(r["rule"]) and r["rule"].verdict != "drop":
                rows.setdefault(d["netns"], []).append((r["step"], rule_text(r["rule"]), r["rule"].leg))
        for x in d["nat"]:
            nat = x["nat"]
            rows.setdefault(d["netns"], []).append((x["step"], rewrite(nat), nat.leg))
    for ns, items in rows.items():
        items.sort(key=lambda r: (r[0] is None, r[0] or 0))
        tiers = [b.tier for b in scene.boxes.values() if b.tier is not None and b.id.startswith(f"{ns}/")]
        box = Box(id=f"rules:{ns}", title="netfilter on the way", shape="note", fill="#fffde8",
                  rows=[(str(s) if s else "", text, LEG_COLOUR[leg]) for s, text, leg in items],
                  tier=min(tiers, default=None))
        scene.boxes[box.id] = box
        cluster = _find(scene.clusters, f"ns_{ns}")
        if cluster is not None:
            cluster.boxes.append(box.id)
        else:
            scene.clusters.append(Cluster(f"notes_{ns}", ns, "netns", [box.id]))


def _drop(scene: Scene, trace: nx.MultiDiGraph) -> None:
    if DROP not in trace:
        return
    d = trace.nodes[DROP]
    out = d["outcome"]
    lines = [out.reason or ""]
    if out.rule:
        lines.append(f"{out.table} {out.rule.removeprefix('-A ')}")
    elif out.chain:
        lines.append(f"{out.table} {out.chain}")
    lines.append(outcome_at(trace.graph["trace"]))
    where = f" at {out.ifname}" if out.ifname else ""
    at = scene.boxes.get(f"{out.netns}/{out.ifname}")
    scene.boxes[DROP] = Box(id=DROP, title=f"\u2716 {out.status}{where}", lines=[x for x in lines if x], fill="#fde0e0",
                            border="#cc0000", ink="#990000", penwidth=2.0, shape="drop",
                            tier=at.tier if at is not None else None)
    cluster = _find(scene.clusters, f"ns_{d['netns']}")
    if cluster is not None:
        cluster.boxes.append(DROP)
    else:
        scene.clusters.append(Cluster(f"ns_{d['netns']}", d["owner"] or "", "netns", [DROP]))
    for u, _ in trace.in_edges(DROP):
        scene.lines.append(Line(u=u, v=DROP, kind="path", label="", colours=[LEG_COLOUR[REQUEST]], style="dashed",
                                arrows="forward", constraint=True, penwidth=2.2))


def _find(clusters: list[Cluster], cid: str) -> Cluster | None:
    for c in clusters:
        if c.id == cid:
            return c
        found = _find(c.children, cid)
        if found is not None:
            return found
    return None
