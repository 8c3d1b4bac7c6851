"""netlab.graph from files alone: the graphs' schema, the DOT nesting, every output format
with both layout engines, and the legibility of the pictures (no two boxes overlap, no
label sits on a box) checked on Graphviz's own layout."""
from __future__ import annotations

import html
import itertools
import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from netlab import graph
from netlab.cli import main
from netlab.graph.schema import DROP, LINKS, TOPOLOGY_EDGES
from netlab.trace.predict import predict_trace as predict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "topologies", "demo.yaml")
OVERLAY = os.path.join(ROOT, "topologies", "overlay.yaml")
MACVLAN = os.path.join(ROOT, "topologies", "macvlan.yaml")
needs_dot = pytest.mark.skipif(not shutil.which("dot"), reason="Graphviz (dot) is not installed")


@pytest.fixture(scope="module")
def demo():
    return graph.lab_graph(DEMO)


@pytest.fixture(scope="module")
def overlay():
    return graph.lab_graph(OVERLAY)


def test_topology_graph_of_the_demo_lab(demo):
    ns = demo.graph["namespaces"]
    assert demo.graph["lab"] == "demo" and demo.graph["source"] == "file"
    assert ns["demo-node1"]["role"] == "host" and ns["demo-a1"]["host"] == "node1"
    assert ns["demo-outside"]["host"] is None
    for _, d in demo.nodes(data=True):
        assert d["kind"] == "interface" and d["link"] in LINKS and d["state"] is None
    a1 = demo.nodes["demo-a1/eth0"]
    assert a1["addresses"] == ["192.168.0.2/16"] and a1["network"] == "mynet"
    bridges = {d["ifname"]: d["network"] for _, d in demo.nodes(data=True) if d["link"] == "bridge"}
    assert bridges["docker0"] == "bridge" and "mynet" in bridges.values()
    # a1's eth0 is one end of a veth pair whose other end is a port of mynet's bridge
    (peer,) = [v for v in demo["demo-a1/eth0"] if demo.edges["demo-a1/eth0", v]["kind"] == "veth"]
    master = demo.nodes[peer]["master"]
    assert demo.edges[f"demo-node1/{master}", peer]["kind"] == "port"
    assert {d["kind"] for *_, d in demo.edges(data=True)} <= set(TOPOLOGY_EDGES)
    assert "demo-outside/lo" in demo and "demo-a1/lo" not in demo   # lo only where it holds lab addresses


def test_topology_graph_of_the_overlay_lab(overlay):
    kinds = {}
    for u, v, d in overlay.edges(data=True):
        kinds.setdefault(d["kind"], []).append((u, v, d))
    tunnels = kinds["tunnel"]
    assert sorted(d["vni"] for *_, d in tunnels) == [4096, 4097]
    assert all(overlay.nodes[u]["host"] != overlay.nodes[v]["host"] for u, v, _ in tunnels)
    # each VXLAN device's outer packets leave by its host's eth0
    assert all({overlay.nodes[u]["link"], overlay.nodes[v]["ifname"]} >= {"vxlan"} or
               {overlay.nodes[u]["ifname"], overlay.nodes[v]["link"]} == {"eth0", "vxlan"}
               for u, v, _ in kinds["underlay"])
    sandboxes = [n for n, i in overlay.graph["namespaces"].items() if i["role"] == "overlay"]
    assert len(sandboxes) == 4 and all(overlay.graph["namespaces"][s]["host"] for s in sandboxes)
    vx = overlay.nodes["overlay-node1@ov4096/vxlan0"]
    assert vx["vni"] == 4096 and vx["remotes"] == ["10.10.101.106"]


def test_topology_graph_of_the_macvlan_lab():
    g = graph.lab_graph(MACVLAN)
    children = [v for u, v, d in g.edges(data=True) if d["kind"] == "macvlan"]
    assert children and all(g.nodes[c]["link"] == "macvlan" for c in children)


def steps(tg):
    return sorted((d["step"], d["leg"], d["how"], u, v) for u, v, d in tg.edges(data=True))


