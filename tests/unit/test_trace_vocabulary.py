"""One vocabulary (issue 16, item 5): a trace told through its five views -- the CLI table,
the JSON, the HTML page, the graph's labels and the pcapng comments -- numbers the same hops
the same way and names each step with the same word (trace/vocabulary.py)."""
from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import pytest

from netlab import graph
from netlab.trace import predict_trace
from netlab.trace.pcap_story import hop_notes
from netlab.trace.report import render
from netlab.trace.vocabulary import NAME_HOP, WORDS, steps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "topologies", "demo.yaml")
OVERLAY = os.path.join(ROOT, "topologies", "overlay.yaml")

Told = dict[int, str]           # hop number -> the word for how the packet came there


# ---- each view, read back as a reader would ---------------------------------------------
CLI_HOP = re.compile(r"^\s+(\d+) \S+\s+\S+/\S+\s+(?:in|out)\s+(\S+)")


def from_cli(text: str) -> tuple[Told, bool, str]:
    hops = {int(m[1]): m[2] for m in map(CLI_HOP.match, text.splitlines()) if m}
    name = any(re.match(rf"^\s+{NAME_HOP} ", line) for line in text.splitlines())
    outcome = next(line for line in text.splitlines() if line.startswith("outcome: "))
    return hops, name, _at(outcome)


def from_json(d: dict) -> tuple[Told, bool, str]:
    o = d["outcome"]
    at = "" if o["hop"] is None else f"{'at' if o['status'] == 'delivered' else 'after'} hop {o['hop']}"
    return {h["hop"]: h["how"] for h in d["hops"]}, (d["resolution"] or {}).get("hop") == NAME_HOP, at


