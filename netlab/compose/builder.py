"""The lab-file data a Compose file translates into, with the way back: each lab key path's
Compose key path, so that every later error names the Compose file's line and key."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from ..errors import Diagnostic
from ..model.context import SUGGEST_BUDGET, suggest
from ..model.parsebool import parse_bool
from ..model.source import Source


@dataclass
class ComposeSource(Source):
    """The translated lab as netlab's loader reads it; its diagnostics point into the Compose
    file (`compose`) through `where` (lab path -> Compose path, the nearest ancestor wins)."""

    compose: Source | None = None
    where: dict[str, str] = field(default_factory=dict)

    def compose_path(self, path: str) -> str:
        probe = path
        while probe:
            if probe in self.where:
                return self.where[probe] + path[len(probe):]
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return self.where.get("", "")

    def line(self, path: str) -> int:
        assert self.compose is not None
        return self.compose.line(self.compose_path(path))

    def diag(self, path: str, message: str) -> Diagnostic:
        assert self.compose is not None
        return self.compose.diag(self.compose_path(path), message)     # its file: one of several merged


@dataclass
class Builder:
    """What the translation collects: the lab data, the path map, Compose-level errors, and
    notes (Docker's warnings, what is accepted but not modelled)."""

    src: Source
    lab: dict[str, Any] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=lambda: {"": ""})
    diags: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unmodelled: dict[str, list[str]] = field(default_factory=dict)   # key -> where it was seen
    budget: list[int] = field(default_factory=lambda: [SUGGEST_BUDGET])

    def at(self, lab_path: str, compose_path: str) -> None:
        self.where[lab_path] = compose_path

    def err(self, compose_path: str, message: str) -> None:
        self.diags.append(self.src.diag(compose_path, message))

    def suggest(self, name: object, known: Collection[object]) -> str:
        return suggest(name, known, self.budget)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def not_modelled(self, key: str, owner: str) -> None:
        seen = self.unmodelled.setdefault(key, [])
        if owner not in seen:
            seen.append(owner)

    def flag(self, value: object, compose_path: str, default: bool = False) -> bool:
        """Compose's booleans, which interpolation may leave as text ("true")."""
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        parsed = parse_bool(str(value))
        if parsed is None:
            self.err(compose_path, f"{value!r} is not a boolean; use true or false")
            return default
        return parsed

    def count(self, value: object, compose_path: str) -> int | None:
        """A count that may be written as text ("3"); None when absent or wrong (reported)."""
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, int):
            if value < 0:
                self.err(compose_path, f"{value} must be greater than or equal to 0")
                return None
            return value
        text = str(value)
        if text.isascii() and text.isdigit() and len(text) <= 4:
            return int(text)
        self.err(compose_path, f"{value!r} is not a count such as 2")
        return None