def test_trace_graph_of_a_published_port(demo):
    t = predict(DEMO, "outside", "node1:8080", proto="tcp")
    tg = graph.trace_graph(t, demo)
    walk = steps(tg)
    assert [s for s, *_ in walk] == list(range(2, 7)) + list(range(8, 13))     # one edge per hop after the first of a leg
    hows = [h for _, _, h, _, _ in walk]
    assert {"veth", "bridged", "routed"} <= set(hows)
    assert tg.nodes["demo-outside/underlay"]["first"] and tg.nodes["demo-web/eth0"]["delivered"]
    # DNAT happens in PREROUTING: on the hop where the packet entered node1, step 3
    eth0 = tg.nodes["demo-node1/eth0"]
    assert [(x["step"], x["nat"].kind) for x in eth0["nat"]][0] == (3, "DNAT")
    assert any(r["rule"].target == "DNAT" or "DNAT" in (r["rule"].rule or "") for r in eth0["rules"])
    placed = sum(len(d["rules"]) for _, d in tg.nodes(data=True))
    assert placed == len(t.rules)          # every decision is on some hop
    assert DROP not in tg


def test_trace_graph_marks_the_drop(demo):
    t = predict(DEMO, "a1", "web", by_name=False)     # the lab's view: by name, web does not resolve
    tg = graph.trace_graph(t, demo)
    assert tg.nodes[DROP]["outcome"].reason == "isolation"
    (edge,) = [d for _, v, d in tg.edges(data=True) if v == DROP]
    assert edge["how"] == "dropped"
    hop_node = [u for u, v in tg.edges() if v == DROP][0]
    drops = [r for r in tg.nodes[hop_node]["rules"] if r["rule"].verdict == "drop"]
    assert drops and drops[0]["hook"] == "FORWARD"


def test_a_dual_stack_lab_and_an_ipv6_path():
    from ipv6_labs import dual_stack_lab

    from netlab.model import load_text
    topo = load_text(dual_stack_lab("tg6", "  a: {networks: [dual]}\n  b: {networks: [dual], ports: [\"8080:80\"]}\n"),
                     "tg6.yaml")
    lab = graph.lab_graph(topo)
    assert lab.nodes["tg6-a/eth0"]["addresses"] == ["172.30.0.2/24", "2001:db8:2::2/64"]
    assert "2001:db8:a:101::254/64" in lab.nodes["tg6-outside/underlay"]["addresses"]
    assert "tg6-a/lo" not in lab                    # ::1 is no lab address either
    t = predict(topo, "outside", "node1:8080", family=6)
    tg = graph.trace_graph(t, lab)
    eth0 = tg.nodes["tg6-node1/eth0"]
    assert [x["nat"].after for x in eth0["nat"]][0].endswith("> [2001:db8:2::3]:80")
    assert tg.nodes["tg6-b/eth0"]["delivered"]
    assert "2001:db8:2::3" in graph.draw(lab, tg, "dot")


def test_trace_graph_across_vxlan(overlay):
    tg = graph.trace_graph(predict(OVERLAY, "b2", "b1"), overlay)
    hows = [h for _, _, h, _, _ in steps(tg)]
    assert "encapsulated" in hows and "decapsulated" in hows


def test_dot_nests_host_namespace_interfaces(demo):
    text = graph.draw(demo, None, "dot")
    assert text.count("{") == text.count("}")
    host = text.index('subgraph "cluster_host_node1"')
    ns = text.index('subgraph "cluster_ns_demo_a1"', host)
    assert text.index('"demo-a1/eth0"', ns) > ns


def layout(topology, trace=None) -> dict:
    text = graph.draw(topology, trace, "dot")
    out = subprocess.run(["dot", "-Tjson"], input=text.encode(), capture_output=True, check=True).stdout
    return json.loads(out)


def boxes(lay: dict) -> dict[str, tuple[float, float, float, float]]:
    """Every drawn node's box in points (invisible helpers aside)."""
    out = {}
    for obj in lay.get("objects", []):
        if "pos" not in obj or obj.get("style") == "invis" or "nodes" in obj:
            continue
        x, y = map(float, obj["pos"].split(","))
        w, h = float(obj["width"]) * 72, float(obj["height"]) * 72
        out[obj["name"]] = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    return out


def overlaps(a, b, pad: float = 0.0) -> bool:
    return a[0] < b[2] - pad and b[0] < a[2] - pad and a[1] < b[3] - pad and b[1] < a[3] - pad


@needs_dot
@pytest.mark.parametrize("lab,trace", [(DEMO, None), (DEMO, ("outside", "node1:8080", "tcp")),
                                       (DEMO, ("a1", "web", None)), (OVERLAY, None),
                                       (OVERLAY, ("b2", "b1", None)), (MACVLAN, ("m3", "m1:80", "tcp"))],
                         ids=["demo", "demo-port", "demo-drop", "overlay", "overlay-b2-b1", "macvlan"])
