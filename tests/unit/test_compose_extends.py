"""A service's `extends:`, in the same file or another, as compose-go applies it."""
from __future__ import annotations

import pytest

from netlab.compose import load_path
from netlab.errors import TopologyError

BASE = """\
name: ext
x-common: &common
  image: app
services:
  base:
    image: app
    networks: [back]
    expose: [8080]
    ports: ["8080"]
  web:
    extends: base
    ports: ["9090:8080"]
    networks:
      front: {aliases: [www]}
  worker:
    extends:
      service: tool
      file: common.yml
    networks: [back]
networks:
  back: {}
  front: {}
"""
COMMON = """\
services:
  tool:
    image: tools
    expose: [9000]
    hostname: toolbox
"""


def write(tmp_path, main: str, common: str = COMMON) -> str:
    (tmp_path / "common.yml").write_text(common)
    (tmp_path / "compose.yaml").write_text(main)
    return str(tmp_path / "compose.yaml")


def test_extends_in_the_same_file_and_another(tmp_path):
    topo = load_path(write(tmp_path, BASE), env={}).topology
    web = topo.container("ext-web-1")
    assert sorted(a.network for a in web.attachments) == ["ext_back", "ext_front"]     # merged as mappings
    assert web.attachment("ext_front").aliases == ("ext-web-1", "web", "www")
    assert len(web.ports) == 2 and 9090 in [p.host_port for p in web.ports]        # appended
    assert (8080, "tcp") in web.exposed
    worker = topo.container("ext-worker-1")
    assert worker.hostname == "toolbox" and (9000, "tcp") in worker.exposed


def test_an_inherited_value_is_reported_where_it_was_written(tmp_path):
    path = write(tmp_path, BASE.replace('ports: ["8080"]', 'ports: ["x:8080"]'))
    with pytest.raises(TopologyError) as e:
        load_path(path, env={})
    assert any(str(d).startswith(f"{path}:9: services.web.ports[0]:") for d in e.value.diagnostics), \
        e.value.diagnostics
    common = write(tmp_path, BASE, COMMON.replace("expose: [9000]", "expose: [9000]\n    ports: ['y:1']"))
    with pytest.raises(TopologyError) as e:
        load_path(common, env={})
    assert any(str(d).startswith(f"{tmp_path}/common.yml:5: services.worker.ports[0]:") for d in e.value.diagnostics), \
        e.value.diagnostics


@pytest.mark.parametrize("services,message", [
    ("  a:\n    image: x\n    extends: b\n  b:\n    image: x\n    extends: a\n",
     ":4: services.a.extends: circular extends: a -> b -> a"),
    ("  a:\n    image: x\n    extends: ghost\n",
     ":4: services.a.extends: cannot extend service 'a': service 'ghost' not found"),
    ("  a:\n    image: x\n    extends: {service: t, file: nope.yml}\n",
     ":4: services.a.extends.file: cannot read 'nope.yml' to extend"),
])
def test_extends_errors(tmp_path, services, message):
    path = write(tmp_path, "services:\n" + services)
    with pytest.raises(TopologyError) as e:
        load_path(path, env={})
    assert any(str(d) == path + message for d in e.value.diagnostics), e.value.diagnostics
