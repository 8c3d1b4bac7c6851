"""Compose files merged as compose-go merges them, each value keeping its file and line."""
from __future__ import annotations

from netlab.compose.merge import merge_sources
from netlab.model.source import parse_text

BASE = """\
services:
  web:
    image: nginx
    command: [nginx, -g, daemon off;]
    ports: ["80:80"]
    networks: [front]
    depends_on: [db]
  db:
    image: postgres
networks:
  front:
    ipam:
      config:
        - subnet: 10.1.0.0/24
        - subnet: 10.2.0.0/24
"""
OVER = """\
services:
  web:
    command: nginx-debug
    ports: ["80:80", "443:443"]
    networks:
      back: {aliases: [www]}
    depends_on:
      cache: {condition: service_started}
  cache:
    image: redis
networks:
  front:
    ipam:
      config:
        - subnet: 10.2.0.0/24
          gateway: 10.2.0.254
  back: {}
"""


def merged():
    return merge_sources([parse_text(BASE, "base.yml"), parse_text(OVER, "over.yml")])


def test_merge_rules():
    src, problems = merged()
    assert not problems
    web = src.data["services"]["web"]
    assert web["command"] == "nginx-debug"                       # replaced whole
    assert web["ports"] == ["80:80", "443:443"]                  # appended, without repeats
    assert web["networks"] == {"front": None, "back": {"aliases": ["www"]}}    # list and mapping as one
    assert web["depends_on"] == {"db": None, "cache": {"condition": "service_started"}}
    assert web["image"] == "nginx"
    assert set(src.data["services"]) == {"web", "db", "cache"}
    assert src.data["networks"]["front"]["ipam"]["config"] == [
        {"subnet": "10.1.0.0/24"}, {"subnet": "10.2.0.0/24", "gateway": "10.2.0.254"}]   # by subnet


def test_each_value_keeps_its_file_and_line():
    src, _ = merged()
    assert str(src.diag("services.web.image", "x")) == "base.yml:3: services.web.image: x"
    assert str(src.diag("services.web.command", "x")) == "over.yml:3: services.web.command: x"
    assert str(src.diag("services.web.ports[1]", "x")) == "over.yml:4: services.web.ports[1]: x"
    assert str(src.diag("services.cache", "x")) == "over.yml:9: services.cache: x"
    assert str(src.diag("networks.front.ipam.config[1].gateway", "x")) == \
        "over.yml:16: networks.front.ipam.config[1].gateway: x"


def test_another_shape_cannot_override():
    _, problems = merge_sources([parse_text(BASE, "base.yml"), parse_text("services:\n  web:\n    ports: 80\n",
                                                                           "over.yml")])
    assert [str(p) for p in problems] == [
        "over.yml:3: services.web.ports: cannot override services.web.ports: over.yml gives it another shape "
        "than before"]
