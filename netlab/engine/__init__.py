"""Docker engine profiles: what one dockerd version does to a host, as data (pure).

Everything that is "what Docker 20.10 does" and may differ in another version — address
pools, rule programming, sysctls, routes, DNS — is reached through one `Engine`, chosen per
host (`Host.engine`). A profile is frozen data; the code that writes an engine's rules lives
with the planner (`plan/firewall/`), found by `Engine.firewall`.

Adding an engine: a module here with its `Engine(...)`, listed in ENGINES, and the rule
program it names registered in `plan/firewall/programs.py`."""
from __future__ import annotations

from .docker_20_10 import DOCKER_20_10
from .profile import Engine

ENGINES: dict[str, Engine] = {e.name: e for e in (DOCKER_20_10,)}
DEFAULT = DOCKER_20_10

__all__ = ["DEFAULT", "DOCKER_20_10", "ENGINES", "Engine"]
