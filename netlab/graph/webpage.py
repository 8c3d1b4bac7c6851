"""A standalone HTML page (and the fragment Jupyter shows; not named html.py, which would
shadow `graph.html()` once imported): the picture as inline SVG, then tables: the lab's
hosts with their Docker engines, its namespaces and interfaces, or a trace's outcome, hops,
every netfilter decision and NAT rewrite by hop number, and where a live trace disagreed
with its prediction."""
from __future__ import annotations

import hashlib
import re
from html import escape

import networkx as nx

from ..trace.model import RuleHit, Trace
from ..trace.vocabulary import NAME_HOP, outcome_at
from ..trace.vocabulary import steps as numbered
from .shapes import LEG_COLOUR

STYLE = """
.netlab { font-family: "DejaVu Sans", sans-serif; font-size: 13px; color: #222; }
.netlab h2 { font-size: 16px; margin: 12px 0 4px; }
.netlab h3 { font-size: 14px; margin: 14px 0 4px; }
.netlab table { border-collapse: collapse; margin: 4px 0 10px; }
.netlab th, .netlab td { border: 1px solid #ccc; padding: 2px 7px; text-align: left; vertical-align: top; }
.netlab th { background: #f0f0f0; }
.netlab code { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
.netlab .request { color: #d62728; } .netlab .reply { color: #1f77b4; }
.netlab .delivered { color: #2ca02c; font-weight: bold; } .netlab .bad { color: #cc0000; font-weight: bold; }
.netlab td code { overflow-wrap: anywhere; }     /* a long rule wraps in its cell, the table stays in the page */
.netlab table { max-width: 100%; }
/* the picture fits the window (width and height) unless "natural size" is ticked; then it
   scrolls. --natural-width and --aspect are set on the svg element (fitted()) */
.netlab .view { font-size: 12px; color: #555; margin: 0 0 2px; }
.netlab .picture { overflow: auto; }
.netlab .picture svg { display: block; height: auto;
  width: min(100%, var(--natural-width, 100%), calc((100vh - 44px) * var(--aspect, 100))); }
.netlab .natural:checked ~ .picture svg { width: var(--natural-width, auto); }
"""


def page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>{body}</body></html>\n")


def fragment(svg: str, topology: nx.Graph | None, trace: nx.MultiDiGraph | None, styled: bool = False) -> str:
    toggle = "natural-" + hashlib.sha1(svg.encode()).hexdigest()[:10]
    parts = [f"<style>{STYLE}</style>" if styled else "", '<div class="netlab">',
             f'<input type="checkbox" class="natural" id="{toggle}"> '
             f'<label class="view" for="{toggle}">natural size (scroll)</label>',
             f'<div class="picture">{fitted(svg)}</div>']
    if trace is not None:
        parts.append(trace_tables(trace))
    elif topology is not None:
        parts.append(lab_tables(topology))
    parts.append("</div>")
    return "".join(parts)


SIZE = re.compile(r'<svg\b[^>]*?\swidth="([\d.]+)pt" height="([\d.]+)pt"')     # Graphviz's and matplotlib's


def fitted(svg: str) -> str:
    """The svg element told its natural width (CSS px: 4/3 of Graphviz's and matplotlib's
    points) and its aspect ratio, so the page's style can scale it to the window."""
    found = SIZE.search(svg)
    if found is None:
        return svg
    width, height = (float(x) for x in found.groups())
    style = f' style="--natural-width: {width * 4 / 3:.0f}px; --aspect: {width / max(height, 1):.4f}"'
    return svg[:found.end()] + style + svg[found.end():]


