"""The CLI over Compose files (no root: validate, plan, rules) and the app layer's map from
Compose project names to the labs on the machine."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from compose_files import NGINX_FLASK_MYSQL, WORDPRESS_MYSQL

from netlab.app import compose_labs, state
from netlab.cli import main


@pytest.fixture
def project_dir(tmp_path, monkeypatch):
    where = tmp_path / "Shop.App"
    where.mkdir()
    monkeypatch.chdir(where)
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    return where


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_validate_finds_docker_compose_yml_in_the_current_directory(project_dir):
    (project_dir / "docker-compose.yml").write_text(NGINX_FLASK_MYSQL)
    r = run("validate")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("docker-compose.yml: ok (Compose project shopapp, lab shopapp: 1 hosts, "
                               "3 networks, 3 containers)\n")
    assert "note: not modelled" in r.output


def test_compose_yaml_comes_before_docker_compose_yml(project_dir):
    (project_dir / "docker-compose.yml").write_text(NGINX_FLASK_MYSQL)
    (project_dir / "compose.yaml").write_text(WORDPRESS_MYSQL)
    assert run("validate").output.startswith("compose.yaml: ok (Compose project wp")


def test_no_file_here_is_one_clear_message(project_dir):
    r = run("validate")
    assert r.exit_code == 1
    assert "no FILE given and no compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml" in r.output


def test_dash_f_and_dash_p(project_dir):
    (project_dir / "stack.yml").write_text(NGINX_FLASK_MYSQL)
    r = run("validate", "-f", "stack.yml", "-p", "c-shop")
    assert r.exit_code == 0, r.output
    assert "Compose project c-shop, lab " in r.output
    assert run("validate", "stack.yml", "-f", "stack.yml").exit_code != 0
    bad = run("validate", "-f", "stack.yml", "-p", "Shop")
    assert bad.exit_code == 1 and "invalid project name 'Shop' from -p/--project-name" in bad.output


def test_plan_and_rules_take_a_compose_file(project_dir):
    (project_dir / "compose.yaml").write_text(WORDPRESS_MYSQL)
    plan = run("plan")
    assert plan.exit_code == 0, plan.output
    assert "wp-wordpress-1" in plan.output and "note: not modelled" in plan.output
    rules = run("rules")
    assert rules.exit_code == 0, rules.output
    assert "note:" not in rules.output           # the rules stay pure iptables-save text on stdout
    assert "-p tcp -m tcp --dport 8000 -j DNAT --to-destination 172.18.0.2:80" in rules.output


def test_a_compose_error_exits_1_with_the_line(project_dir):
    (project_dir / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n    depends_on: [db]\n")
    r = run("plan")
    assert r.exit_code == 1
    assert r.output == ("compose.yaml:4: services.web.depends_on[0]: service 'web' depends on undefined "
                        "service 'db'\n")


def test_projects_map_to_their_labs(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "ROOT", str(tmp_path))
    (tmp_path / "cco1234a").mkdir()
    compose_labs.remember("cco1234a", "c-compose-x")
    (tmp_path / "demo").mkdir()
    assert compose_labs.project_of("cco1234a") == "c-compose-x"
    assert compose_labs.project_of("demo") is None
    assert compose_labs.lab_of("c-compose-x") == "cco1234a"
    assert compose_labs.lab_of("demo") == "demo"
    assert compose_labs.lab_of("unknown") == "unknown"
    assert compose_labs.taken("cco1234a", "another-project")
    assert not compose_labs.taken("cco1234a", "c-compose-x")
    assert compose_labs.taken("demo", "c-compose-x")         # a lab file's lab of that name
    assert not compose_labs.taken("free1234", "c-compose-x")


def test_graph_draws_a_compose_file_and_a_path_by_service_name(project_dir):
    (project_dir / "compose.yaml").write_text(WORDPRESS_MYSQL)
    r = run("graph", "compose.yaml", "--trace", "wp-wordpress-1", "db", "--port", "3306", "-o", "g.dot")
    assert r.exit_code == 0, r.output
    dot = (project_dir / "g.dot").read_text()
    assert "wp-db-1" in dot and "wp_backend" in dot


def test_a_notebook_lab_from_compose_text(monkeypatch, tmp_path):
    from netlab.app.lab import Lab
    monkeypatch.setattr("netlab.app.lab.LAB_DIR", str(tmp_path))
    lab = Lab(yaml=WORDPRESS_MYSQL, name="c-nb")
    assert lab.name != "c-nb" and len(lab.name) <= 8          # the project's kernel prefix
    assert [c.name for c in lab.topology.containers] == ["c-nb-db-1", "c-nb-wordpress-1"]
    assert Lab(lab.file).topology.containers == lab.topology.containers


def test_the_override_file_beside_the_default_one_is_merged(project_dir):
    (project_dir / "compose.yaml").write_text(WORDPRESS_MYSQL)
    (project_dir / "compose.override.yaml").write_text(
        "services:\n  db:\n    ports: ['127.0.0.1:3306:3306']\n    networks: [frontend]\n")
    r = run("plan")
    assert r.exit_code == 0, r.output
    assert "127.0.0.1" in r.output and "3306" in r.output
    # given with -f, the file is read alone, and the override beside it is said not to be read
    alone = run("validate", "-f", "compose.yaml")
    assert "note: compose.override.yaml is beside compose.yaml but not read" in alone.output


def test_files_given_with_dash_f_are_merged_in_order(project_dir):
    (project_dir / "base.yml").write_text(WORDPRESS_MYSQL)
    (project_dir / "more.yml").write_text("name: other\nservices:\n  cache:\n    image: redis\n"
                                          "    networks: [backend]\n")
    r = run("validate", "-f", "base.yml", "-f", "more.yml")
    assert r.exit_code == 0, r.output
    assert "Compose project other" in r.output and "3 containers" in r.output


def test_an_error_in_the_second_file_names_that_file(project_dir):
    (project_dir / "base.yml").write_text(WORDPRESS_MYSQL)
    (project_dir / "more.yml").write_text("services:\n  db:\n    depends_on: [ghost]\n")
    r = run("validate", "-f", "base.yml", "-f", "more.yml")
    assert r.exit_code == 1
    assert r.output == "more.yml:3: services.db.depends_on[0]: service 'db' depends on undefined service 'ghost'\n"
