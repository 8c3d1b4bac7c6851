"""Errors netlab reports to people: each carries a message ready to print, never a traceback."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in a lab file, located by line and key path."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class NetlabError(Exception):
    """Base of every error the CLI turns into a clean message and exit status."""

    exit_code = 1


class TopologyError(NetlabError):
    """A lab file is invalid; carries every problem found, sorted by line."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(set(diagnostics), key=lambda d: (d.line, d.path, d.message))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class LabError(NetlabError):
    """A lab cannot be built, changed or found (ownership, locks, state)."""


class KernelError(NetlabError):
    """The kernel or a system tool refused; the message names the feature or package."""
