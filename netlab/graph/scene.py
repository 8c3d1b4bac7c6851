"""What a picture shows, before any renderer lays it out: boxes for interfaces nested in
their namespace and host, the links between them, and a packet's path drawn over them
(path.py; the shapes and the palette: shapes.py).

Both renderers (Graphviz's DOT and the matplotlib fallback) draw a Scene, so they show the
same things with the same words and colours."""
from __future__ import annotations

import networkx as nx

from .path import draw_path
from .schema import DROP
from .shapes import CLUSTER_FILL, DIM, FILL, ROLE_LEVEL, TIER_BASE, VXLAN, Box, Cluster, Line, Scene


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


def _title(topo: nx.Graph, trace: nx.MultiDiGraph | None) -> str:
    lab = topo.graph.get("project") or topo.graph["lab"]     # a Compose lab: its project's name
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
    box = Box(id=node, title=title, lines=lines, fill=FILL.get(d["link"], "#ffffff"))
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
        line = Line(u=u, v=v, kind=d["kind"], label=d.get("label", ""))
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
                    out.append(Line(u=up, v=n, kind="layout", style="invis"))
    return out


def _downward(topo: nx.Graph, ns: dict[str, dict], u: str, v: str, kind: str) -> tuple[str, str]:
    if kind == "port" or kind in ("macvlan", "vlan"):
        return u, v                     # built as (bridge, port) and (parent, child)
    lu, lv = (ROLE_LEVEL.get(ns[topo.nodes[n]["netns"]]["role"], 3) for n in (u, v))
    return (v, u) if lv < lu else (u, v)


def _columns(topo: nx.Graph, boxes: dict[str, Box]) -> dict[str, float]:
    """A left-to-right key per interface: each sits under the average of the interfaces it
    hangs off in the rows above, so veth pairs and bridge ports do not cross."""
    key: dict[str, float] = {}
    for row in sorted({b.tier for b in boxes.values() if b.tier is not None}):   # lab_scene set every tier
        nodes = [n for n, b in boxes.items() if b.tier == row]
        raw: dict[str, tuple[float, int]] = {}
        for i, n in enumerate(nodes):
            d = topo.nodes[n]
            above = [key[m] for m in topo.neighbors(n) if m in key] or \
                [key[m] for m in key if topo.nodes[m]["netns"] == d["netns"]] or \
                [key[m] for m in key if d["host"] and topo.nodes[m]["host"] == d["host"]] or [float(i)]
            raw[n] = (sum(above) / len(above), i)
        for position, n in enumerate(sorted(nodes, key=lambda n: raw[n])):
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
        hosts[name] = Cluster(f"host_{name}", host_label(name, info), "host")
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


def host_label(name: str, info: dict) -> str:
    """`node1  (Docker 28.5, 10.0.0.1)`: the engine says which rules the host's namespace holds."""
    engine = info.get("engine")
    return f"{name}  (Docker {engine or 'host'}, {info['address']})"


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
    topo = nx.Graph(lab=trace.graph["lab"], project=trace.graph.get("project"), namespaces={}, hosts={})
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
