"""One module per Docker network driver; each turns its part of the topology into plan items."""
from __future__ import annotations

from . import bridge, macvlan, overlay

SEGMENT_DRIVERS = {"bridge": bridge, "macvlan": macvlan, "overlay": overlay}
