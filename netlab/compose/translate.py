"""A Compose project as netlab's lab-file data: the active services in creation order (by
depends_on level, then service key), the networks they use, and the lab-only settings of
`x-netlab`."""
from __future__ import annotations

from typing import Any

from ..model.context import listing, mapping
from .builder import Builder
from .external import NetworksHere, refuse_external
from .networks import lab_network_name, translate_networks
from .services import Service, container_names, replicas, service_networks, translate_service

DEFAULT_ENGINE = "28.5"     # Compose v2's engines; Debian's docker-compose 2.40 runs on 28.5
LAB_XNETLAB = ("engine", "hosts", "outside", "underlay", "expect", "placement")


def active(spec: dict[str, Any], profiles: tuple[str, ...]) -> bool:
    """A service without `profiles` always runs; one with them when a profile is active."""
    own = spec.get("profiles")
    return not own or "*" in profiles or any(p in profiles for p in own if isinstance(p, str))


def translate(b: Builder, project: str, prefix: str, profiles: tuple[str, ...] = (),
              networks_here: NetworksHere = lambda name: []) -> None:
    """Fill b.lab (and b.where, b.diags, b.notes) from the Compose data in b.src.
    `networks_here`: the labs on this machine with a network of a Docker name (for the
    error about an external network)."""
    data = mapping(b.src.data)
    specs = {str(k): mapping(v) for k, v in mapping(data.get("services")).items()}
    on = {k: v for k, v in specs.items() if active(v, profiles)}
    _placement(b, data.get("x-netlab"), specs, on)
    services = {k: Service(k, v, container_names(b, project, k, v, replicas(b, k, v))) for k, v in on.items()}
    owners: dict[str, str] = {}
    for s in services.values():
        for cname in s.containers:
            if cname in owners:
                b.err(f"services.{s.name}.container_name" if "container_name" in s.spec else f"services.{s.name}",
                      f"container name {cname!r} is already taken by service {owners[cname]!r} (Docker refuses "
                      "a second container of that name)")
            owners.setdefault(cname, s.name)
    order = creation_order(b, services, specs)
    b.lab["name"] = prefix
    b.at("name", "name" if "name" in data else "services")
    _lab_settings(b, data.get("x-netlab"))
    declared = mapping(data.get("networks"))
    used: list[str] = []
    for s in services.values():
        for key in service_networks(s.spec):
            if key != "default" and key not in declared:
                b.err(f"services.{s.name}.networks", f"service {s.name!r} refers to undefined network {key!r}"
                      + (f"; declared: {', '.join(map(str, declared))}" if declared else ""))
            elif key not in used:
                used.append(key)
    external = refuse_external(b, declared, used, networks_here)
    # Compose creates them in a map's order, which varies; netlab by their Docker names
    by_name = sorted((k for k in used if k not in external),
                     key=lambda k: lab_network_name(project, k, mapping(declared.get(k))))
    networks = translate_networks(b, project, declared, by_name)
    for name in order:
        translate_service(b, project, services[name], services, networks)
    _expect(b, data.get("x-netlab"), services)
    if b.unmodelled:
        listed = "; ".join(f"{k} ({', '.join(v)})" for k, v in sorted(b.unmodelled.items()))
        b.note(f"not modelled (a lab runs no images; these do not shape its network): {listed}")


