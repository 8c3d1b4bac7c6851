"""Compose files read as compose-go's loader reads them (loader.go loadYamlFile), one after
the other: each file interpolated, its services' `extends` applied, its `include`s imported,
then merged over the files before it, with its `!reset` and `!override` keys cleared from
them first. Every value keeps the file and line it came from."""
from __future__ import annotations

import os
from collections.abc import Mapping

from ..errors import Diagnostic
from ..model.source import Source
from .extends import apply_extends
from .include import apply_includes
from .interpolate import interpolate
from .merge import MergedSource, as_merged, merge_sources
from .reset import clear, strip


def read_files(sources: list[Source], env: Mapping[str, str], workdir: str,
               chain: tuple[str, ...] = ()) -> tuple[MergedSource, list[Diagnostic], list[str]]:
    """(the files as one, errors, variables used but not set). `workdir`: the project
    directory, against which `include` paths are resolved; `chain`: the files including
    these, outermost first (an include cycle is an error)."""
    diags: list[Diagnostic] = []
    unset: list[str] = []
    merged: MergedSource | None = None
    for one in sources:
        one, tagged = strip(one)
        done, wrong, missing = interpolate(one, env)
        done, inherited = apply_extends(done, env, tagged) if not wrong else (done, [])
        diags += wrong + inherited
        done, inside, missing_inside = apply_includes(done, env, workdir, chain + (os.path.abspath(one.file),),
                                                      read_files)
        diags += inside
        unset += [m for m in missing + missing_inside if m not in unset]
        if merged is None:
            merged = as_merged(done)
            continue
        clear(merged.data, tagged)
        merged, clash = merge_sources([merged, done])
        diags += clash
    assert merged is not None
    return merged, diags, unset
