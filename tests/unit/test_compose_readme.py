"""The README shows the Compose path first (issue 15, "Done when"), and its quick start is
true: the Compose file it shows loads as it says, and the traces it shows arrive. Its two
set-up commands stay `make demo` and `make test`; its links stay inside the repository."""
from __future__ import annotations

import re
from pathlib import Path

from netlab.compose import load_path
from netlab.trace.predict import predict_trace

TOP = Path(__file__).parents[2]
README = (TOP / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def test_the_compose_quick_start_comes_before_the_lab_file_format():
    quick = README.index("\n## Quick start: a Compose file\n")
    assert quick < README.index("\n## Use\n") < README.index("\n## Lab files\n")
    assert quick < README.index("name: demo ")          # the lab-file example
    assert "netlab up compose.yaml" in section("Quick start: a Compose file")


def test_the_quick_start_is_what_netlab_builds(tmp_path):
    quick = section("Quick start: a Compose file")
    text = re.search(r"```yaml\n# myapp/compose.yaml\n(.*?)```", quick, re.S).group(1)
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "compose.yaml").write_text(text)
    loaded = load_path(str(tmp_path / "myapp" / "compose.yaml"), env={})
    topo = loaded.topology
    assert loaded.project == "myapp"
    assert sorted(c.name for c in topo.containers) == ["myapp-db-1", "myapp-web-1"]
    assert sorted({s.network for s in topo.segments} - {"bridge"}) == ["myapp_back", "myapp_front"]
    for claim in ("myapp_back, myapp_front", "myapp-db-1, myapp-web-1"):
        assert claim in quick
    to_db = predict_trace(topo, "myapp-web-1", "db", port=5432)
    assert to_db.outcome.status == "delivered" and to_db.outcome.owner == "myapp-db-1"
    published = predict_trace(topo, "outside", "node1:8080")
    assert published.outcome.status == "delivered" and published.outcome.owner == "myapp-web-1"
    for command in ("netlab trace myapp myapp-web-1 db --port 5432", "netlab trace myapp outside node1:8080",
                    "netlab trace --predict compose.yaml myapp-web-1 db --port 5432", "netlab down myapp"):
        assert command in quick


def test_two_set_up_commands():
    block = re.search(r"```\n(.*?)```", section("Set-up on a fresh machine (Debian/Ubuntu, as root)"), re.S).group(1)
    assert [line.split()[:2] for line in block.splitlines() if not line.startswith(" ")] == \
        [["make", "demo"], ["make", "test"]]


def test_links_stay_inside_the_repository():
    for target in re.findall(r"\]\(([^)]+)\)", README):
        if target.startswith("#"):
            anchor = target[1:]
            assert any(re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") == anchor
                       for h in re.findall(r"^#+ (.*)$", README, re.M)), target
            continue
        assert "://" not in target and not target.startswith("/"), target
        assert (TOP / target.split("#")[0]).exists(), target