def creation_order(b: Builder, services: dict[str, Service], specs: dict[str, dict[str, Any]]) -> list[str]:
    """Services by dependency level (depends_on, links, network_mode service:), each level
    sorted by service key: the order Compose creates them, made deterministic
    (tests/fixtures/compose/README.md, "The deterministic order netlab should pick"; Compose
    itself keeps no file order, and within a level its order varies run to run). Each
    service's replicas follow in number order, so each network hands out its addresses in
    that order. A cycle or an unknown service is an error, as in Compose."""
    deps: dict[str, set[str]] = {}
    for name, s in services.items():
        deps[name] = set()
        raw = s.spec.get("depends_on")
        for i, dep in enumerate(raw if isinstance(raw, (list, dict)) else []):
            dpath = f"services.{name}.depends_on" + (f"[{i}]" if isinstance(raw, list) else f".{dep}")
            cfg = mapping(raw.get(dep)) if isinstance(raw, dict) else {}
            if dep in specs and dep not in services and not b.flag(cfg.get("required"), f"{dpath}.required", True):
                continue    # a disabled service that is not required (compose-go checkConsistency)
            if dep not in services:
                why = " (its profiles are not active)" if dep in specs else ""
                b.err(dpath, f"service {name!r} depends on undefined service {dep!r}{why}")
            else:
                deps[name].add(str(dep))
        for link in listing(s.spec.get("links")):
            if str(link).partition(":")[0] in services:
                deps[name].add(str(link).partition(":")[0])
        mode = s.spec.get("network_mode")
        if isinstance(mode, str) and mode.startswith("service:") and mode[8:] in services:
            deps[name].add(mode[8:])
    order: list[str] = []
    while len(order) < len(deps):
        level = sorted(n for n in deps if n not in order and deps[n] <= set(order))
        if not level:
            stuck = sorted(n for n in deps if n not in order)
            b.err(f"services.{stuck[0]}", f"dependency cycle between services: {', '.join(stuck)}")
            return order + stuck
        order += level
    return order


def _lab_settings(b: Builder, extra: object) -> None:
    """Top-level `x-netlab`: the lab file's own keys, as written there."""
    extra = mapping(extra)
    for key in extra:
        if key not in LAB_XNETLAB:
            b.err(f"x-netlab.{key}", f"unknown x-netlab key {key!r}; known: {', '.join(LAB_XNETLAB)}")
    b.lab["engine"] = extra.get("engine", DEFAULT_ENGINE)
    b.at("engine", "x-netlab.engine" if "engine" in extra else "")
    for key in ("underlay", "outside", "hosts"):
        if key in extra:
            b.lab[key] = extra[key]
            b.at(key, f"x-netlab.{key}")
    # Compose runs on 28.5, which listens on :: for every published port: a LAN without IPv6
    # would hide half of each one (the real-engine records reach them on both families)
    underlay = b.lab.setdefault("underlay", {})
    if isinstance(underlay, dict):
        underlay.setdefault("ipv6", True)


def _expect(b: Builder, extra: object, services: dict[str, Service]) -> None:
    """`x-netlab.expect`, where a service's name stands for its first container."""
    raw = extra.get("expect") if isinstance(extra, dict) else None
    if raw is None:
        return
    b.at("expect", "x-netlab.expect")
    if not isinstance(raw, list):
        b.lab["expect"] = raw
        return
    out = []
    for e in raw:
        if isinstance(e, dict):
            e = dict(e)
            for key in ("from", "to"):
                name, sep, port = str(e.get(key)).partition(":")
                if name in services and services[name].containers:
                    e[key] = services[name].containers[0] + sep + port
        out.append(e)
    b.lab["expect"] = out


def _placement(b: Builder, extra: object, specs: dict[str, dict[str, Any]], on: dict[str, dict[str, Any]]) -> None:
    """`x-netlab.placement: {service: host}`, the same as the service's own `x-netlab.host`."""
    placement = mapping(mapping(extra).get("placement"))
    for name, host in placement.items():
        path = f"x-netlab.placement.{name}"
        if name not in specs:
            b.err(path, f"unknown service {name!r}{b.suggest(name, specs)}")
        elif not isinstance(host, str):
            b.err(path, f"expected a host's name, got {host!r}")
        elif name in on:
            own = mapping(on[name].get("x-netlab"))
            if "host" in own and own["host"] != host:
                b.err(path, f"service {name!r} is placed on {own['host']!r} by its own x-netlab.host")
            on[name] = {**on[name], "x-netlab": {**own, "host": host}}
