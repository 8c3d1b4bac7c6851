"""Compose's `!reset` and `!override` tags (compose-go loader/reset.go): in a file merged over
others, `!reset` removes what the files before gave at that key, and `!override` replaces it
whole instead of merging into it. compose-go drops a `!reset` key from its own file as it
reads it, and clears both kinds of key from what came before just ahead of the merge (and
from a service's `extends` base just ahead of that merge)."""
from __future__ import annotations

import copy
from typing import Any

from ..model.source import Source

TAGS = ("!reset", "!override")


def _steps(path: str) -> list[str | int]:
    """ "a.b[2].c" as ["a", "b", 2, "c"]."""
    out: list[str | int] = []
    for part in path.replace("[", ".[").split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            out.append(int(part[1:-1]))
        elif part:
            out.append(part)
    return out


def drop(data: Any, path: str) -> None:
    """Remove the mapping key at `path`; a list item stays (compose-go leaves those too)."""
    *up, last = _steps(path) or [""]
    for step in up:
        if isinstance(data, dict) and step in data:
            data = data[step]
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return
    if isinstance(data, dict) and not isinstance(last, int):
        data.pop(last, None)


def strip(src: Source) -> tuple[Source, list[str]]:
    """(`src` without its `!reset` keys, the paths of every tagged key): what clears the
    values of the files before it."""
    paths = sorted(src.tags)
    resets = [p for p in paths if src.tags[p] == "!reset"]
    if not resets:
        return src, paths
    data = copy.deepcopy(src.data)
    for p in resets:
        drop(data, p)
    out = copy.copy(src)
    out.data = data
    return out, paths


def clear(data: Any, paths: list[str], under: str = "") -> None:
    """Remove from `data` (the value at key path `under`) what the tagged `paths` name."""
    for p in paths:
        if not under:
            drop(data, p)
        elif p.startswith((under + ".", under + "[")):
            drop(data, p[len(under):].lstrip("."))
