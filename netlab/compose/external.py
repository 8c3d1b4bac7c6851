"""`external: true` networks: Compose expects them to exist before the project, made by
`docker network create` or by another project. A lab is built whole, one project at a time,
so netlab cannot use one; the error says which Docker network, why, what to write instead,
and whether a lab on this machine has a network of that name (which still cannot be joined)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model.context import mapping
from .builder import Builder

# Docker network name -> the labs here (as `netlab ls` names them) that have one of that name
NetworksHere = Callable[[str], list[str]]


def docker_name(key: str, spec: dict[str, Any]) -> str:
    """An external network's Docker name: `name:` (or the old `external: {name: ...}`), else
    the key itself, not prefixed with the project (compose-go normalize)."""
    old = spec.get("external")
    for name in (spec.get("name"), mapping(old).get("name")):
        if isinstance(name, str) and name:
            return name
    return key


def is_external(b: Builder, key: str, spec: dict[str, Any]) -> bool:
    ext = spec.get("external")
    return isinstance(ext, dict) or b.flag(ext, f"networks.{key}.external")


def refuse_external(b: Builder, declared: dict[str, Any], used: list[str], here: NetworksHere) -> list[str]:
    """Report every used external network; returns their keys."""
    out = []
    for key in used:
        spec = mapping(declared.get(key))
        if not is_external(b, key, spec):
            continue
        out.append(key)
        name = docker_name(key, spec)
        labs = here(name)
        found = (f" The running lab{'s' if len(labs) > 1 else ''} {', '.join(labs)} (netlab ls) "
                 f"{'have' if len(labs) > 1 else 'has'} a network named {name!r}, but a lab cannot join "
                 "another lab's network: each lab's networks, namespaces and rules are its own. To have "
                 "both projects on one network, bring them up as one (`include:` the other file).") if labs else ""
        b.err(f"networks.{key}.external",
              f"network {key!r} is external: Compose expects the Docker network {name!r} to exist already "
              f"(`docker network create {name}`, or another project). netlab builds one project at a time "
              "and makes every network of it itself, so there is none to join. Declare the network in this "
              "file (remove `external: true`; keep `name:` for the same Docker name), or remove it and its "
              f"services' references to it.{found}")
    return out
