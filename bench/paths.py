"""Where the repository, its benchmarks and the engine oracle (tests/integration) are."""
from __future__ import annotations

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")
ENGINE_ORACLE = os.path.join(REPO, "tests", "integration", "engine_oracle.py")
