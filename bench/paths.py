"""Where the repository and the shared/ folder (floor script, docker-oracle) are."""
from __future__ import annotations

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")


def shared(*parts: str) -> str:
    """A path under NETLAB_SHARED, else under ../shared next to the repository."""
    root = os.environ.get("NETLAB_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
    return os.path.join(root, *parts)
