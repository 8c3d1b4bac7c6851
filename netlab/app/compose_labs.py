"""Compose projects among the labs on this machine: a Compose lab's kernel prefix (its lab
name in /run/netlab and in every namespace) and its project name, recorded beside its state,
so that `ls`, `down`, `exec`, `trace` and friends take the project name."""
from __future__ import annotations

import os

import yaml

from ..compose import Loaded, load_path
from ..compose.load import OVERRIDES
from ..model import naming
from . import state

PROJECT = "project"         # the Compose project's name, in the lab's state directory


def project_of(lab: str) -> str | None:
    try:
        with open(f"{state.lab_dir(lab)}/{PROJECT}") as f:
            return f.read().strip() or None
    except OSError:
        return None


def remember(lab: str, project: str) -> None:
    with open(f"{state.lab_dir(lab)}/{PROJECT}", "w") as f:
        f.write(project + "\n")


def taken(prefix: str, project: str) -> bool:
    """A derived prefix is taken when a lab of that name is here and is not this project."""
    return os.path.isdir(state.lab_dir(prefix)) and project_of(prefix) != project


def lab_of(name: str) -> str:
    """The lab a LAB argument means: a lab of that name, else the lab of that Compose project."""
    if naming.LAB_NAME.fullmatch(name) and os.path.isdir(state.lab_dir(name)):
        return name
    for lab in state.labs():
        if project_of(lab) == name:
            return lab
    return name


def shown_name(lab: str) -> str:
    """A lab as its user knows it: a Compose lab by its project name, else by its lab name."""
    return project_of(lab) or lab


def networks_here(name: str) -> list[str]:
    """The labs up here that have a network of Docker name `name` (from each lab's snapshot,
    whose networks are keyed by their Docker names)."""
    out = []
    for lab in state.labs():
        try:
            with open(f"{state.lab_dir(lab)}/{state.SNAPSHOT}", "rb") as f:
                data = yaml.safe_load(f)
        except (OSError, yaml.YAMLError):
            continue
        nets = data.get("networks") if isinstance(data, dict) else None
        if isinstance(nets, dict) and name in nets:
            out.append(shown_name(lab))
    return out


def load(path: str, engine: str | None = None, project: str | None = None,
         profiles: tuple[str, ...] = (), more: tuple[str, ...] = ()) -> Loaded:
    """A lab file or a Compose file (and `more` merged over it), with Compose's kernel prefix
    checked against the labs here, and the labs here told of for an external network."""
    return load_path(path, engine, project, profiles=profiles, taken=taken, more=more,
                     networks_here=networks_here)


def compose_files(given: str | None, options: tuple[str, ...] = ()) -> tuple[str, tuple[str, ...]]:
    """(the file, files merged over it) as `docker compose` takes them: FILE, else each -f in
    order, else the default file found here with its override file beside it, if any."""
    if given or options:
        return (given, ()) if given else (options[0], tuple(options[1:]))
    first = compose_file(None)
    return first, tuple(name for name in OVERRIDES if os.path.isfile(name))[:1]


def compose_file(given: str | None) -> str:
    """FILE as `docker compose` finds it: given, else compose.yaml (and its variants) in the
    current directory (compose-go's DefaultFileNames, in that order)."""
    if given:
        return given
    for name in ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"):
        if os.path.isfile(name):
            return name
    from ..errors import LabError
    raise LabError("no FILE given and no compose.yaml, compose.yml, docker-compose.yml or "
                   "docker-compose.yaml in the current directory")
