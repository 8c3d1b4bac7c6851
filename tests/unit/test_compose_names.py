"""A Compose lab is shown by its project name wherever its user sees the lab (the trace
report's header and JSON, graph titles, inspect's errors, a lab's snapshot read back), while
its kernel objects keep the short prefix."""
from __future__ import annotations

import pytest
from compose_files import WORDPRESS_MYSQL, load

from netlab import graph
from netlab.app import compose_labs, state
from netlab.errors import LabError
from netlab.model.inspect import inspect_lab
from netlab.trace.predict import predict_trace
from netlab.trace.report import render

PROJECT = "dwordpress-blog-prod"        # no lab name: 20 characters and hyphens


@pytest.fixture(scope="module")
def loaded():
    return load(WORDPRESS_MYSQL, project=PROJECT)


def test_the_topology_carries_the_project_beside_its_prefix(loaded):
    topo = loaded.topology
    assert topo.project == PROJECT and topo.shown_name == PROJECT
    assert topo.name != PROJECT and len(topo.name) <= 8
    assert all(c.netns.startswith(f"{topo.name}-") for c in topo.containers)     # the kernel's names


def test_the_trace_report_and_json_name_the_project(loaded):
    t = predict_trace(loaded.topology, f"{PROJECT}-wordpress-1", "db", port=3306)
    header = render(t).splitlines()[0]
    assert header.startswith(f"predicted in lab {PROJECT}: {PROJECT}-wordpress-1 -> db"), header
    assert f"lab {loaded.topology.name}" not in render(t)
    d = t.to_dict()
    assert d["project"] == PROJECT and d["lab"] == loaded.topology.name


def test_a_lab_file_lab_is_shown_by_its_name():
    from netlab.model import load_text
    topo = load_text("name: dplain\nnetworks:\n  n: {}\ncontainers:\n  a: {networks: [n]}\n  b: {networks: [n]}\n")
    assert topo.project is None and topo.shown_name == "dplain"
    assert render(predict_trace(topo, "a", "b")).startswith("predicted in lab dplain: a -> b")


def test_graph_titles_name_the_project(loaded):
    g = graph.lab_graph(loaded.topology)
    assert graph.scene(g).title == f"lab {PROJECT}"
    t = predict_trace(loaded.topology, f"{PROJECT}-wordpress-1", "db", port=3306)
    path = graph.trace_graph(t)
    assert graph.scene(g, path).title.startswith(f"lab {PROJECT}: ")
    assert graph.scene(None, path).title.startswith(f"lab {PROJECT}: ")     # the path alone


def test_inspect_names_the_project(loaded):
    with pytest.raises(LabError, match=f"lab '{PROJECT}' has no container or network named 'ghost'"):
        inspect_lab(loaded.topology, "ghost")


def test_a_snapshot_read_back_knows_its_project(loaded, tmp_path, monkeypatch):
    monkeypatch.setattr(state, "ROOT", str(tmp_path))
    lab = loaded.topology.name
    (tmp_path / lab).mkdir()
    (tmp_path / lab / state.SNAPSHOT).write_text(loaded.lab_text)
    compose_labs.remember(lab, PROJECT)
    topo = state.snapshot_topology(lab)
    assert topo.name == lab and topo.project == PROJECT
    assert render(predict_trace(topo, f"{PROJECT}-wordpress-1", "db")).startswith(f"predicted in lab {PROJECT}:")
    assert compose_labs.shown_name(lab) == PROJECT and compose_labs.lab_of(PROJECT) == lab