def test_pictures_are_legible(lab, trace):
    topology = graph.lab_graph(lab)
    tg = graph.trace_graph(predict(lab, trace[0], trace[1], proto=trace[2]), topology) if trace else None
    lay = layout(topology, tg)
    placed = boxes(lay)
    for (a, ba), (b, bb) in itertools.combinations(placed.items(), 2):
        assert not overlaps(ba, bb), f"{a} overlaps {b}"
    for edge in lay.get("edges", []):
        if "lp" in edge:
            x, y = map(float, edge["lp"].split(","))
            inside = [n for n, bx in placed.items() if bx[0] + 2 < x < bx[2] - 2 and bx[1] + 2 < y < bx[3] - 2]
            assert not inside, f"an edge label sits on {inside}"


@pytest.mark.parametrize("engine", ["graphviz", "matplotlib"])
def test_every_format(tmp_path, monkeypatch, demo, engine):
    if engine == "graphviz" and not shutil.which("dot"):
        pytest.skip("Graphviz (dot) is not installed")
    if engine == "matplotlib":
        monkeypatch.setenv("NETLAB_GRAPH_ENGINE", "matplotlib")
    assert graph.engine() == engine
    tg = graph.trace_graph(predict(DEMO, "a1", "203.0.113.10"), demo)
    heads = {"svg": b"<svg", "png": b"\x89PNG", "dot": b"digraph", "html": b"<!DOCTYPE html>"}
    for fmt, head in heads.items():
        path = tmp_path / f"out.{fmt}"
        assert graph.save(str(path), demo, tg) == fmt
        data = path.read_bytes()
        assert head in data[:400], fmt
    page = (tmp_path / "out.html").read_text()
    assert "<svg" in page and "MASQUERADE" in page and "Netfilter decisions" in page


def test_a_trace_draws_itself_without_its_lab():
    t = predict(DEMO, "a1", "a2")
    svg, html = t._repr_svg_(), t._repr_html_()
    assert svg.startswith("<svg") and "a1" in svg
    assert "<table>" in html and "delivered" in html


def test_cli_graph(tmp_path):
    out = tmp_path / "demo.svg"
    result = CliRunner().invoke(main, ["graph", DEMO, "--trace", "a1", "a2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
    bad = CliRunner().invoke(main, ["graph", DEMO, "-o", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 1 and "unknown picture format 'pdf'" in bad.output and "Traceback" not in bad.output
    nosuch = CliRunner().invoke(main, ["graph", DEMO, "--trace", "a1", "nobody", "--no-resolve", "-o", str(out)])
    assert nosuch.exit_code == 1 and "nobody" in nosuch.output
    unresolved = CliRunner().invoke(main, ["graph", DEMO, "--trace", "a1", "web", "-o", str(tmp_path / "u.dot")])
    assert unresolved.exit_code == 0, unresolved.output
    assert "unresolved" in (tmp_path / "u.dot").read_text()      # by name: a1 cannot resolve web


def test_import_netlab_stays_light():
    code = "import sys, netlab; print('networkx' in sys.modules, 'matplotlib' in sys.modules); netlab.Lab"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


TWO_ENGINES = """
name: g6eng
hosts:
  node1: {engine: "20.10"}
  node2: {engine: "29.7-nftables"}
containers:
  a: {host: node1}
  b: {host: node2}
"""


def test_each_host_names_its_engine(tmp_path):
    from netlab.model import load_text
    g = graph.lab_graph(load_text(TWO_ENGINES))
    assert {h: i["engine"] for h, i in g.graph["hosts"].items()} == {"node1": "20.10", "node2": "29.7-nftables"}
    dot = graph.draw(g, None, "dot")
    assert "node1  (Docker 20.10, " in dot and "node2  (Docker 29.7-nftables, " in dot
    page = graph.html(g)
    assert "<th>Docker engine</th>" in page and "<td>29.7-nftables</td>" in page
    for engine in ("graphviz", "matplotlib"):
        if engine == "graphviz" and not shutil.which("dot"):
            continue
        os.environ["NETLAB_GRAPH_ENGINE"] = engine
        try:
            svg = graph.svg(g)
        finally:
            del os.environ["NETLAB_GRAPH_ENGINE"]
        assert "(Docker 29.7-nftables, " in html.unescape(svg).replace("\xa0", " "), engine
    run = CliRunner().invoke(main, ["graph", DEMO, "-o", str(tmp_path / "demo.dot")])
    assert run.exit_code == 0 and "(Docker 20.10, " in (tmp_path / "demo.dot").read_text()
