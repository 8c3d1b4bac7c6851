"""A Compose file brought up live through the CLI under a project name that is no lab name
(`c-compose-live`: a hyphen, 14 characters), its services resolving one another by service
name, alias and replica, then taken down by the project's name with nothing left behind."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import leftovers, needs_root

pytestmark = [needs_root, pytest.mark.root]

PROJECT = "c-compose-live"
COMPOSE = """\
name: c-compose-live
services:
  web:
    image: nginx
    ports: ["127.0.0.1:18080:80"]
    depends_on: [api]
    networks: [front, back]
  api:
    image: example/api
    scale: 2
    depends_on: [db]
    networks: [back]
  db:
    image: postgres
    environment: {POSTGRES_PASSWORD: example}
    networks:
      back:
        aliases: [database]
networks:
  front: {}
  back:
    internal: true
"""


def netlab(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netlab", *args], capture_output=True, text=True, cwd=cwd)


def answers(container: str, name: str) -> list[str]:
    out = netlab("exec", PROJECT, container, "--", sys.executable, "-m", "netlab.kernel.dnsquery", name).stdout
    return sorted(line.split()[1] for line in out.splitlines() if line.startswith("A "))


def test_compose_file_up_resolves_by_service_name_and_down_by_project(tmp_path):
    from netlab.app.compose_labs import lab_of
    from netlab.app.state import snapshot_topology
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    up = netlab("up", cwd=str(tmp_path))          # compose.yaml found in the current directory
    lab = lab_of(PROJECT)
    try:
        assert up.returncode == 0, up.stderr
        assert lab != PROJECT and len(lab) <= 8
        assert "not modelled" in up.stdout
        assert f"lab {PROJECT} (kernel prefix {lab}):" in up.stdout
        listed = netlab("ls").stdout
        assert any(line.split()[0] == PROJECT for line in listed.splitlines()[1:]), listed
        topo = snapshot_topology(lab)
        address = {c.name: str(a.address.ip) for c in topo.containers for a in c.attachments
                   if a.network == f"{PROJECT}_back"}
        assert answers("c-compose-live-web-1", "db") == [address["c-compose-live-db-1"]]
        assert answers("c-compose-live-web-1", "database") == [address["c-compose-live-db-1"]]
        assert answers("c-compose-live-db-1", "api") == sorted(
            [address["c-compose-live-api-1"], address["c-compose-live-api-2"]])
        assert answers("c-compose-live-api-2", "c-compose-live-web-1") == [address["c-compose-live-web-1"]]
        # a live trace between two services by name, the lab known by the project's name
        traced = netlab("trace", PROJECT, "c-compose-live-web-1", "db", "--port", "5432", "--json")
        assert traced.returncode == 0, traced.stderr
        t = json.loads(traced.stdout)
        assert t["probe"]["dst"] == address["c-compose-live-db-1"]
        assert t["outcome"]["owner"] == "c-compose-live-db-1" and t["outcome"]["status"] == "delivered"
        # depends_on: db first, then the api replicas, then web
        assert [c.name for c in topo.containers] == [
            "c-compose-live-db-1", "c-compose-live-api-1", "c-compose-live-api-2", "c-compose-live-web-1"]
    finally:
        down = netlab("down", PROJECT)
    assert down.returncode == 0, down.stderr
    assert not leftovers(lab)           # no namespace <lab>-..., /etc/netns entry, state or agent
    assert PROJECT not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_a_killed_compose_up_is_found_again_by_its_project(tmp_path):
    """`kill -9` mid-`up`: the lab keeps its derived kernel prefix (recorded before the first
    change), a second `up` finishes it, and `down PROJECT` removes it all."""
    from netlab.app.compose_labs import lab_of
    project = "c-compose-crash"
    (tmp_path / "compose.yaml").write_text(f"name: {project}\nservices:\n  a: {{image: x}}\n  b: {{image: y}}\n")
    killed = subprocess.run([sys.executable, "-m", "netlab", "up"], capture_output=True, text=True,
                            cwd=str(tmp_path), env={**os.environ, "NETLAB_KILL_BEFORE_STEP": "3"})
    lab = lab_of(project)
    try:
        assert killed.returncode == -9
        assert lab != project, "the half-built lab is not known by its project"
        again = netlab("up", cwd=str(tmp_path))
        assert again.returncode == 0, again.stderr
        assert lab_of(project) == lab and f"(kernel prefix {lab})" in again.stdout
    finally:
        netlab("down", project)
    assert not leftovers(lab)


D_PROJECT = "d-compose-names"
D_MAIN = """\
name: d-compose-names
include:
  - path: db/compose.yaml
services:
  web:
    image: nginx
    ports: ["127.0.0.1:18081:80"]
    depends_on: [db]
    networks: [front, back]
networks:
  front: {}
"""
D_DB = """\
services:
  db:
    image: postgres
    expose: ["5432"]
    networks: [back]
networks:
  back: {internal: true}
"""
D_OTHER = """\
name: d-compose-other
services:
  ci:
    image: runner
    networks: [shared]
networks:
  shared:
    name: d-compose-names_back
    external: true
"""


def test_an_included_project_is_shown_by_its_name_and_its_network_cannot_be_joined(tmp_path):
    """`include:` brought up live; `ls`, the trace report, `inspect` name the project (not
    its kernel prefix); another project's external network of the same Docker name is
    refused, saying which lab has it, and builds nothing."""
    from netlab.app.compose_labs import lab_of
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "compose.yaml").write_text(D_DB)
    (tmp_path / "compose.yaml").write_text(D_MAIN)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "compose.yaml").write_text(D_OTHER)
    up = netlab("up", "compose.yaml", cwd=str(tmp_path))
    lab = lab_of(D_PROJECT)
    try:
        assert up.returncode == 0, up.stderr
        assert lab != D_PROJECT
        listed = netlab("ls").stdout
        assert any(line.split()[0] == D_PROJECT for line in listed.splitlines()[1:]), listed
        traced = netlab("trace", D_PROJECT, f"{D_PROJECT}-web-1", "db", "--port", "5432")
        assert traced.returncode == 0, traced.stderr
        header = traced.stdout.splitlines()[0]
        assert header.startswith(f"traced in lab {D_PROJECT}: {D_PROJECT}-web-1 -> db (tcp port 5432)"), header
        assert f"delivered to {D_PROJECT}-db-1" in traced.stdout
        inspected = netlab("inspect", D_PROJECT, "ghost")
        assert f"lab '{D_PROJECT}' has no container or network named 'ghost'" in inspected.stderr
        refused = netlab("up", cwd=str(tmp_path / "other"))
        assert refused.returncode != 0
        assert "the Docker network 'd-compose-names_back' to exist already" in refused.stderr, refused.stderr
        assert f"The running lab {D_PROJECT} (netlab ls) has a network named 'd-compose-names_back', but a lab " \
               "cannot join another lab's network" in refused.stderr, refused.stderr
        assert lab_of("d-compose-other") == "d-compose-other"      # nothing of it was made
    finally:
        down = netlab("down", D_PROJECT)
    assert down.returncode == 0, down.stderr
    assert not leftovers(lab)
