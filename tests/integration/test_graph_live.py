"""Pictures of live labs: the graph says what the kernel holds now (a deleted link shows as
missing), `netlab graph LAB --trace` draws a live trace, and `netlab.Lab` as a context
manager takes its lab down even when the block fails."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import leftovers, needs_root

pytestmark = [needs_root, pytest.mark.root]

LAB = """
name: {name}
outside: {addresses: [203.0.113.10]}
containers:
  a: {}
  b: {}
"""


def test_live_graph_shows_what_the_kernel_holds(make_lab, tmp_path):
    from netlab import graph
    from netlab.app.observe_lab import lab_graph
    make_lab(LAB.replace("{name}", "grlive"))
    g = lab_graph("grlive")
    assert g.graph["source"] == "live"
    assert all(info["present"] for info in g.graph["namespaces"].values())
    assert {d["state"] for _, d in g.nodes(data=True)} == {"up"}
    subprocess.run(["ip", "netns", "exec", "grlive-a", "ip", "link", "del", "eth0"], check=True)
    g = lab_graph("grlive")
    (peer,) = [n for n in g["grlive-a/eth0"]]
    assert g.nodes["grlive-a/eth0"]["state"] == g.nodes[peer]["state"] == "missing"
    assert "(missing)" in graph.draw(g, None, "svg").decode()


def test_cli_draws_a_live_trace(make_lab, tmp_path):
    # each test its own lab (xdist runs them at once), this one under another engine than the default
    make_lab(LAB.replace("{name}", "grlivet") + 'engine: "26.1"\n')
    out = tmp_path / "trace.html"
    proc = subprocess.run([sys.executable, "-m", "netlab", "graph", "grlivet", "--trace", "a", "203.0.113.10",
                           "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert "observed" in page and "MASQUERADE" in page and "<svg" in page
    # the engine the lab was brought up with, remembered in its state, names its host
    assert "(Docker 26.1, " in page.replace("&#160;", " ")


def test_lab_context_manager_takes_the_lab_down_on_failure():
    import netlab
    with pytest.raises(RuntimeError):
        with netlab.Lab(yaml=LAB.replace("{name}", "x"), name="grctx") as lab:
            assert lab.is_up and lab.trace("a", "b", by_name=False).outcome.status == "delivered"
            raise RuntimeError("a failing cell")
    assert not leftovers("grctx")
