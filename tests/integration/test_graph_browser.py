"""The HTML pictures in a real browser: headless Chromium (Debian's `chromium`, `make
test-system`) opens the demo lab's page and the two-host overlay's, each with a predicted
trace drawn, in a 1400x1000 window; a script in the page measures the DOM after layout and
writes what it found into the page, which `--dump-dom` hands back. No text sits past the
box, table or cluster that holds it, no table cell overflows, the page does not scroll
sideways, and the whole picture is inside the viewport; ticking "natural size" shows the
picture at its own size (the page then scrolls it). No root: the paths are predicted."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test-system)")

PAGES = {
    "demo": ("topologies/demo.yaml", ["outside", "node1:8080", "--proto", "tcp"]),
    "overlay": ("topologies/overlay.yaml", ["b2", "b1"]),
    "overlay-out": ("topologies/overlay.yaml", ["b1", "outside"]),
}
WINDOW = (1400, 1000)
SLACK = 1.0         # px: sub-pixel rounding of glyph boxes

# Each graph node's and cluster's text against the largest shape of the same group (a box,
# a table's border, a cluster's outline); table cells, paragraphs and list items by their
# scroll width; the svg against the viewport; then the same svg with "natural size" ticked.
CHECK = """
(function () {
  const slack = %(slack)s;
  const rect = e => { const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, area: r.width * r.height}; };
  const past = (a, b) => Math.max(a.right - b.right, b.left - a.left, a.bottom - b.bottom, b.top - a.top);
  const out = {viewport: [innerWidth, innerHeight], overflows: []};
  const svg = document.querySelector('.picture svg');
  for (const g of svg.querySelectorAll('g.node, g.cluster')) {
    const shapes = [...g.querySelectorAll(':scope > polygon, :scope > path, :scope > ellipse')].map(rect);
    if (!shapes.length) continue;
    const box = shapes.reduce((a, b) => a.area >= b.area ? a : b);
    for (const t of g.querySelectorAll('text')) {
      const by = past(rect(t), box);
      if (by > slack) out.overflows.push({where: g.querySelector('title').textContent, text: t.textContent, by});
    }
  }
  for (const c of document.querySelectorAll('.netlab td, .netlab th, .netlab p, .netlab li')) {
    const by = c.scrollWidth - c.clientWidth;
    if (by > slack) out.overflows.push({where: c.tagName, text: c.textContent.slice(0, 100), by});
  }
  out.page = [document.documentElement.scrollWidth, document.documentElement.scrollHeight];
  out.fit = rect(svg);
  const natural = document.querySelector('.netlab .natural');
  out.toggle = natural !== null;
  if (natural) { natural.checked = true; out.natural = rect(svg); }
  const pre = document.createElement('pre');
  pre.id = 'netlab-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
""" % {"slack": SLACK}


def measure(page: Path, profile: Path) -> dict:
    """Open PAGE (with CHECK appended) in headless Chromium; what CHECK wrote."""
    checked = page.with_suffix(".checked.html")
    checked.write_text(page.read_text().replace("</body>", f"<script>{CHECK}</script></body>"))
    # a full-screen window on a screen of that size: the viewport is the whole window (a
    # plain --window-size leaves 87 px to the window's frame; --test-type drops the
    # --no-sandbox warning bar, another 56)
    size = f"{WINDOW[0]}x{WINDOW[1]}"
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--test-type", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={profile}", f"--screen-info={{{size}}}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
            "--start-fullscreen", "--virtual-time-budget=3000", "--dump-dom", checked.as_uri()]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="netlab-check">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"chromium gave no result (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def natural_width(page: Path) -> float:
    """The picture's own width in CSS px: Graphviz writes it in points."""
    width = re.search(r'<svg width="([\d.]+)pt"', page.read_text())
    assert width
    return float(width.group(1)) * 4 / 3


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_fits_a_browser_window(name, tmp_path):
    lab, trace = PAGES[name]
    page = tmp_path / f"{name}.html"
    proc = subprocess.run([sys.executable, "-m", "netlab", "graph", str(ROOT / lab), "--trace", *trace,
                           "-o", str(page)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    d = measure(page, tmp_path / "profile")
    width, height = d["viewport"]
    assert (width, height) == WINDOW
    assert d["overflows"] == [], f"{len(d['overflows'])} text boxes overflow: {d['overflows'][:5]}"
    assert d["page"][0] <= width, f"the page scrolls sideways: {d['page'][0]} px wide"
    fit = d["fit"]
    assert fit["left"] >= 0 and fit["top"] >= 0 and fit["right"] <= width and fit["bottom"] <= height, \
        f"the picture {fit} is not inside the {width}x{height} viewport"
    # natural size: the picture at its own width, scrolled within the page
    assert d["toggle"], "no natural-size toggle"
    assert abs((d["natural"]["right"] - d["natural"]["left"]) - natural_width(page)) < 2
