"""What a picture shows, before any renderer lays it out: boxes for interfaces nested in
their namespace and host, the links between them, and a packet's path drawn over them.

Both renderers (Graphviz's DOT and the matplotlib fallback) draw a Scene, so they show the
same things with the same words and colours."""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from ..trace.model import REPLY, REQUEST
from .schema import DROP

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


@dataclass
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


@dataclass
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


# ---- the lab -----------------------------------------------------------------------------
def lab_scene(topo: nx.Graph, trace: nx.MultiDiGraph | None = None) -> Scene:
    boxes = {n: _box(n, d) for n, d in topo.nodes(data=True)}
    for n, box in boxes.items():
        box.tier = tier(topo, n)
    lines = _links(topo)
    scene = Scene(_title(topo, trace), boxes, _clusters(topo, _columns(topo, boxes)), lines)
    if trace is not None:
        draw_path(scene, trace)
    return scene


def tier(topo: nx.Graph, node: str) -> int:
    """Its row: by the role of its namespace, then bridges below uplinks, ports below bridges."""
    d = topo.nodes[node]
    role = topo.graph["namespaces"][d["netns"]]["role"]
    base = TIER_BASE.get(role, TIER_BASE["container"])
    if d.get("master"):
        return base + 2
    if d["link"] == "bridge" or (d["link"] == "lo" and role != "container") or \
            (d["link"] in ("macvlan", "vlan") and role == "host"):
        return base + 1
    return base


def _title(topo: nx.Graph, trace) -> str:
    lab = topo.graph["lab"]
    if trace is None:
        return f"lab {lab}" + (" (live)" if topo.graph.get("source") == "live" else "")
    t = trace.graph["trace"]
    what = t.proto + (f"/{t.port}" if t.port else "")
    return f"lab {lab}: {t.src} \u2192 {t.dst} ({what}, {t.source})"


def _box(node: str, d: dict) -> Box:
    title = d["ifname"]
    lines = []
    if d["link"] == "bridge" and d.get("network"):
        lines.append(f"network {d['network']}")
    elif d["link"] == "vxlan":
        lines.append(f"VXLAN VNI {d['vni']}")
        lines += [f"to VTEP {r}" for r in d.get("remotes") or []]
    elif d["link"] == "macvlan":
        lines.append(f"macvlan {d.get('mode') or ''}".strip())
    lines += d["addresses"]
    box = Box(node, title, lines, fill=FILL.get(d["link"], "#ffffff"))
    if d.get("state") == "missing":
        box.border, box.ink, box.title = "#cc0000", "#cc0000", f"{title} (missing)"
    elif d.get("state") == "down":
        box.border, box.title = DIM, f"{title} (down)"
    return box


def _links(topo: nx.Graph) -> list[Line]:
    """Each link once, pointed away from `outside` so that the layout stacks
    outside > hosts > overlay sandboxes > containers, bridges above their ports."""
    ns = topo.graph["namespaces"]
    out = []
    for u, v, d in topo.edges(data=True):
        if d["kind"] == "tunnel":
            continue        # drawn as each VXLAN device's peer VTEPs: a line across would cut the hosts
        u, v = _downward(topo, ns, u, v, d["kind"])
        line = Line(u, v, d["kind"], d.get("label", ""))
        if d["kind"] == "underlay":
            line.colours, line.style = [VXLAN], "dotted"
        elif d["kind"] == "port":
            line.colours = ["#5a7fa8"]
        out.append(line)
    # a host's uplink sits above its bridges: no link says so, the kernel routes between them
    for space, info in ns.items():
        if info["role"] != "host":
            continue
        nodes = [n for n, d in topo.nodes(data=True) if d["netns"] == space]
        uplinks = [n for n in nodes if topo.nodes[n]["ifname"] == "eth0"]
        for up in uplinks:
            for n in nodes:
                if topo.nodes[n]["link"] == "bridge":
                    out.append(Line(up, n, "layout", style="invis"))
    return out


def _downward(topo, ns, u, v, kind):
    if kind == "port" or kind in ("macvlan", "vlan"):
        return u, v                     # built as (bridge, port) and (parent, child)
    lu, lv = (ROLE_LEVEL.get(ns[topo.nodes[n]["netns"]]["role"], 3) for n in (u, v))
    return (v, u) if lv < lu else (u, v)


