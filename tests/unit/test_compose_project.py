"""The project name as Compose computes it, and the kernel prefix netlab derives from it."""
from __future__ import annotations

import pytest

from netlab.compose.project import ProjectNameError, kernel_prefix, normalize, project_name
from netlab.model import naming

FILE = "/home/me/My.Shop_2/compose.yaml"


def test_precedence_option_environment_name_directory():
    env = {"COMPOSE_PROJECT_NAME": "fromenv"}
    assert project_name(FILE, "fromfile", "fromopt", env) == ("fromopt", "option")
    assert project_name(FILE, "fromfile", None, env) == ("fromenv", "environment")
    assert project_name(FILE, "fromfile", None, {}) == ("fromfile", "name")
    assert project_name(FILE, None, None, {}) == ("myshop_2", "directory")


def test_name_and_directory_are_normalised_as_compose_go_does():
    assert normalize("My App.v2") == "myappv2"
    assert normalize("__-x") == "x"
    assert project_name(FILE, "Web Shop!", None, {}) == ("webshop", "name")


def test_option_and_environment_must_already_be_normal():
    with pytest.raises(ProjectNameError, match="invalid project name 'Shop' from -p/--project-name"):
        project_name(FILE, None, "Shop", {})
    with pytest.raises(ProjectNameError, match="from COMPOSE_PROJECT_NAME"):
        project_name(FILE, None, None, {"COMPOSE_PROJECT_NAME": "-x"})


def test_a_name_empty_once_normalised_is_refused():
    with pytest.raises(ProjectNameError, match="empty once normalised"):
        project_name(FILE, "!!!", None, {})


def test_short_names_are_their_own_prefix():
    # every existing lab name stays byte-identical
    for name in ("demo", "a", "web12345"):
        assert kernel_prefix(name) == name


@pytest.mark.parametrize("project", ["c-compose-demo", "my_project", "averyveryverylongprojectname", "x-1", "_"])
def test_other_names_get_a_stable_short_prefix(project):
    prefix = kernel_prefix(project)
    assert naming.LAB_NAME.fullmatch(prefix)
    assert prefix == kernel_prefix(project)                    # stable across runs
    assert prefix.startswith(project.replace("-", "").replace("_", "")[:3])


def test_distinct_projects_get_distinct_prefixes():
    names = [f"c-proj-{i}" for i in range(300)]
    assert len({kernel_prefix(n) for n in names}) == len(names)


def test_a_taken_prefix_moves_to_the_next_salt():
    first = kernel_prefix("c-demo")
    second = kernel_prefix("c-demo", lambda prefix, project: prefix == first)
    assert second != first and naming.LAB_NAME.fullmatch(second)
    # the project that holds it keeps it; another project whose hash lands there moves on
    labs = {first: "c-demo"}
    taken = lambda prefix, project: prefix in labs and labs[prefix] != project
    assert kernel_prefix("c-demo", taken) == first
