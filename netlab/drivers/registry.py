"""The network drivers by the name a lab file gives them (`driver:`)."""
from __future__ import annotations

from . import bridge, macvlan, overlay
from .base import Driver

DRIVERS: dict[str, Driver] = {d.name: d for d in (bridge.DRIVER, macvlan.DRIVER, overlay.DRIVER)}
