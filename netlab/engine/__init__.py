"""Docker engine profiles: what one dockerd version does to a host, as data (pure).

Everything that is "what Docker does" and differs between versions — address pools, rule
programming, sysctls, routes, DNS — is reached through one `Engine`, chosen per host
(`Host.engine`; a lab's `engine:` or `hosts.<h>.engine`, or `--engine`). A profile is frozen
data; the code that writes an engine's rules lives with the planner (`plan/firewall/`),
found by `Engine.firewall`.

Adding an engine: its `Engine(...)` here, listed in ENGINES, and the rule program it names
registered in `plan/firewall/programs.py`."""
from __future__ import annotations

from .docker_20_10 import DOCKER_20_10
from .later import DOCKER_26_1, DOCKER_28_5, DOCKER_29_7, DOCKER_29_7_NFTABLES
from .profile import Engine

ENGINES: dict[str, Engine] = {e.name: e for e in (
    DOCKER_20_10, DOCKER_26_1, DOCKER_28_5, DOCKER_29_7, DOCKER_29_7_NFTABLES)}
DEFAULT = DOCKER_20_10


def engine_named(value: object) -> Engine | None:
    """The engine a lab file or `--engine` names. YAML reads an unquoted 20.10 as the number
    20.1, so a number is taken as the version it spells."""
    if isinstance(value, str):
        return ENGINES.get(value)
    if isinstance(value, float) and not isinstance(value, bool):
        return next((e for e in ENGINES.values()
                     if e.backend == "iptables" and float(e.name) == value), None)
    return None


__all__ = ["DEFAULT", "DOCKER_20_10", "DOCKER_26_1", "DOCKER_28_5", "DOCKER_29_7", "DOCKER_29_7_NFTABLES",
           "ENGINES", "Engine", "engine_named"]
