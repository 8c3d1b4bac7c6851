"""Compose services as lab containers: names, replicas, network mode, endpoints with
Compose's aliases and MACs, ports, expose, links (external ones to this lab's containers),
hostname, domainname, extra hosts, DNS settings, stand-ins and the lab-only `x-netlab` keys."""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from ..model.context import listing, mapping
from ..model.ports import PortSpecError, parse_port
from .builder import Builder

MAX_REPLICAS = 256
# a service's keys that shape its network, read here; everything else is listed as not modelled
NETWORKING = ("networks", "network_mode", "ports", "expose", "links", "hostname", "container_name",
              "depends_on", "profiles", "scale", "deploy", "x-netlab", "command", "extra_hosts", "dns",
              "dns_search", "dns_opt", "domainname", "mac_address", "external_links")
# a service's resolver settings: Compose key -> lab key; a string stands for a list of one
RESOLVER_KEYS = {"dns": "dns", "dns_search": "dns_search", "dns_opt": "dns_options"}
SERVICE_XNETLAB = ("host", "command")
FIXED_MODES = ("host", "none", "bridge")


@dataclass(frozen=True)
class Service:
    name: str
    spec: dict[str, Any]
    containers: tuple[str, ...]     # in replica order: <project>-<service>-<n>, or container_name


def replicas(b: Builder, name: str, spec: dict[str, Any]) -> int:
    """`scale`, else `deploy.replicas`, else 1 (compose-go GetScale); both set must agree."""
    path = f"services.{name}"
    scale = b.count(spec.get("scale"), f"{path}.scale")
    deploy = mapping(spec.get("deploy"))
    wanted = b.count(deploy.get("replicas"), f"{path}.deploy.replicas")
    if scale is not None and wanted is not None and scale != wanted:
        b.err(f"{path}.scale", "can't set distinct values on 'scale' and 'deploy.replicas' (Compose refuses it)")
    n = scale if scale is not None else wanted if wanted is not None else 1
    if n > MAX_REPLICAS:
        b.err(f"{path}.scale" if scale is not None else f"{path}.deploy.replicas",
              f"{n} replicas: netlab builds at most {MAX_REPLICAS} of one service")
        n = MAX_REPLICAS
    return n


def container_names(b: Builder, project: str, name: str, spec: dict[str, Any], n: int) -> tuple[str, ...]:
    fixed = spec.get("container_name")
    if isinstance(fixed, str) and fixed:
        if n > 1:
            b.err(f"services.{name}.container_name", f"can't set container_name and {n} replicas, as a "
                                                     "container name must be unique (Compose refuses it)")
        return (fixed,)
    return tuple(f"{project}-{name}-{i}" for i in range(1, n + 1))


def service_networks(spec: dict[str, Any]) -> list[str]:
    """The Compose network keys a service joins, primary first: by `priority` (highest first),
    then by name (compose-go NetworksByPriority); `default` when it names none."""
    raw = spec.get("networks")
    if spec.get("network_mode") is not None:
        return []
    if not raw:             # none, or declared empty: the default network (compose-go normalize)
        return ["default"]
    if isinstance(raw, list):
        return sorted({str(n) for n in raw})
    if not isinstance(raw, dict):
        return []

    def priority(key: str) -> int:
        cfg = raw.get(key)
        p = cfg.get("priority") if isinstance(cfg, dict) else None
        return p if isinstance(p, int) and not isinstance(p, bool) else 0
    return sorted((str(k) for k in raw), key=lambda k: (-priority(k), k))


