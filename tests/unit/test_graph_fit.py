"""Pictures that fit (the browser test is tests/integration/test_graph_browser.py): long
rules wrap in the picture's tables, a mono cell has the room its characters take, and the
HTML page scales the svg to the window with a natural-size toggle."""
from __future__ import annotations

import math
import re

from netlab import graph
from netlab.graph.dot import to_dot
from netlab.graph.shapes import INDENT, WRAP, Box, Scene, wrap, wrapped
from netlab.graph.webpage import fitted

RULE = "nat DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"


def test_a_long_rule_wraps_at_spaces_and_keeps_every_character():
    lines = wrap(RULE)
    assert lines == ["nat DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT",
                     INDENT + "--to-destination 172.17.0.2:80"]
    assert wrap("short") == ["short"] and wrap("") == [""]
    cut = wrap("x" * 130)
    assert all(len(x) <= WRAP for x in cut) and "".join(x.removeprefix(INDENT) for x in cut) == "x" * 130
    long = wrap("a " + "y" * 70 + " b")
    assert all(len(x) <= WRAP for x in long) and "".join(long).count("y") == 70 and long[-1].endswith(" b")


def test_a_wrapped_row_continues_without_a_step_number():
    note = Box(id="rules:n", title="iptables on the way", shape="note", rows=[("3", RULE, "#d62728")])
    scene = wrapped(Scene("t", {"rules:n": note}, [], []))
    assert [(s, t) for s, t, _ in scene.boxes["rules:n"].rows] == [("3", wrap(RULE)[0]), ("", wrap(RULE)[1])]
    assert note.rows == [("3", RULE, "#d62728")]        # the caller's scene is left as it was
    dot = to_dot(scene)
    widths = [int(w) for w in re.findall(r'<td align="left" width="(\d+)">', dot)]
    assert widths == [math.ceil(len(t) * 0.61 * 9) + 4 for _, t, _ in scene.boxes["rules:n"].rows]
    assert "<b></b>" not in dot         # Graphviz rejects an empty bold


def test_the_page_fits_the_svg_to_the_window_with_a_natural_size_toggle():
    svg = '<svg width="1439pt" height="834pt" viewBox="0 0 1439 834"><g/></svg>'
    assert fitted(svg).startswith('<svg width="1439pt" height="834pt" style="--natural-width: 1919px; '
                                  '--aspect: 1.7254"')
    assert fitted("<svg><g/></svg>") == "<svg><g/></svg>"
    page = graph.html(graph.lab_graph("topologies/demo.yaml"))
    toggle = re.search(r'<input type="checkbox" class="natural" id="([\w-]+)">', page)
    assert toggle and f'<label class="view" for="{toggle.group(1)}">' in page
    assert "--natural-width:" in page and ".natural:checked ~ .picture svg" in page
