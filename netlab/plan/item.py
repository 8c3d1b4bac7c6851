"""The base of every plan item: frozen data with a stable key (its identity in the kernel or
in the agent), a one-line description, and a plain dict for the state file."""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Item:
    kind = "item"

    @property
    def key(self) -> tuple:
        raise NotImplementedError

    def to_dict(self) -> dict:
        # shallow: fields hold only strings, numbers and (nested) tuples of them; asdict's
        # deep copy made saving a 1000-container plan take seconds
        return {"kind": self.kind, **{f.name: getattr(self, f.name) for f in fields(self)}}

    def describe(self) -> str:
        raise NotImplementedError