def translate_service(b: Builder, project: str, svc: Service, services: dict[str, Service],
                      networks: dict[str, str]) -> None:
    """Every container of `svc` into b.lab["containers"] (the caller orders the services)."""
    path = f"services.{svc.name}"
    spec = svc.spec
    for key in spec:
        if key not in NETWORKING and not str(key).startswith("x-"):
            b.not_modelled(f"services: {key}", svc.name)
    mode = _mode(b, svc, services)
    _conflicts(b, svc, mode)
    if spec.get("command") is not None and "command" not in mapping(spec.get("x-netlab")):
        # the image's program: run on the machine, it would run as root outside any image
        b.not_modelled("services: command (the image's; `x-netlab: {command: ...}` runs a process of "
                       "your choice in the service's namespace)", svc.name)
    extra = mapping(spec.get("x-netlab"))
    for key in extra:
        if key not in SERVICE_XNETLAB:
            b.err(f"{path}.x-netlab.{key}", f"unknown x-netlab key {key!r} of a service; known: "
                                            f"{', '.join(SERVICE_XNETLAB)}")
    ports = _ports(b, svc, mode)
    containers = b.lab.setdefault("containers", {})
    for number, cname in enumerate(svc.containers, start=1):
        lab: dict[str, Any] = {}
        lpath = f"containers.{cname}"
        b.at(lpath, path)
        if mode is not None:
            lab["network_mode"] = mode
            b.at(f"{lpath}.network_mode", f"{path}.network_mode")
        else:
            lab["networks"] = _endpoints(b, svc, cname, networks, lpath)
        for key, listed in (("ports", ports), ("expose", [str(p) for p in listing(spec.get("expose"))])):
            if listed:
                lab[key] = listed
                b.at(f"{lpath}.{key}", f"{path}.{key}")
        links = _links(b, project, svc, services, number)
        if links:
            lab["links"] = links
            b.at(f"{lpath}.links", f"{path}.links")
        _external_links(b, svc, services, lab, lpath)
        setting: object
        for key, setting in (("hostname", spec.get("hostname")), ("domainname", spec.get("domainname")),
                             ("host", extra.get("host")), ("command", _command(extra.get("command")))):
            if setting is not None:
                lab[key] = setting
                b.at(f"{lpath}.{key}", f"{path}.x-netlab.{key}" if key in SERVICE_XNETLAB else f"{path}.{key}")
        _resolver(b, svc, mode, lab, lpath)
        # an image's ports get the agent's stand-in listeners unless a real process serves them
        lab["standin"] = "command" not in extra
        lab["x-compose"] = client(project, svc, number, networks, ports)
        containers[cname] = lab


def _command(value: object) -> object:
    """A command as a string or a list (joined as a shell would read it back)."""
    if isinstance(value, list):
        return shlex.join(str(v) for v in value)
    return value


def _mode(b: Builder, svc: Service, services: dict[str, Service]) -> str | None:
    """The lab's `network_mode` for a service with Compose's `network_mode`, else None."""
    mode = svc.spec.get("network_mode")
    path = f"services.{svc.name}.network_mode"
    if mode is None:
        return None
    if svc.spec.get("networks") is not None:
        b.err(path, f"service {svc.name!r} declares mutually exclusive `network_mode` and `networks` "
                    "(Compose refuses it)")
    if not isinstance(mode, str):
        return None
    if mode in FIXED_MODES:
        return mode
    kind, _, target = mode.partition(":")
    if kind == "service":
        if target not in services:
            b.err(path, f"service {target!r} not found for network_mode 'service:{target}'")
            return None
        if not services[target].containers:
            b.err(path, f"service {target!r} has no container (0 replicas) to share its namespace")
            return None
        return f"container:{services[target].containers[0]}"
    if kind == "container" and target:
        return mode
    b.err(path, f"{mode!r} is not a network mode; use bridge, host, none, service:<name> or "
                "container:<name> (networks go under `networks:`)")
    return None


# what dockerd refuses beside a shared namespace (runconfig validateNetContainerMode) and,
# for a MAC address, beside the host's; ports, hostname and links the lab's loader refuses
CONFLICTS = {"expose": "port exposing", "dns": "DNS servers", "extra_hosts": "custom host-to-IP mapping",
             "mac_address": "mac-address"}


def _conflicts(b: Builder, svc: Service, mode: str | None) -> None:
    for key, what in CONFLICTS.items():
        if not svc.spec.get(key):
            continue
        if (mode or "").startswith("container:") or (key == "mac_address" and mode == "host"):
            b.err(f"services.{svc.name}.{key}", f"conflicting options: {what} and the network mode "
                                                f"{svc.spec.get('network_mode')!r} (Docker refuses it)")


