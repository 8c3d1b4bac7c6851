"""Top-level `include:` as compose-go applies it (loader/include.go): each entry (a path, or
`path` with `project_directory` and `env_file`) is read as a Compose project of its own --
its paths resolved against the including project's directory, the later ones merged over
the first, variables from the environment and then its env files (its project directory's
`.env` when none is given) -- and its services, networks, volumes, secrets and configs are
added to the including file's. A resource the including file defines otherwise is an error;
so is a file that includes itself, however indirectly."""
from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import Diagnostic, TopologyError
from ..model.source import Source, parse_file
from .interpolate import read_dotenv
from .merge import MergedSource, as_merged
from .reset import TAGS
from .validate import check_compose_schema

RESOURCES = ("services", "volumes", "networks", "secrets", "configs")
Reader = Callable[[list[Source], Mapping[str, str], str, tuple[str, ...]],
                  tuple[MergedSource, list[Diagnostic], list[str]]]


def _list(value: object) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []


def _shown(path: str, chain: tuple[str, ...]) -> str:
    """A file's path relative to the outermost file's directory, for messages."""
    base = os.path.dirname(chain[0]) if chain else os.getcwd()
    rel = os.path.relpath(path, base)
    return path if rel.startswith("..") else rel


def apply_includes(src: Source, env: Mapping[str, str], workdir: str, chain: tuple[str, ...],
                   read: Reader) -> tuple[Source, list[Diagnostic], list[str]]:
    """(`src` with its includes' resources added and `include` gone, errors, unset variables)."""
    data = src.data
    if not isinstance(data, dict) or "include" not in data:
        return src, [], []
    merged = copy.copy(as_merged(src))
    merged.origin = dict(merged.origin)
    merged.data = {k: v for k, v in data.items() if k != "include"}
    raw = data["include"]
    view = copy.copy(merged)
    view.data = {"include": raw}
    diags = check_compose_schema(view)
    if diags or not isinstance(raw, list):
        return merged, diags, []
    unset: list[str] = []
    for i, entry in enumerate(raw):
        got = _one(merged, f"include[{i}]", {"path": entry} if isinstance(entry, str) else entry,
                   env, workdir, chain, read, diags)
        if got is not None:
            unset += [u for u in got if u not in unset]
    return merged, diags, unset


def _one(merged: MergedSource, where: str, entry: dict[str, Any], env: Mapping[str, str], workdir: str,
         chain: tuple[str, ...], read: Reader, diags: list[Diagnostic]) -> list[str] | None:
    paths = [os.path.normpath(os.path.join(workdir, p)) for p in _list(entry.get("path"))]
    if not paths:
        diags.append(merged.diag(where, "an include names at least one file in `path`"))
        return None
    for i, p in enumerate(paths):
        if not os.path.isfile(p):
            at = f"{where}.path" + (f"[{i}]" if isinstance(entry.get("path"), list) else "")
            diags.append(merged.diag(at, f"cannot include {_shown(p, chain)}: no such file"))
            return None
    if paths[0] in chain:
        cycle = [*chain[chain.index(paths[0]):], paths[0]]
        diags.append(merged.diag(where, "include cycle: " + ", which includes ".join(_shown(f, chain) for f in cycle)
                                 + " (Compose refuses it too)"))
        return None
    given = entry.get("project_directory")
    project_dir = os.path.dirname(paths[0]) if not isinstance(given, str) else \
        os.path.normpath(os.path.join(workdir, given))
    variables: dict[str, str] = {}
    for i, f in enumerate(_list(entry.get("env_file"))):
        f = os.path.normpath(os.path.join(workdir, f))
        if not os.path.isfile(f):
            at = f"{where}.env_file" + (f"[{i}]" if isinstance(entry.get("env_file"), list) else "")
            diags.append(merged.diag(at, f"cannot read the env file {_shown(f, chain)}: no such file"))
            return None
        variables.update(read_dotenv(f))
    if "env_file" not in entry:
        variables.update(read_dotenv(os.path.join(project_dir, ".env")))
    variables.update(env)       # the environment wins over env files, as everywhere in Compose
    try:
        sources = [parse_file(p, TAGS) for p in paths]
    except TopologyError as e:
        diags.extend(e.diagnostics)
        return None
    inc, inside, unset = read(sources, variables, project_dir, chain)
    diags.extend(inc.problems + inside)
    diags.extend(d for d in check_compose_schema(inc) if d not in inside)
    _import(merged, inc, diags)
    return unset


def _import(merged: MergedSource, inc: MergedSource, diags: list[Diagnostic]) -> None:
    """importResources: each resource of the included project added, unless the including
    file has one of that name that differs."""
    data, theirs = merged.data, inc.data
    assert isinstance(data, dict)
    if not isinstance(theirs, dict):
        return
    for key in RESOURCES:
        given = theirs.get(key)
        if not isinstance(given, dict):
            continue
        own = data.get(key)
        target = dict(own) if isinstance(own, dict) else {}
        for name, value in given.items():
            path = f"{key}.{name}"
            if name in target:
                if target[name] != value:
                    file, line = merged.origin.get(path, (merged.file, merged.line(path)))
                    diags.append(inc.diag(path, f"{path} conflicts with imported resource: {file}:{line} defines "
                                                f"{name!r} otherwise, and Compose refuses two definitions of one "
                                                "resource across an include; keep one of them"))
                continue
            target[name] = value
            for p, at in inc.origin.items():
                if p == path or p.startswith((path + ".", path + "[")):
                    merged.origin[p] = at
        data[key] = target
        if key not in merged.origin:
            merged.origin[key] = inc.origin.get(key, (inc.file, inc.line(key)))
