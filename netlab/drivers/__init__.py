"""One module per Docker network driver (bridge, macvlan, overlay) and the network modes
(host, none, container): each owns its options, defaults, checks, IPAM scope, plan items and
host rules. Adding a driver is one module here, listed in registry.DRIVERS."""
from __future__ import annotations

from .base import Driver
from .modes import MODES, Mode
from .registry import DRIVERS

__all__ = ["DRIVERS", "MODES", "Driver", "Mode"]