class Tables(HTMLParser):
    """The page's tables as rows of cell text, and its paragraphs."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.paragraphs: list[str] = []
        self._cell: list[str] | None = None
        self._p: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "p":
            self._p = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "p" and self._p is not None:
            self.paragraphs.append("".join(self._p))
            self._p = None

    def handle_data(self, data: str) -> None:
        for part in (self._cell, self._p):
            if part is not None:
                part.append(data)


def from_html(page: str) -> tuple[Told, bool, str]:
    p = Tables()
    p.feed(page)
    hops = next(t for t in p.tables if t[0][:6] == ["#", "leg", "namespace", "interface", "dir", "how"])
    name = any(t[0][:2] == ["#", "asked from"] and all(r[0] == str(NAME_HOP) for r in t[1:]) for t in p.tables)
    outcome = next((x for x in p.paragraphs if " hop " in x), "")
    return {int(r[0]): r[5] for r in hops[1:]}, name, _at(outcome)


STEPS = re.compile(r"^((?:\d+, )*\d+) (\S+)")
SENT_AT = re.compile(r"^\u25b6 (?:request|reply) (\S+) at hop (\d+)$")


def from_graph(scene: graph.Scene) -> tuple[Told, str]:
    """The numbers and words on the links (`2, 12 bridged`, `4 encapsulated` one per line),
    the boxes where a leg starts (`request sent at hop 1`), where it was delivered or dropped."""
    hops: Told = {}
    for line in scene.lines:
        for part in line.label.split("\n"):
            m = STEPS.match(part)
            if m:
                hops.update({int(n): m[2] for n in m[1].split(", ")})
    at = ""
    for box in scene.boxes.values():
        for text in box.lines:
            m = SENT_AT.match(text)
            if m:
                hops[int(m[2])] = m[1]
            else:
                at = at or _at(text)
    return hops, at


def from_pcap(t) -> tuple[Told, int | None]:
    notes = hop_notes(t).values()
    return {n["hop"]: n["how"] for n in notes}, next((n["hop"] for n in notes if "drop" in n), None)


def _at(text: str) -> str:
    m = re.search(r"\b(at|after) hop (\d+)\b", text)
    return m[0] if m else ""


# ---- one trace, five views ----------------------------------------------------------------
CASES = {
    # MASQUERADE out of node1 and back: sent, veth, bridged, routed on both legs
    "nat": (DEMO, "a1", "203.0.113.10", False,
            {1: "sent", 2: "veth", 3: "bridged", 4: "routed", 5: "veth", 6: "bridged",
             7: "sent", 8: "bridged", 9: "veth", 10: "routed", 11: "bridged", 12: "veth"}),
    # by name first (hop 0), then across mynet's bridge
    "name": (DEMO, "a1", "a2", True,
             {1: "sent", 2: "veth", 3: "bridged", 4: "veth", 5: "sent", 6: "veth", 7: "bridged", 8: "veth"}),
    # dropped by Docker's isolation after hop 3
    "drop": (DEMO, "a1", "web", False, {1: "sent", 2: "veth", 3: "bridged"}),
    # across two hosts: VXLAN on and off
    "vxlan": (OVERLAY, "b1", "10.0.0.3", False,
              {1: "sent", 2: "veth", 3: "bridged", 4: "encapsulated", 5: "veth", 6: "bridged", 7: "veth",
               8: "decapsulated", 9: "bridged", 10: "veth", 11: "sent", 12: "veth", 13: "bridged",
               14: "encapsulated", 15: "veth", 16: "bridged", 17: "veth", 18: "decapsulated", 19: "bridged",
               20: "veth"}),
}


@pytest.mark.parametrize("case", CASES)
def test_five_views_tell_the_same_hops_in_the_same_words(case):
    lab, src, dst, by_name, expected = CASES[case]
    t = predict_trace(lab, src, dst, by_name=by_name)
    cli, cli_name, cli_at = from_cli(render(t))
    js, js_name, js_at = from_json(t.to_dict())
    lab_graph = graph.lab_graph(lab)
    tg = graph.trace_graph(t, lab_graph)
    html, html_name, html_at = from_html(graph.html(lab_graph, tg))
    pictured, pictured_at = from_graph(graph.scene(lab_graph, tg))
    alone, _ = from_graph(graph.scene(None, graph.trace_graph(t)))      # the path without its lab
    pcap, pcap_drop = from_pcap(t)

    assert cli == expected
    assert js == html == pictured == alone == pcap == cli
    assert set(cli.values()) <= set(WORDS)
    # hop 0, the name's resolution, where there is one (the lab's view has the plan's): the CLI,
    # the JSON and the page
    assert cli_name == js_name == html_name == (t.resolution is not None)
    assert by_name <= cli_name
    # the outcome told at the same hop
    last = len(t.leg("request"))
    told = f"{'at' if t.outcome.status == 'delivered' else 'after'} hop {last}"
    assert cli_at == js_at == html_at == pictured_at == told
    if t.outcome.status != "delivered":
        assert pcap_drop == last


def test_a_rewrite_is_told_in_the_same_words():
    t = predict_trace(DEMO, "a1", "203.0.113.10")
    words = "MASQUERADE: 192.168.0.2 > 203.0.113.10 -> 10.10.101.105 > 203.0.113.10"
    assert f"NAT {words}" in render(t)
    scene = graph.scene(graph.lab_graph(DEMO), graph.trace_graph(t, graph.lab_graph(DEMO)))
    assert any(text == words for box in scene.boxes.values() for _, text, _ in box.rows)
    assert [n["kind"] for n in t.to_dict()["nat"]] == ["MASQUERADE", "de-SNAT"]
    assert [x["kind"] for n in hop_notes(t).values() for x in n.get("nat", [])] == ["MASQUERADE", "de-SNAT"]


def test_each_decision_is_told_at_the_same_hop():
    """The published port from the LAN: DNAT where the packet came into node1 (PREROUTING),
    FORWARD's ACCEPT where it left, de-DNAT where the reply came back in; in the CLI (the hop
    a decision is listed under), the graph's tables, the HTML's tables and the pcapng."""
    t = predict_trace(DEMO, "outside", "node1:8080", proto="tcp")
    accept = next(r for r in t.rules if r.leg == "request" and r.verdict == "accept" and r.table == "filter"
                  and r.chain == "DOCKER")
    cli: dict[str, int] = {}
    hop = None
    for line in render(t).splitlines():
        m = CLI_HOP.match(line)
        if m:
            hop = int(m[1])
        elif line.startswith("        NAT "):
            cli[line.split()[1].rstrip(":")] = hop
        elif line.strip().startswith(f"filter {accept.rule}"):
            cli["ACCEPT"] = hop
    lab = graph.lab_graph(DEMO)
    tg = graph.trace_graph(t, lab)
    rows = {text: int(n) for box in graph.scene(lab, tg).boxes.values() for n, text, _ in box.rows if n}
    pictured = {kind: next(n for text, n in rows.items() if text.startswith(f"{kind}: ")) for kind in ("DNAT", "de-DNAT")}
    pictured["ACCEPT"] = rows[f"filter {accept.rule.removeprefix('-A ')}"]
    p = Tables()
    p.feed(graph.html(lab, tg))
    nat_table = next(x for x in p.tables if x[0][:4] == ["#", "leg", "namespace", "kind"])
    rule_table = next(x for x in p.tables if x[0][:5] == ["#", "leg", "namespace", "table", "chain"])
    html = {r[3]: int(r[0]) for r in nat_table[1:] if r[3] in ("DNAT", "de-DNAT")}
    html["ACCEPT"] = next(int(r[0]) for r in rule_table[1:] if r[5] == accept.rule)
    notes = hop_notes(t).values()
    pcap = {x["kind"]: n["hop"] for n in notes for x in n.get("nat", []) if x["kind"] in ("DNAT", "de-DNAT")}
    pcap["ACCEPT"] = next(n["hop"] for n in notes for r in n.get("rules", []) if r["rule"] == accept.rule)

    node1 = [s.number for s in steps(t) if s.hop.netns == "demo-node1"]
    assert cli == pictured == html == pcap
    assert cli["DNAT"] == node1[0] and cli["ACCEPT"] == cli["DNAT"] + 2    # in by eth0, through the bridge, out
    assert cli["de-DNAT"] in node1 and cli["de-DNAT"] > len(t.leg("request"))