def _table(head: list[str], rows: list[list[str]]) -> str:
    """Cells are HTML already (escape what comes from data before)."""
    out = ["<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</table>"


def lab_tables(g: nx.Graph) -> str:
    hosts = [[escape(name), escape(info.get("engine") or ""), escape(info["address"]),
              f"<code>{escape(info['netns'])}</code>"] for name, info in g.graph.get("hosts", {}).items()]
    head = "<h3>Hosts</h3>" + _table(["host", "Docker engine", "address", "namespace"], hosts) if hosts else ""
    rows = []
    for ns, info in g.graph["namespaces"].items():
        ifaces = [d for _, d in g.nodes(data=True) if d["netns"] == ns]
        text = "<br>".join(f"<code>{escape(d['ifname'])}</code> {escape(d['link'] or '')} "
                           f"{escape(' '.join(d['addresses']))}"
                           + (f" [{escape(d['state'])}]" if d.get("state") else "")
                           for d in ifaces)
        rows.append([f"<code>{escape(ns)}</code>", escape(info["role"]), escape(info.get("host") or ""),
                     escape(", ".join(info.get("containers", []))), text])
    return head + "<h3>Namespaces</h3>" + _table(["namespace", "role", "host", "containers", "interfaces"], rows)


def trace_tables(g: nx.MultiDiGraph) -> str:
    t = g.graph["trace"]
    out = t.outcome
    status = f'<span class="{"delivered" if out.status == "delivered" else "bad"}">{escape(out.status)}</span>'
    reply = f"; reply: {escape(out.reply)} ({escape(out.reply_status or '')})" if out.reply else ""
    at = outcome_at(t)
    parts = [f"<h3>Outcome</h3><p>{status}{' (' + escape(out.reason) + ')' if out.reason else ''}: "
             f"{escape(out.detail)}{', ' + escape(at) if at else ''}{reply}</p>"]
    parts += _resolution(t)
    hops = []
    for s in numbered(t):
        hop = s.hop
        hops.append([f'<span class="{hop.leg}">{s.number}</span>', escape(hop.leg), escape(hop.owner),
                     f"<code>{escape(hop.ifname)}</code>", escape(hop.direction), escape(s.how),
                     f"<code>{escape(hop.packet.summary())}</code>", escape(hop.source)])
    parts.append("<h3>Hops</h3>" + _table(["#", "leg", "namespace", "interface", "dir", "how", "packet", "seen"], hops))
    steps = {id(r["rule"]): r["step"] for _, d in g.nodes(data=True) for r in d["rules"]}
    rules = [[_step(steps.get(id(r)), r.leg), escape(r.leg), escape(r.owner or r.netns), escape(r.table),
              escape(r.chain), f"<code>{escape(_rule_cell(r))}</code>",
              escape(r.verdict + (f" \u2192 {r.target}" if r.target and r.verdict in ('jump', 'goto') else ""))]
             for r in t.rules]
    parts.append("<h3>Netfilter decisions</h3>" +
                 _table(["#", "leg", "namespace", "table", "chain", "rule", "verdict"], rules))
    nat_steps = {id(x["nat"]): x["step"] for _, d in g.nodes(data=True) for x in d["nat"]}
    if t.nat:
        nat = [[_step(nat_steps.get(id(n)), n.leg), escape(n.leg), escape(n.owner or n.netns), escape(n.kind),
                f"<code>{escape(n.before)}</code>", f"<code>{escape(n.after)}</code>",
                f"<code>{escape(n.rule or '')}</code>"]
               for n in t.nat]
        parts.append("<h3>Address rewrites</h3>" +
                     _table(["#", "leg", "namespace", "kind", "before", "after", "rule"], nat))
    if t.notes:
        parts.append("<h3>Notes</h3><ul>" + "".join(f"<li>{escape(n)}</li>" for n in t.notes) + "</ul>")
    if t.predicted is not None:
        if t.differences:
            diff = [[escape(d.what), escape(d.leg or ""), f"<code>{escape(d.predicted or '')}</code>",
                     f"<code>{escape(d.observed or '')}</code>"] for d in t.differences]
            parts.append("<h3>Prediction vs observation</h3>" + _table(["what", "leg", "predicted", "observed"], diff))
        else:
            parts.append("<p>The observation agrees with the prediction in every fact compared.</p>")
    return "".join(parts)


def _resolution(t: Trace) -> list[str]:
    """Step 0, before any packet: DST's name resolved from SRC (the CLI's `name:` lines)."""
    r = t.resolution
    if r is None:
        return []
    rows = [[str(NAME_HOP), escape(r.owner), "<code>/etc/hosts</code>", f"<code>{escape(r.name)}</code>", "found",
             f"<code>{escape(' '.join(r.addresses))}</code>", ""]] if r.via == "hosts" else []
    rows += [[str(NAME_HOP), escape(r.owner), f"<code>{escape(q.server)}</code>", f"<code>{escape(q.qtype)} "
              f"{escape(q.qname)}</code>", escape(q.rcode), f"<code>{escape(' '.join(q.addresses))}</code>",
              escape(q.answered_by)] for q in r.queries]
    return [f"<h3>Name</h3><p>{escape(r.detail)} ({escape(r.source)})</p>" +
            _table(["#", "asked from", "server", "question", "answer", "addresses", "who answered"], rows)]


def _rule_cell(r: RuleHit) -> str:
    if r.kind == "policy":
        return f"(policy {r.verdict.upper()})"
    if r.kind == "return":
        return "(end of chain: return)"
    return r.rule or ""


def _step(step: int | None, leg: str) -> str:
    colour = LEG_COLOUR.get(leg, "#222222")
    return f'<span style="color:{colour}">{step}</span>' if step else ""
