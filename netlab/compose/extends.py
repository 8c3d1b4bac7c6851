"""A service's `extends:` as compose-go applies it (loader/extends.go): the service it names
(in the same file or in `file:`, itself extended first) is merged under it by the rules of
merge.py, and `extends` goes. Inherited values keep the file and line they were written at."""
from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from ..errors import Diagnostic, TopologyError
from ..model.context import mapping
from ..model.source import Source, parse_file
from .interpolate import interpolate
from .merge import MergedSource, Merger, as_merged
from .reset import TAGS, clear, strip


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


class _Extends:
    def __init__(self, env: Mapping[str, str], diags: list[Diagnostic], tagged: dict[str, list[str]]):
        self.env, self.diags = env, diags
        self.files: dict[str, MergedSource | None] = {}
        self.tagged = tagged        # file -> its `!reset`/`!override` paths

    def other(self, where: MergedSource, name: str, file: str) -> MergedSource | None:
        path = os.path.join(os.path.dirname(os.path.abspath(where.file)), file)
        if path not in self.files:
            self.files[path] = None
            try:
                read, self.tagged[path] = strip(parse_file(path, TAGS))
                done, wrong, _ = interpolate(read, self.env)
                self.diags.extend(wrong)
                self.files[path] = as_merged(done)
            except TopologyError as e:
                self.diags.extend(e.diagnostics)
                self.diags.append(where.diag(f"services.{name}.extends.file", f"cannot read {file!r} to extend"))
        return self.files[path]

    def resolve(self, src: MergedSource, name: str, chain: tuple[tuple[str, str], ...]) -> Any:
        services = mapping(mapping(src.data).get("services"))
        svc = services.get(name)
        if not isinstance(svc, dict) or "extends" not in svc:
            return svc
        ext = svc["extends"]
        ref, file = (ext, None) if isinstance(ext, str) else \
            (mapping(ext).get("service"), mapping(ext).get("file"))
        if not isinstance(ref, str) or not isinstance(file, (str, type(None))):
            return svc          # the schema says what is wrong with it
        where = f"services.{name}.extends"
        if (src.file, name) in chain:
            cycle = " -> ".join(n for _, n in chain[chain.index((src.file, name)):]) + f" -> {name}"
            self.diags.append(src.diag(where, f"circular extends: {cycle}"))
            return svc
        base_src = self.other(src, name, file) if file else src
        if base_src is None:
            return svc
        if ref not in mapping(mapping(base_src.data).get("services")):
            self.diags.append(src.diag(where, f"cannot extend service {name!r}: service {ref!r} not found"
                                              + (f" in {file}" if file else "")))
            return svc
        base = copy.deepcopy(self.resolve(base_src, ref, chain + ((src.file, name),)))
        clear(base, self.tagged.get(src.file, []), f"services.{name}")    # `!reset` on an inherited key
        return self.merge(src, name, services, base, base_src, ref)

    def merge(self, src: MergedSource, name: str, services: dict[str, Any], base: Any,
              base_src: MergedSource, ref: str) -> Any:
        here, there = f"services.{name}", f"services.{ref}"
        own = {p: at for p, at in src.origin.items() if _under(p, here)}
        for p, at in list(base_src.origin.items()):     # inherited: where the base wrote them
            if _under(p, there):
                src.origin[here + p[len(there):]] = at
        merged = Merger(src, own, self.diags, src).value(base, services[name], here)
        if isinstance(merged, dict):
            merged.pop("extends", None)
        services[name] = merged
        return merged


def apply_extends(src: Source, env: Mapping[str, str], tagged: list[str] | None = None
                  ) -> tuple[Source, list[Diagnostic]]:
    """`src` with every service's `extends` applied; unchanged when none has one. `tagged`:
    the key paths `src` marks `!reset` or `!override` (reset.strip), cleared from the bases."""
    services = mapping(mapping(src.data).get("services"))
    if not any(isinstance(v, dict) and "extends" in v for v in services.values()):
        return src, []
    merged = as_merged(src)
    merged.data = copy.deepcopy(src.data)
    diags: list[Diagnostic] = []
    job = _Extends(env, diags, {src.file: tagged or []})
    for name in list(mapping(mapping(merged.data).get("services"))):
        job.resolve(merged, name, ())
    return merged, diags
