"""Loading a lab from a file in either format: a Compose file (with `services:`) is checked
against the Compose specification, translated and resolved by netlab's own loader; a lab file
is resolved as it always was, with hints when it uses Compose's words."""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import yaml

from ..errors import TopologyError
from ..model.resolve import resolve
from ..model.source import Source, parse_file
from ..model.topology import Topology
from .builder import Builder, ComposeSource
from .detect import is_compose, lab_hints, mixed, neither
from .external import NetworksHere
from .interpolate import project_env
from .layers import read_files
from .project import ProjectNameError, kernel_prefix, project_name
from .reset import TAGS
from .translate import translate
from .validate import check_compose_schema


@dataclass(frozen=True)
class Loaded:
    """A lab ready to plan. For a Compose file: its project name, the lab file it translates
    to (what `up` keeps as the lab's snapshot; netlab's loader reads it back into the same
    topology) and the notes (Docker's warnings, what is not modelled)."""

    topology: Topology
    project: str | None = None
    lab_text: str | None = None
    notes: tuple[str, ...] = ()


def load_path(path: str, engine: str | None = None, project: str | None = None,
              env: Mapping[str, str] | None = None, profiles: tuple[str, ...] = (),
              taken: Callable[[str, str], bool] = lambda prefix, project: False,
              more: tuple[str, ...] = (), networks_here: NetworksHere = lambda name: []) -> Loaded:
    """`more`: Compose files merged over the first, in order (`-f A -f B`, an override file).
    `taken` and `networks_here`: what the labs on this machine hold (kernel prefixes, networks)."""
    src = parse_file(path, TAGS)
    if not more:
        return load_source(src, engine, project, env, profiles, taken, networks_here)
    others = [parse_file(p, TAGS) for p in more]
    for s in [src, *others]:
        if not is_compose(s.data):
            raise TopologyError(s.problems + [s.diag("", "only Compose files (with `services:`) can be given "
                                                         "together; this one has none")])
    return load_compose(src, engine, project, env, profiles, taken, others, networks_here)


def load_source(src: Source, engine: str | None = None, project: str | None = None,
                env: Mapping[str, str] | None = None, profiles: tuple[str, ...] = (),
                taken: Callable[[str, str], bool] = lambda prefix, project: False,
                networks_here: NetworksHere = lambda name: []) -> Loaded:
    if is_compose(src.data):
        return load_compose(src, engine, project, env, profiles, taken, networks_here=networks_here)
    if project is not None:
        raise TopologyError([src.diag("", "-p/--project-name is for Compose files; a lab file names "
                                          "its lab with `name:`")])
    other = neither(src)
    if other is not None:
        raise TopologyError(src.problems + [other])
    if src.tags:
        raise TopologyError(src.problems + [src.diag(p, f"{tag} is a Compose override file's tag; a lab file "
                                                        "has no files merged under it: remove the tag")
                                            for p, tag in src.tags.items()])
    try:
        return Loaded(resolve(src, engine))
    except TopologyError as e:
        raise TopologyError(e.diagnostics + lab_hints(src)) from None


def load_compose(src: Source, engine: str | None = None, project: str | None = None,
                 env: Mapping[str, str] | None = None, profiles: tuple[str, ...] = (),
                 taken: Callable[[str, str], bool] = lambda prefix, project: False,
                 others: list[Source] | None = None, networks_here: NetworksHere = lambda name: []) -> Loaded:
    """`others`: later Compose files merged over `src`, each interpolated first (compose-go)."""
    env = project_env(src.file, os.environ if env is None else env)
    files = [src.file, *(o.file for o in others or [])]
    src, bad, unset = read_files([src, *(others or [])], env, os.path.dirname(os.path.abspath(files[0])))
    both = mixed(src)
    diags = src.problems + bad + (check_compose_schema(src) if not bad else []) + ([both] if both else [])
    if diags:       # nothing is read from a file that breaks the specification
        raise TopologyError(diags)
    data = src.data if isinstance(src.data, dict) else {}
    try:
        name, _ = project_name(src.file, data.get("name"), project, env)
        prefix = kernel_prefix(name, taken)
    except ProjectNameError as e:
        raise TopologyError([src.diag("name" if e.where == "name" else "", str(e))]) from None
    wanted = tuple(profiles) + tuple(p for p in env.get("COMPOSE_PROFILES", "").split(",") if p)
    b = Builder(src)
    translate(b, name, prefix, wanted, networks_here)
    if b.diags:
        raise TopologyError(b.diags)
    topo = replace(resolve(ComposeSource(src.file, b.lab, compose=src, where=b.where), engine), project=name)
    text = f"# lab {prefix}: Compose project {name} ({', '.join(files)}), as netlab reads it\n" + \
        yaml.safe_dump(b.lab, sort_keys=False)
    return Loaded(topo, name, text, tuple(unset + _overrides(files) + b.notes))


OVERRIDES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
             "docker-compose.override.yaml")


def _overrides(files: list[str]) -> list[str]:
    """An override file beside the first file that was not read: docker compose merges it
    only when it finds the files itself, as netlab does (no FILE and no -f)."""
    here = os.path.dirname(os.path.abspath(files[0]))
    given = {os.path.abspath(f) for f in files}
    return [f"{name} is beside {os.path.basename(files[0])} but not read: files given with -f are read alone, "
            "as docker compose reads them" for name in OVERRIDES
            if os.path.isfile(os.path.join(here, name)) and os.path.join(here, name) not in given][:1]
