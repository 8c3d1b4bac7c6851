"""Which format a YAML file is written in: netlab's lab file or a Compose file, told apart by
`services:` (a lab file never has it), and hints for a file that mixes their words."""
from __future__ import annotations

from ..errors import Diagnostic
from ..model.schema import CONTAINER, LAB
from ..model.source import Source

# Compose's top-level keys that a lab file does not have
COMPOSE_TOP = ("services", "version", "volumes", "secrets", "configs", "include", "models")
# a Compose service's keys that say "this is a service", not a lab container
COMPOSE_SERVICE_WORDS = ("image", "build", "container_name", "depends_on", "environment", "env_file",
                         "volumes", "deploy", "restart", "healthcheck", "entrypoint", "profiles", "scale",
                         "extra_hosts", "dns", "dns_search", "domainname", "mac_address", "labels")


def is_compose(data: object) -> bool:
    """`include:` alone makes a Compose file too: one that only gathers others."""
    return isinstance(data, dict) and ("services" in data or "include" in data)


def neither(src: Source) -> Diagnostic | None:
    """One message for a file that is in neither format (none of either's top-level keys)."""
    data = src.data
    if isinstance(data, dict) and any(k in LAB.fields or k in COMPOSE_TOP or str(k).startswith("x-")
                                      for k in data):
        return None
    old = [k for k, v in data.items() if isinstance(v, dict) and ("image" in v or "build" in v)] \
        if isinstance(data, dict) else []
    if old:     # Compose's version 1 format: services at the top level
        return src.diag(str(old[0]), "this looks like a Compose file of the old version 1 format (services "
                                     "at the top level); the Compose specification lists them under "
                                     "`services:`, which netlab reads")
    return src.diag("", "this is neither a netlab lab file (top-level keys such as name, networks, "
                        "containers) nor a Compose file (top-level `services:`)")


def mixed(src: Source) -> Diagnostic | None:
    """A Compose file with a lab file's `containers:` beside `services:`."""
    data = src.data
    if is_compose(data) and isinstance(data, dict) and "containers" in data:
        return src.diag("containers", "`containers:` is a netlab lab file's key, `services:` a Compose "
                                      "file's: this file mixes both. Write services as Compose does, lab-only "
                                      "settings under `x-netlab:`, or keep a lab file without `services:`")
    return None


def lab_hints(src: Source) -> list[Diagnostic]:
    """For a lab file that failed to load: where it uses Compose words, say that it looks like
    Compose (and how a Compose file is written), once per place."""
    data = src.data
    if not isinstance(data, dict):
        return []
    out = [src.diag(k, f"`{k}:` is a Compose file's key, not a lab file's: a Compose file lists its "
                       "containers under `services:`; netlab reads either format")
           for k in data if k in COMPOSE_TOP]
    containers = data.get("containers")
    for name, spec in containers.items() if isinstance(containers, dict) else ():
        words = [k for k in spec if k in COMPOSE_SERVICE_WORDS and k not in CONTAINER.fields] \
            if isinstance(spec, dict) else []
        if words:
            out.append(src.diag(f"containers.{name}.{words[0]}",
                                f"`{'`, `'.join(words)}` "
                                f"{'is a Compose service key' if len(words) == 1 else 'are Compose service keys'}"
                                ": this container looks like a Compose service. A Compose file "
                                "(with `services:`) is read as Compose; in a lab file, containers run no image"))
    return out