def _endpoints(b: Builder, svc: Service, cname: str, networks: dict[str, str],
               lpath: str) -> dict[str, Any]:
    """Each network the container joins, with Compose's aliases: the container's name, the
    service's name, then the service's own aliases (compose getAliases). Compose hands dockerd
    every endpoint at once, and 28.5 numbers them eth0, eth1, ... in the order of the Docker
    networks' names (recorded in tests/fixtures/compose/recorded: `corp-backbone` comes after
    `11-ipam-named_edge` although Compose's primary network is the backbone); the lab joins
    them in that order. Which one carries the default route is the lab loader's choice, as
    dockerd's."""
    raw = svc.spec.get("networks")
    out: dict[str, Any] = {}
    joined = [key for key in service_networks(svc.spec) if key in networks]   # else reported elsewhere
    for key in sorted(joined, key=lambda k: networks[k]):
        cfg = mapping(mapping(raw).get(key))
        name = networks[key]
        cpath = f"services.{svc.name}.networks.{key}" if raw is not None else f"services.{svc.name}"
        own = [a for a in listing(cfg.get("aliases")) if isinstance(a, str)]
        ep: dict[str, Any] = {"aliases": list(dict.fromkeys([cname, svc.name, *own]))}
        for addr in ("ipv4_address", "ipv6_address", "mac_address"):
            if cfg.get(addr) is not None:
                ep[addr] = cfg[addr]
        mac = _service_mac(b, svc, key, cfg)
        if mac is not None:
            ep["mac_address"] = mac
            b.at(f"{lpath}.networks.{name}.mac_address", f"services.{svc.name}.mac_address")
        for key2 in ("link_local_ips", "driver_opts", "interface_name", "gw_priority"):
            if key2 in cfg:
                b.not_modelled(f"services: networks.{key2}", svc.name)
        out[name] = ep
        b.at(f"{lpath}.networks.{name}", cpath)
    return out


def _service_mac(b: Builder, svc: Service, key: str, cfg: dict[str, Any]) -> str | None:
    """The service's `mac_address` goes on its main network (the first by priority, then
    key: compose prepareContainerMACAddress for API 1.44+), unless that network sets its own;
    None when it does not go on network `key`."""
    mac = svc.spec.get("mac_address")
    if mac is None or service_networks(svc.spec)[:1] != [key]:
        return None
    own = cfg.get("mac_address")
    if own is not None and own != mac:
        b.err(f"services.{svc.name}.mac_address", f"the service-level mac_address should have the same "
                                                  f"value as network {key} (Compose refuses it)")
    return None if own is not None else str(mac)


def _ports(b: Builder, svc: Service, mode: str | None) -> list[str]:
    """Short syntax as written; long syntax written as the short one it means."""
    path = f"services.{svc.name}.ports"
    raw = listing(svc.spec.get("ports"))
    if raw and mode == "host":
        b.note(f"{path}: published ports are discarded when using host network mode (as Docker warns)")
    elif raw and mode == "none":     # Docker and Compose take them without a word
        b.note(f"{path}: published ports of a network_mode none container are bound nowhere "
               "(Docker accepts them silently)")
    out: list[str] = []
    for i, p in enumerate(raw):
        if isinstance(p, dict):
            text = _long_port(b, p, f"{path}[{i}]")
            if text is None:
                return out
            out.append(text)
        else:
            out.append(str(p))
    return out


def _long_port(b: Builder, p: dict[str, Any], path: str) -> str | None:
    target = p.get("target")
    if target is None or isinstance(target, bool):
        b.err(path, "a port in the long syntax needs `target:` (the container's port)")
        return None
    proto = p.get("protocol") or "tcp"
    text = f"{target}/{proto}"
    published = p.get("published")
    if published is not None and published != "":
        text = f"{published}:{text}"
        host_ip = p.get("host_ip")
        if isinstance(host_ip, str) and host_ip:
            text = f"[{host_ip}]:{text}" if ":" in host_ip else f"{host_ip}:{text}"
    return text


