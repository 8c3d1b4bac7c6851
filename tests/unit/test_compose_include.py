"""Top-level `include:` as compose-go applies it: included projects' resources added to the
including file's, paths and env files resolved against the including project's directory,
errors located in the file that holds them, conflicts and cycles refused."""
from __future__ import annotations

import pytest

from netlab.compose import load_path
from netlab.errors import TopologyError

MAIN = """\
name: shop
include:
  - db/compose.yaml
  - path: [api/compose.yaml, api/override.yaml]
    env_file: api.env
services:
  web:
    image: nginx
    networks: [front, back]
    depends_on: [api]
networks:
  front: {}
"""
DB = """\
services:
  db:
    image: postgres
    networks: [back]
    expose: ["${DB_PORT}"]
networks:
  back:
    ipam:
      config: [{subnet: 10.70.0.0/24}]
"""
API = """\
services:
  api:
    image: api
    networks: [back]
    expose: ["${API_PORT:-80}"]
    depends_on: [db]
"""
API_OVER = """\
services:
  api:
    hostname: api-box
"""


def tree(tmp_path, main: str = MAIN, db: str = DB, api: str = API) -> str:
    for rel, text in {"compose.yaml": main, "db/compose.yaml": db, "db/.env": "DB_PORT=5432\n",
                      "api/compose.yaml": api, "api/override.yaml": API_OVER, "api.env": "API_PORT=8080\n"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return str(tmp_path / "compose.yaml")


def subnet(topo, network: str):
    return next(s.subnet for s in topo.segments if s.network == network)


def failing(path: str) -> list[str]:
    with pytest.raises(TopologyError) as e:
        load_path(path, env={})
    return [str(d) for d in e.value.diagnostics]


def test_included_services_and_networks_join_the_project(tmp_path):
    loaded = load_path(tree(tmp_path), env={})
    topo = loaded.topology
    assert loaded.project == "shop"         # the including file's name; the project is one
    assert {c.name for c in topo.containers} == {"shop-web-1", "shop-db-1", "shop-api-1"}
    assert str(subnet(topo, "shop_back")) == "10.70.0.0/24"      # defined by the included file
    db, api = topo.container("shop-db-1"), topo.container("shop-api-1")
    assert (5432, "tcp") in db.exposed          # from db/.env: the included project's directory
    assert (8080, "tcp") in api.exposed         # from env_file, relative to the including file
    assert api.hostname == "api-box"            # the second path merged over the first


def test_the_environment_wins_over_an_included_env_file(tmp_path):
    topo = load_path(tree(tmp_path), env={"API_PORT": "9999"}).topology
    assert (9999, "tcp") in topo.container("shop-api-1").exposed


def test_an_error_in_an_included_file_names_that_file_and_line(tmp_path):
    path = tree(tmp_path, db=DB.replace("networks: [back]", "networks: [back]\n    ports: ['x:1']"))
    errors = failing(path)
    assert any(e.startswith(f"{tmp_path}/db/compose.yaml:5: services.db.ports[0]:") for e in errors), errors


def test_a_translation_error_in_an_included_file_names_that_file(tmp_path):
    path = tree(tmp_path, api=API.replace("networks: [back]", "networks: [nowhere]"))
    errors = failing(path)
    assert any(e.startswith(f"{tmp_path}/api/compose.yaml:4: services.api.networks:") and "'nowhere'" in e
               for e in errors), errors


def test_a_resource_defined_otherwise_by_both_is_refused(tmp_path):
    path = tree(tmp_path, main=MAIN.replace("  front: {}", "  front: {}\n  back: {internal: true}"))
    errors = failing(path)
    assert any(e.startswith(f"{tmp_path}/db/compose.yaml:7: networks.back: networks.back conflicts with imported "
                            f"resource: {path}:13 defines") for e in errors), errors


def test_a_resource_defined_alike_by_both_is_one(tmp_path):
    same = "  back:\n    ipam:\n      config: [{subnet: 10.70.0.0/24}]"
    topo = load_path(tree(tmp_path, main=MAIN + same + "\n"), env={}).topology
    assert str(subnet(topo, "shop_back")) == "10.70.0.0/24"


def test_an_include_cycle_is_refused(tmp_path):
    path = tree(tmp_path, db="include: [../compose.yaml]\n" + DB)
    errors = failing(path)
    assert any(e.startswith(f"{tmp_path}/db/compose.yaml:1: include[0]: include cycle: compose.yaml, which "
                            "includes db/compose.yaml, which includes compose.yaml") for e in errors), errors


@pytest.mark.parametrize("entry,message", [
    ("  - nothing.yaml\n", ":3: include[2].path: cannot include nothing.yaml: no such file"),
    ("  - path: db/compose.yaml\n    env_file: none.env\n",
     ":4: include[2].env_file: cannot read the env file none.env: no such file"),
    ("  - {path: x.yaml, where: here}\n", ":3: include[2].where: unknown key"),
])
def test_include_entries_that_cannot_be_read(tmp_path, entry, message):
    main = MAIN.replace("    env_file: api.env\n", "    env_file: api.env\n" + entry)
    path = tree(tmp_path, main=main)
    errors = failing(path)
    line = main[:main.index(entry)].count("\n") + 1
    want = path + message.replace(":3:", f":{line}:", 1).replace(":4:", f":{line + 1}:", 1)
    assert any(e.startswith(want) for e in errors), (want, errors)


def test_a_file_of_includes_only_is_a_compose_file(tmp_path):
    tree(tmp_path)
    (tmp_path / "all.yaml").write_text("name: all\ninclude: [db/compose.yaml]\n")
    topo = load_path(str(tmp_path / "all.yaml"), env={}).topology
    assert [c.name for c in topo.containers] == ["all-db-1"]
