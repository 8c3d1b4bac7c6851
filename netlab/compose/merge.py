"""Several Compose files as one, as compose-go merges them (override/merge.go): mappings key
by key, lists appended, other values replaced by the later file; `command` and `entrypoint`
replaced whole; a service's `networks` and `depends_on` merged as mappings whichever form each
file uses; `ipam.config` entries by subnet; the lists that name things (ports, expose, dns,
links, ...) without repeats. Every value keeps the file and line it came from."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import Diagnostic
from ..model.source import Source, shown

REPLACED = re.compile(r"^services\.[^.]+\.(command|entrypoint|healthcheck\.test)$")
AS_MAPPING = re.compile(r"^services\.[^.]+\.(networks|depends_on)$")
IPAM_CONFIG = re.compile(r"^networks\.[^.]+\.ipam\.config$")
UNIQUE = re.compile(r"^services\.[^.]+\.(ports|expose|dns|dns_search|dns_opt|extra_hosts|links|external_links"
                    r"|profiles)$")


@dataclass
class MergedSource(Source):
    """Compose files merged: each key path's (file, line), the nearest ancestor's when a path
    has none of its own."""

    origin: dict[str, tuple[str, int]] = field(default_factory=dict)

    def _at(self, path: str) -> tuple[str, int]:
        while path:
            if path in self.origin:
                return self.origin[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.origin.get("", (self.file, 1))

    def line(self, path: str) -> int:
        return self._at(path)[1]

    def diag(self, path: str, message: str) -> Diagnostic:
        file, line = self._at(path)
        return Diagnostic(file, line, shown(path), shown(message))


def merge_sources(sources: list[Source]) -> tuple[MergedSource, list[Diagnostic]]:
    """The first file's project directory and name; later files override it in order."""
    first = as_merged(sources[0])
    merged = MergedSource(first.file, first.data, dict(first.lines), list(first.problems),
                          origin=dict(first.origin))
    diags: list[Diagnostic] = []
    for src in sources[1:]:
        merged.problems += src.problems
        job = Merger(merged, as_merged(src).origin, diags, src)
        merged.data = job.value(merged.data, src.data, "")
    return merged, diags


def as_merged(src: Source) -> MergedSource:
    if isinstance(src, MergedSource):
        return src
    return MergedSource(src.file, src.data, dict(src.lines), list(src.problems),
                        origin={p: (src.file, n) for p, n in src.lines.items()})


def _child(path: str, key: object) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))


def _mapping_of(value: object) -> object:
    """A service's `networks` or `depends_on` written as a list, as the mapping it means."""
    if isinstance(value, list):
        return {str(v): None for v in value}
    return value


class Merger:
    """Merges a later value (whose key paths' origins are `later`) into `into`'s."""

    def __init__(self, into: MergedSource, later: dict[str, tuple[str, int]], diags: list[Diagnostic],
                 src: Source):
        self.into, self.later, self.diags, self.src = into, later, diags, src

    def take(self, from_path: str, to_path: str) -> None:
        """The origins of everything under `from_path` in the later value, now at `to_path`."""
        for p, at in self.later.items():
            if p == from_path or p.startswith((from_path + ".", from_path + "[")) or not from_path:
                self.into.origin[to_path + p[len(from_path):]] = at

    def value(self, base: Any, over: Any, path: str) -> Any:
        if over is None:
            return base
        if base is None or REPLACED.match(path):
            self.take(path, path)
            return over
        if AS_MAPPING.match(path):
            base, over = _mapping_of(base), _mapping_of(over)
        if IPAM_CONFIG.match(path) and isinstance(base, list) and isinstance(over, list):
            return self.by_subnet(base, over, path)
        if isinstance(base, dict) and isinstance(over, dict):
            merged = dict(base)
            for k, v in over.items():
                merged[k] = self.value(merged[k], v, _child(path, k)) if k in merged else self.new(v, _child(path, k))
            return merged
        if isinstance(base, list) and isinstance(over, list):
            appended = list(base)
            for i, v in enumerate(over):
                if UNIQUE.match(path) and v in appended:
                    continue
                self.take(_child(path, i), _child(path, len(appended)))
                appended.append(v)
            return appended
        if isinstance(base, (dict, list)) or isinstance(over, (dict, list)):
            file, line = self.later.get(path, (self.src.file, 1))
            self.diags.append(Diagnostic(file, line, shown(path), f"cannot override {path or 'the file'}: "
                                                                  f"{file} gives it another shape than before"))
            return base
        self.take(path, path)
        return over

    def new(self, value: Any, path: str) -> Any:
        self.take(path, path)
        return value

    def by_subnet(self, base: list[Any], over: list[Any], path: str) -> list[Any]:
        """mergeIPAMConfig: an entry for a subnet already configured replaces it."""
        out = list(base)
        for i, entry in enumerate(over):
            subnet = entry.get("subnet") if isinstance(entry, dict) else None
            at = next((j for j, e in enumerate(out) if isinstance(e, dict) and subnet and e.get("subnet") == subnet),
                      len(out))
            self.take(_child(path, i), _child(path, at))
            if at == len(out):
                out.append(entry)
            else:
                out[at] = entry
        return out