def _links(b: Builder, project: str, svc: Service, services: dict[str, Service], number: int) -> list[str]:
    """compose getLinks: for each container of a linked service, its name under the link's
    alias, `<service>-<n>` and `<project>-<service>-<n>`, n being the linking container's number."""
    out: list[str] = []
    for i, raw in enumerate(listing(svc.spec.get("links"))):
        target, _, alias = str(raw).partition(":")
        if target not in services:
            b.err(f"services.{svc.name}.links[{i}]", f"service {svc.name!r} links to undefined service {target!r}")
            continue
        for cname in services[target].containers:
            for name in (alias or target, f"{target}-{number}", f"{project}-{target}-{number}"):
                link = f"{cname}:{name}"
                if link not in out:
                    out.append(link)
    return out


def _resolver(b: Builder, svc: Service, mode: str | None, lab: dict[str, Any], lpath: str) -> None:
    """`extra_hosts`, `dns`, `dns_search` and `dns_opt` as the lab's keys (a string is a list
    of one, as compose-go reads it). Beside a shared namespace they were refused already."""
    path = f"services.{svc.name}"
    if (mode or "").startswith("container:"):
        return
    raw = svc.spec.get("extra_hosts")
    if raw:
        lab["extra_hosts"] = raw
        b.at(f"{lpath}.extra_hosts", f"{path}.extra_hosts")
    for key, lab_key in RESOLVER_KEYS.items():
        value = svc.spec.get(key)
        if value:
            lab[lab_key] = [value] if isinstance(value, str) else value
            b.at(f"{lpath}.{lab_key}", f"{path}.{key}")
    if svc.spec.get("mac_address") is not None and mode in ("bridge", "none"):
        b.note(f"{path}.mac_address: Compose gives a service's MAC address to its main network, and "
               f"with network_mode: {mode} there is none, so the engine never sees it (Compose 2.40 "
               "on Docker 25.0+)")


def _external_links(b: Builder, svc: Service, services: dict[str, Service], lab: dict[str, Any],
                    lpath: str) -> None:
    """compose getLinks: `CONTAINER[:ALIAS]` links to a container made outside the project;
    in a lab only this lab's containers exist (another service's, by its container name)."""
    known = {c for s in services.values() for c in s.containers}
    for i, raw in enumerate(listing(svc.spec.get("external_links"))):
        target, _, alias = str(raw).partition(":")
        if target not in known:
            b.err(f"services.{svc.name}.external_links[{i}]",
                  f"external link to container {target!r}: netlab can only link containers of this lab "
                  f"(the containers of its services: {', '.join(sorted(known))})")
            continue
        links = lab.setdefault("links", [])
        link = f"{target}:{alias or target}"
        if link not in links:
            links.append(link)
            b.at(f"{lpath}.links[{len(links) - 1}]", f"services.{svc.name}.external_links[{i}]")


def client(project: str, svc: Service, number: int, networks: dict[str, str], ports: list[str]) -> dict[str, Any]:
    """What Compose hands dockerd beyond docker run's words (model.topology.ComposeClient):
    its labels, the primary network (priority, then key: compose-go NetworksByPriority),
    ExposedPorts: `expose` as written and each published container port as port/proto (even
    under network_mode host, where the engine then binds nothing)."""
    out: dict[str, Any] = {"project": project, "service": svc.name, "number": number,
                           "depends_on": depends_on_label(svc.spec)}
    primary = [networks[k] for k in service_networks(svc.spec) if k in networks]
    if primary:
        out["primary"] = primary[0]
    expose = [str(e) for e in listing(svc.spec.get("expose"))]
    for spec in ports:
        try:
            asked = parse_port(spec)
        except PortSpecError:
            continue        # the loader reports it at the port's line
        first, last = asked.container_range
        expose += [f"{p}/{asked.proto}" for p in range(first, last + 1) if f"{p}/{asked.proto}" not in expose]
    if expose:
        out["expose"] = expose
    return out


def depends_on_label(spec: dict[str, Any]) -> str:
    """com.docker.compose.depends_on: `service:condition:restart` per dependency."""
    raw = spec.get("depends_on")
    if isinstance(raw, list):
        return ",".join(f"{d}:service_started:false" for d in raw)
    out = []
    for dep, cfg in mapping(raw).items():
        cfg = mapping(cfg)
        out.append(f"{dep}:{cfg.get('condition') or 'service_started'}:{str(cfg.get('restart') is True).lower()}")
    return ",".join(out)
