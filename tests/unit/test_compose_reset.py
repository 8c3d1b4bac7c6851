"""`!reset` and `!override` in Compose files merged over others (compose-go loader/reset.go):
`!reset` removes what the files before gave, `!override` replaces it instead of merging;
values keep the file and line they were written at."""
from __future__ import annotations

import pytest

from netlab.compose import load_path
from netlab.errors import TopologyError

BASE = """\
name: rst
services:
  web:
    image: nginx
    ports: ["8080:80"]
    expose: [9000]
    networks: [front, back]
    dns: [192.0.2.53]
  tool:
    extends: web
    hostname: toolbox
    ports: !reset []
    dns: !override [198.51.100.53]
networks:
  front: {}
  back: {}
"""
OVER = """\
services:
  web:
    ports: !reset []
    expose: !reset
    networks: !override
      back: {aliases: [www]}
"""


def files(tmp_path, base: str = BASE, over: str = OVER) -> tuple[str, str]:
    (tmp_path / "compose.yaml").write_text(base)
    (tmp_path / "override.yaml").write_text(over)
    return str(tmp_path / "compose.yaml"), str(tmp_path / "override.yaml")


def test_reset_removes_and_override_replaces(tmp_path):
    base, over = files(tmp_path)
    topo = load_path(base, env={}, more=(over,)).topology
    web = topo.container("rst-web-1")
    assert web.ports == () and web.exposed == ()
    assert [a.network for a in web.attachments] == ["rst_back"]         # not merged with front
    assert "www" in web.attachment("rst_back").aliases
    without = load_path(base, env={}).topology.container("rst-web-1")    # the same base alone
    assert len(without.ports) == 1 and sorted(a.network for a in without.attachments) == ["rst_back", "rst_front"]


def test_reset_and_override_on_what_extends_inherits(tmp_path):
    base, _ = files(tmp_path)
    tool = load_path(base, env={}).topology.container("rst-tool-1")
    assert tool.ports == ()                                     # inherited ports reset
    assert [str(d) for d in tool.dns] == ["198.51.100.53"]      # replaced, not appended
    assert (9000, "tcp") in tool.exposed and tool.hostname == "toolbox"


def test_an_overriding_value_is_reported_in_its_own_file(tmp_path):
    base, over = files(tmp_path, over=OVER.replace("ports: !reset []", "ports: !override ['x:80']"))
    with pytest.raises(TopologyError) as e:
        load_path(base, env={}, more=(over,))
    assert any(str(d).startswith(f"{over}:3: services.web.ports[0]:") for d in e.value.diagnostics), \
        e.value.diagnostics


def test_a_lab_file_has_no_use_for_the_tags(tmp_path):
    (tmp_path / "lab.yaml").write_text("name: rst\nnetworks: !reset {}\n")
    with pytest.raises(TopologyError) as e:
        load_path(str(tmp_path / "lab.yaml"), env={})
    assert [str(d) for d in e.value.diagnostics] == [
        f"{tmp_path}/lab.yaml:2: networks: !reset is a Compose override file's tag; a lab file has no files "
        "merged under it: remove the tag"]