def _columns(topo: nx.Graph, boxes: dict[str, Box]) -> dict[str, float]:
    """A left-to-right key per interface: each sits under the average of the interfaces it
    hangs off in the rows above, so veth pairs and bridge ports do not cross."""
    key: dict[str, float] = {}
    for row in sorted({b.tier for b in boxes.values()}):
        nodes = [n for n, b in boxes.items() if b.tier == row]
        raw = {}
        for i, n in enumerate(nodes):
            d = topo.nodes[n]
            above = [key[m] for m in topo.neighbors(n) if m in key] or \
                [key[m] for m in key if topo.nodes[m]["netns"] == d["netns"]] or \
                [key[m] for m in key if d["host"] and topo.nodes[m]["host"] == d["host"]] or [float(i)]
            raw[n] = (sum(above) / len(above), i)
        for position, n in enumerate(sorted(nodes, key=raw.get)):
            key[n] = float(position)
    return key


def _clusters(topo: nx.Graph, column: dict[str, float] | None = None) -> list[Cluster]:
    """outside; each host with its own namespace, its overlay sandboxes, its containers."""
    column = column or {}
    by_ns: dict[str, list[str]] = {}
    for n, d in sorted(topo.nodes(data=True), key=lambda x: column.get(x[0], 0)):
        by_ns.setdefault(d["netns"], []).append(n)
    spaces = topo.graph["namespaces"]

    def place(s: str) -> tuple:
        return (ROLE_LEVEL.get(spaces[s]["role"], 3), min((column.get(n, 0) for n in by_ns.get(s, [])), default=0))
    order = sorted(spaces, key=place)
    tops: list[Cluster] = []
    hosts: dict[str, Cluster] = {}
    for name, info in topo.graph.get("hosts", {}).items():
        hosts[name] = Cluster(f"host_{name}", f"{name}  (Docker host, {info['address']})", "host")
        tops.append(hosts[name])
    for space in order:
        info = spaces[space]
        if space not in by_ns:
            continue
        kind = "netns-host" if info["role"] == "host" else info["role"] if info["role"] in CLUSTER_FILL else "netns"
        c = Cluster(f"ns_{space}", namespace_label(space, info), kind, by_ns[space])
        parent = hosts.get(info.get("host") or "")
        if parent is not None:
            parent.children.append(c)
        else:
            tops.insert(0 if info["role"] == "outside" else len(tops), c)
    return [c for c in tops if c.boxes or c.children]


def namespace_label(space: str, info: dict) -> str:
    role, owner = info["role"], info["owner"]
    others = [c for c in info.get("containers", []) if c != owner]
    if role == "outside":
        text = "outside: router and stand-in internet"
    elif role == "host":
        text = "host namespace" + (f", also the network of {', '.join(others)}" if others else "")
    elif role == "overlay":
        text = f"overlay sandbox {owner.split('@')[-1]}"
    elif role == "container":
        text = f"container {owner}" + (f" (+ {', '.join(others)})" if others else "")
    else:
        text = owner
    if info.get("present") is False:
        text += " (missing)"
    return f"{text}\n{space}"


# ---- the packet ------------------------------------------------------------------------
def trace_scene(trace: nx.MultiDiGraph) -> Scene:
    """The path alone, for a trace whose lab is not at hand: its interfaces by namespace."""
    topo = nx.Graph(lab=trace.graph["lab"], namespaces={}, hosts={})
    for n, d in trace.nodes(data=True):
        if d["kind"] != "interface":
            continue
        topo.add_node(n, kind="interface", link=d.get("link"), netns=d["netns"], ifname=d["ifname"],
                      owner=d["owner"], host=d.get("host"), addresses=[], network=None)
        # without the lab at hand a namespace's role is known only from its name
        role = "outside" if d["owner"] == "outside" else "overlay" if "@" in d["owner"] else "netns"
        topo.graph["namespaces"].setdefault(d["netns"], {"role": role, "owner": d["owner"],
                                                         "host": d.get("host"), "containers": []})
    drop = trace.nodes.get(DROP)
    if drop is not None and drop["netns"] and drop["netns"] not in topo.graph["namespaces"]:
        topo.graph["namespaces"][drop["netns"]] = {"role": "netns", "owner": drop["owner"],
                                                   "host": drop.get("host"), "containers": []}
    scene = Scene(_title(topo, trace), {n: _box(n, d) for n, d in topo.nodes(data=True)}, _clusters(topo), [])
    draw_path(scene, trace, along_links=False)
    return scene


def draw_path(scene: Scene, trace: nx.MultiDiGraph, along_links: bool = True) -> None:
    """Colour the links the packet followed, number its steps, add the steps that follow
    no link (routed, bridged to the same port), the rule tables and the drop point."""
    scene.caption = ("red: the request, blue: the reply; numbers: hop order; "
                     "dashed: a step inside one namespace")
    touched = {n for n in trace.nodes if n in scene.boxes}
    for n, box in scene.boxes.items():
        if n not in touched:
            box.border, box.ink = "#c8c8c8", DIM
    lines = {(ln.u, ln.v): ln for ln in scene.lines}
    marks: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    extra: dict[frozenset, list] = {}
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
    for hits in extra.values():
        scene.lines.append(_extra(hits, constraint=not along_links))
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


