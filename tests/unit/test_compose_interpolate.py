"""Compose's variable interpolation, from the environment and the project's .env file."""
from __future__ import annotations

import pytest

from netlab.compose import load_source
from netlab.compose.interpolate import Interpolation, TemplateError, read_dotenv
from netlab.errors import TopologyError
from netlab.model.source import parse_text


@pytest.mark.parametrize("template,expected", [
    ("$A", "a"), ("${A}", "a"), ("x${A}y", "xay"), ("$$A", "$A"), ("$$", "$"), ("a $ b", "a $ b"),
    ("${NOPE:-dflt}", "dflt"), ("${EMPTY:-dflt}", "dflt"), ("${EMPTY-dflt}", ""), ("${NOPE-dflt}", "dflt"),
    ("${A:+alt}", "alt"), ("${EMPTY:+alt}", ""), ("${EMPTY+alt}", "alt"), ("${NOPE+alt}", ""),
    ("${NOPE:-${A}-${B:-b}}", "a-b"), ("${A:?must}", "a"), ("$NOPE", ""),
    ("${PORT:-8080}:80", "8080:80"),
])
def test_substitution(template, expected):
    assert Interpolation({"A": "a", "EMPTY": ""}).text(template) == expected


@pytest.mark.parametrize("template,message", [
    ("${NOPE:?set it}", "required variable NOPE is missing a value: set it"),
    ("${EMPTY:?}", "required variable EMPTY is missing a value"),
    ("${A", "no closing"),
    ("${1A}", "does not start with a variable name"),
    ("${A*b}", "after the name comes"),
])
def test_errors(template, message):
    with pytest.raises(TemplateError, match=message):
        Interpolation({"A": "a", "EMPTY": ""}).text(template)


def test_unset_variables_are_noted_once():
    job = Interpolation({})
    job.text("$X ${X} ${Y}")
    assert job.unset == ["X", "Y"]


def test_a_compose_file_takes_its_variables_from_the_environment_then_dot_env(tmp_path):
    (tmp_path / ".env").write_text("# settings\nexport WEB_PORT=9090\nNET='back end'\nPROJ=\"fromdotenv\"\n"
                                   "COMPOSE_PROJECT_NAME=dotenvproject\n")
    file = str(tmp_path / "compose.yaml")
    text = ("name: ${PROJ}\nservices:\n  web:\n    image: nginx:${TAG:-latest}\n"
            "    ports: ['${WEB_PORT}:80', '${OTHER:-7070}:81']\n  api:\n    image: api\n    scale: ${N:-2}\n")
    lab = load_source(parse_text(text, file), env={"WEB_PORT": "8081"})
    assert lab.project == "dotenvproject"       # COMPOSE_PROJECT_NAME from .env wins over name:
    assert [c.name for c in lab.topology.containers] == ["dotenvproject-api-1", "dotenvproject-api-2",
                                                         "dotenvproject-web-1"]      # by service key
    web = lab.topology.container("dotenvproject-web-1")
    assert sorted(p.host_port for p in web.ports) == [7070, 8081]     # the environment wins over .env
    assert read_dotenv(str(tmp_path / ".env"))["NET"] == "back end"


def test_a_bad_template_is_an_error_at_its_line(tmp_path):
    file = str(tmp_path / "compose.yaml")
    with pytest.raises(TopologyError) as e:
        load_source(parse_text("services:\n  web:\n    image: nginx\n    ports: ['${P:?give P}:80']\n", file), env={})
    assert [str(d) for d in e.value.diagnostics] == [
        f"{file}:4: services.web.ports[0]: invalid interpolation in '${{P:?give P}}:80': required variable P "
        "is missing a value: give P (write $$ for a literal $)"]


def test_an_unset_variable_is_a_note(tmp_path):
    lab = load_source(parse_text("services:\n  web:\n    image: nginx:$TAG\n", str(tmp_path / "c.yaml")), env={})
    assert lab.notes[0] == "the 'TAG' variable is not set; defaulting to a blank string (as Compose warns)"
