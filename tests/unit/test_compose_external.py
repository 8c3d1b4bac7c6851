"""An `external: true` network: refused with its Docker name, why, what to write instead,
and, when a lab up on this machine has a network of that name, that it cannot be joined."""
from __future__ import annotations

from pathlib import Path

import pytest
from compose_files import FILE, errors

from netlab.app import compose_labs, state

EXTERNAL = (Path(__file__).parents[1] / "fixtures" / "compose" / "12-external.yml").read_text()


def test_the_message_names_the_docker_network_and_what_to_do():
    got = errors(EXTERNAL)
    line = EXTERNAL.splitlines().index("    external: true") + 1
    assert [e for e in got if ".external:" in e] == [
        f"{FILE}:{line}: networks.shared.external: network 'shared' is external: Compose expects the Docker "
        "network 'infra-shared' to exist already (`docker network create infra-shared`, or another project). "
        "netlab builds one project at a time and makes every network of it itself, so there is none to join. "
        "Declare the network in this file (remove `external: true`; keep `name:` for the same Docker name), or "
        "remove it and its services' references to it."]


@pytest.mark.parametrize("spec,name", [("external: true", "edge"), ("{external: {name: old-style}}", "old-style"),
                                       ("{external: true, name: given}", "given")])
def test_the_docker_name_of_an_external_network(spec, name):
    text = f"services:\n  a:\n    image: x\n    networks: [edge]\nnetworks:\n  edge:\n    {spec}\n" \
        if spec.startswith("external") else f"services:\n  a:\n    image: x\n    networks: [edge]\nnetworks:\n  edge: {spec}\n"
    assert any(f"the Docker network {name!r} to exist already" in e for e in errors(text))


def test_a_lab_here_with_that_network_is_named_and_joining_it_refused():
    got = errors(EXTERNAL, networks_here=lambda name: ["ci-infra"] if name == "infra-shared" else [])
    assert any(e.endswith("The running lab ci-infra (netlab ls) has a network named 'infra-shared', but a lab "
                          "cannot join another lab's network: each lab's networks, namespaces and rules are its "
                          "own. To have both projects on one network, bring them up as one (`include:` the other "
                          "file).") for e in got), got


def test_networks_here_reads_the_labs_snapshots(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "ROOT", str(tmp_path))
    for lab, project, nets in (("ci1a2b3c", "ci-infra", ["infra-shared", "ci-infra_default"]),
                               ("other", None, ["lan"])):
        (tmp_path / lab).mkdir()
        (tmp_path / lab / state.SNAPSHOT).write_text(
            f"name: {lab}\nnetworks:\n" + "".join(f"  {n}: {{}}\n" for n in nets))
        if project:
            compose_labs.remember(lab, project)
    assert compose_labs.networks_here("infra-shared") == ["ci-infra"]     # by its project name
    assert compose_labs.networks_here("lan") == ["other"]
    assert compose_labs.networks_here("nowhere") == []