def _steps_text(hits) -> str:
    """`2, 12 bridged`, or `4 encapsulated, 18 decapsulated` when the steps differ."""
    steps = [(s, h) for s, h, _ in hits if s is not None]
    hows = list(dict.fromkeys(h for _, h in steps))
    if len(hows) == 1:
        return ", ".join(str(s) for s, _ in steps) + " " + hows[0]
    return "\n".join(f"{s} {h}" for s, h in steps)


def _mark(line: Line, hits) -> None:
    legs = list(dict.fromkeys(leg for _, _, leg in hits))
    line.colours = [LEG_COLOUR[leg] for leg in legs]
    line.penwidth = 2.2
    line.style = "solid" if line.style == "invis" else line.style
    text = _steps_text(hits)
    line.label = f"{text}  ({line.label})" if line.label and text else text or line.label


def _extra(hits, constraint: bool) -> Line:
    u, v, _ = hits[0]
    legs = list(dict.fromkeys(d["leg"] for _, _, d in hits))
    both = {(a, b) for a, b, _ in hits}
    text = _steps_text([(d["step"], d["how"], d["leg"]) for _, _, d in hits])
    inside = u.split("/")[0] == v.split("/")[0]
    return Line(u, v, "path", text, [LEG_COLOUR[leg] for leg in legs], "dashed" if inside else "solid",
                "both" if len(both) > 1 else "forward", constraint, 2.2)


def _endpoints(scene: Scene, trace: nx.MultiDiGraph) -> None:
    for n, d in trace.nodes(data=True):
        box = scene.boxes.get(n)
        if box is None:
            continue
        box.border, box.ink = INK, INK
        if d.get("first"):
            box.border, box.penwidth = LEG_COLOUR[REQUEST], 2.5
            box.lines = box.lines + ["\u25b6 probe sent here (1)"]
        if d.get("delivered"):
            box.double, box.border, box.penwidth = True, "#2ca02c", 2.0
            box.lines = box.lines + [f"\u2714 delivered ({_first_step(d, REQUEST, trace)})"]


def _first_step(d: dict, leg: str, trace) -> str:
    hops = trace.graph["hops"]
    return next((str(s) for s in d["steps"] if hops[s - 1].leg == leg), "")


DECISIVE = ("accept", "drop")
NAT_TARGETS = ("DNAT", "SNAT", "MASQUERADE", "REDIRECT")


def decisive(rule) -> bool:
    """The decisions a picture shows: verdicts and NAT; jumps, returns and policy ACCEPTs of
    the untouched nat chains are in the tables."""
    if rule.kind == "policy":
        return rule.verdict == "drop"
    if rule.kind == "return":
        return False
    return rule.verdict in DECISIVE or (rule.target or "") in NAT_TARGETS or \
        any(f"-j {t}" in (rule.rule or "") for t in NAT_TARGETS)


def rule_text(rule) -> str:
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
            rows.setdefault(d["netns"], []).append((x["step"], f"{nat.kind}: {nat.before} \u2192 {nat.after}", nat.leg))
    for ns, items in rows.items():
        items.sort(key=lambda r: (r[0] is None, r[0] or 0))
        tiers = [b.tier for b in scene.boxes.values() if b.tier is not None and b.id.startswith(f"{ns}/")]
        box = Box(f"rules:{ns}", "iptables on the way", shape="note", fill="#fffde8",
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
    where = f" at {out.ifname}" if out.ifname else ""
    at = scene.boxes.get(f"{out.netns}/{out.ifname}")
    scene.boxes[DROP] = Box(DROP, f"\u2716 {out.status}{where}", [x for x in lines if x], fill="#fde0e0",
                            border="#cc0000", ink="#990000", penwidth=2.0, shape="drop",
                            tier=at.tier if at is not None else None)
    cluster = _find(scene.clusters, f"ns_{d['netns']}")
    if cluster is not None:
        cluster.boxes.append(DROP)
    else:
        scene.clusters.append(Cluster(f"ns_{d['netns']}", d["owner"] or "", "netns", [DROP]))
    for u, _ in trace.in_edges(DROP):
        scene.lines.append(Line(u, DROP, "path", "", [LEG_COLOUR[REQUEST]], "dashed", "forward", True, 2.2))


def _find(clusters: list[Cluster], cid: str) -> Cluster | None:
    for c in clusters:
        if c.id == cid:
            return c
        found = _find(c.children, cid)
        if found is not None:
            return found
    return None
