"""Predict, then check (netlab.app.grade): a learner's list of stops graded against a trace,
here the plan's traces of small labs (no root needed)."""
from __future__ import annotations

import os

import pytest

import netlab
from netlab.app.grade import grade, stops

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BRIDGE = "name: egrade\noutside: {addresses: [203.0.113.10]}\ncontainers:\n  a: {}\n  b: {}\n"


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    path = tmp_path_factory.mktemp("labs") / "egrade.yaml"
    path.write_text(BRIDGE)
    return netlab.Lab(str(path))


def test_stops_take_a_namespace_once_with_the_interfaces_crossed_there(bridge):
    seen = stops(bridge.predict("a", "203.0.113.10"))
    assert [s.owner for s in seen] == ["a", "node1", "outside"]
    assert seen[0].ifnames == ("eth0",)
    assert seen[1].ifnames[1:] == ("docker0", "eth0") and seen[1].ifnames[0].startswith("veth")
    reply = stops(bridge.predict("a", "203.0.113.10"), leg="reply")
    assert [s.owner for s in reply] == ["outside", "node1", "a"]


def test_the_right_path_is_all_right(bridge):
    g = grade(["a", "node1/docker0", "outside"], bridge.predict("a", "203.0.113.10"), outcome="delivered")
    assert g.ok and (g.matched, g.expected, g.observed) == (3, 3, 3)
    assert str(g).splitlines()[-1] == "all right"
    assert "outcome: delivered (as predicted)" in str(g)


def test_wildcards_name_an_interface(bridge):
    assert grade(["a/eth0", "node1/veth*", "b/eth*"], bridge.predict("a", "b", by_name=False)).ok


def test_a_wrong_guess_costs_one_stop_and_says_which(bridge):
    t = bridge.predict("a", "b", by_name=False)                  # a -> node1 (switched by docker0) -> b
    g = grade(["a", "outside", "node1", "b"], t)
    assert not g.ok and g.matched == 3
    assert [line.split()[0] for line in g.lines[1:5]] == ["ok", "missing", "ok", "ok"]
    assert "outside" in g.lines[2]
    forgot = grade(["a", "b"], t)                 # the host's bridge in between, not predicted
    assert not forgot.ok and forgot.matched == 2
    assert forgot.lines[2].split()[0] == "extra" and "node1" in forgot.lines[2]


def test_an_interface_not_crossed_there_is_no_match(bridge):
    g = grade(["a", "node1/eth0", "b"], bridge.predict("a", "b", by_name=False))   # switched: never eth0
    assert not g.ok and g.matched == 2


def test_a_wrong_outcome_fails_a_right_path(bridge):
    g = grade(["a", "node1", "b"], bridge.predict("a", "b", by_name=False), outcome="dropped")
    assert not g.ok and g.matched == 3 and "you predicted dropped" in str(g)


def test_overlay_sandboxes_are_stops_of_their_own():
    lab = netlab.Lab(os.path.join(ROOT, "topologies", "overlay.yaml"))
    path = ["b2", "node2@ov4096/vxlan0", "node2", "outside", "node1", "node1@ov4096/vxlan0", "b1"]
    assert grade(path, lab.predict("b2", "b1"), outcome="delivered").ok
    assert not grade(path[:3] + path[4:], lab.predict("b2", "b1")).ok
