"""A Plan: the lab's desired kernel objects, in the order they must be created."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .items import Item, item_from_dict


class PlanConflict(Exception):
    pass


@dataclass
class Plan:
    lab: str
    items: list[Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _by_key: dict = field(default_factory=dict, repr=False)

    def add(self, item: Item) -> None:
        old = self._by_key.get(item.key)
        if old is not None:
            if old != item:
                raise PlanConflict(f"two different specs for {item.key}: {old} / {item}")
            return
        self._by_key[item.key] = item
        self.items.append(item)

    def get(self, key: tuple) -> Item | None:
        return self._by_key.get(key)

    def of(self, kind: type) -> list:
        return [i for i in self.items if isinstance(i, kind)]

    def to_dict(self) -> dict:
        return {"lab": self.lab, "notes": self.notes, "items": [i.to_dict() for i in self.items]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, d: dict) -> Plan:
        plan = cls(d["lab"], notes=d.get("notes", []))
        for raw in d["items"]:
            plan.add(item_from_dict(raw))
        return plan
