"""`containers`: each container's host, network mode and endpoints, with the references
between containers (network_mode: container:<name>, links) checked."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ... import drivers
from .. import naming
from ..context import DOCKER_NAME_RULE, Context, get, listing, mapping
from ..specs import ContainerSpec, EndpointSpec, NetworkSpec
from ..topology import ComposeClient, Host
from .settings import endpoint_mac, read_settings

WRITTEN_MODES = ("bridge", "host", "none")      # and container:<name>


def check_names(ctx: Context, hosts: Mapping[str, Host], raw: Mapping[Any, Any]) -> None:
    """Hosts, containers and `outside` share one namespace prefix, so their names must differ."""
    owners: dict[str, str] = {"outside": "the lab's outside namespace"}
    for h in hosts:
        owners.setdefault(h, f"host {h!r}")
    for name in raw:
        path = f"containers.{name}"
        if not naming.DOCKER_NAME.fullmatch(str(name)) or len(str(name)) > naming.MAX_CONTAINER_NAME:
            ctx.err(path, f"container name {name!r} {DOCKER_NAME_RULE}, "
                          f"at most {naming.MAX_CONTAINER_NAME} characters")
        if name in owners:
            ctx.err(path, f"name {name!r} is already taken by {owners[name]}; hosts, containers "
                          "and `outside` need distinct names (each gets namespace "
                          f"{naming.netns(ctx.lab, str(name))!r})")
    if "outside" in hosts:
        ctx.err("hosts.outside", "`outside` is the lab's stand-in internet; choose another host name")


def read_containers(ctx: Context, hosts: Mapping[str, Host], networks: Mapping[str, NetworkSpec],
                    raw: Mapping[Any, Any]) -> dict[str, ContainerSpec]:
    specs: dict[str, ContainerSpec] = {}
    only_host = next(iter(hosts)) if len(hosts) == 1 else None
    for name, spec in raw.items():
        path = f"containers.{name}"
        spec = mapping(spec)
        host = _host(ctx, hosts, get(spec, "host", only_host), path)
        mode, shares = _mode(ctx, spec, name, raw, path)
        endpoints = read_endpoints(ctx, networks, spec, path, mode, host)
        if mode == "container":
            for key in ("ports", "hostname", "links", "publish_all"):
                if spec.get(key):
                    owner = f" ({shares!r})" if shares else ""
                    ctx.err(f"{path}.{key}", f"`{key}` cannot be combined with `network_mode: "
                                             f"container:...`; set it on the container that owns "
                                             f"the namespace{owner}")
        specs[str(name)] = ContainerSpec(
            name=str(name), path=path, host=host, mode=mode, shares=shares, endpoints=tuple(endpoints),
            hostname=spec.get("hostname") if isinstance(spec.get("hostname"), str) else None,
            command=spec.get("command") if isinstance(spec.get("command"), str) else None,
            publish_all=spec.get("publish_all") is True, ports=tuple(listing(spec.get("ports"))),
            expose=tuple(listing(spec.get("expose"))), links=tuple(listing(spec.get("links"))),
            settings=read_settings(ctx, spec, path, mode), compose=compose_client(spec.get("x-compose")))
    check_sharing(ctx, specs)
    check_links(ctx, specs)
    return specs


def _host(ctx: Context, hosts: Mapping[str, Host], host: object, path: str) -> str | None:
    if not isinstance(host, (str, type(None))):
        return None         # the schema reported the type
    if host is None:
        if hosts:           # none at all is reported once, at `hosts`
            ctx.err(path, f"which host? this lab has {len(hosts)}: set `host:` to one of {', '.join(hosts)}")
        return None
    if host not in hosts:
        ctx.err(f"{path}.host", f"unknown host {host!r}{ctx.suggest(host, hosts)}")
        return None
    return host


def _mode(ctx: Context, spec: dict[Any, Any], name: object, raw: Mapping[Any, Any],
          path: str) -> tuple[str, str | None]:
    """(network mode, the container whose namespace it shares)."""
    mode = get(spec, "network_mode", "bridge")
    if isinstance(mode, str) and mode.startswith("container:"):
        shares: str | None = mode.split(":", 1)[1]
        if shares not in raw:
            ctx.err(f"{path}.network_mode", f"unknown container {shares!r}{ctx.suggest(shares, raw)}")
            shares = None
        elif shares == name:
            ctx.err(f"{path}.network_mode", "a container cannot share its own namespace")
            shares = None
        return "container", shares
    if not isinstance(mode, str):
        return "bridge", None     # the schema reported the type
    if mode not in WRITTEN_MODES:
        ctx.err(f"{path}.network_mode", f"{mode!r} is not a network mode; use bridge, host, "
                                        "none or container:<name> (user networks go under `networks:`)")
        return "bridge", None
    return mode, None


def read_endpoints(ctx: Context, networks: Mapping[str, NetworkSpec], spec: dict[Any, Any], path: str,
                   mode: str, host: str | None) -> list[EndpointSpec]:
    raw = spec.get("networks")
    if raw is not None and "network_mode" in spec:
        ctx.err(f"{path}.networks", "`networks` and `network_mode` cannot be combined; list "
                                    "`bridge` under `networks` to join the default bridge too")
        return []
    if not drivers.MODES[mode].joins_networks:
        return []
    if raw is None:
        return [EndpointSpec(network="bridge", path=path, address_given=False)]
    items = [(n, {}) for n in raw] if isinstance(raw, list) else \
        [(n, mapping(v)) for n, v in mapping(raw).items()]
    if not items and isinstance(raw, (list, dict)):
        ctx.err(f"{path}.networks", "an empty list; leave `networks` out to use the default bridge, "
                                    "or use `network_mode: none`")
    seen: set[str] = set()
    out: list[EndpointSpec] = []
    for i, (net, ep) in enumerate(items):
        npath = f"{path}.networks[{i}]" if isinstance(raw, list) else f"{path}.networks.{net}"
        if not isinstance(net, str):
            continue
        if net in seen:
            ctx.err(npath, f"network {net!r} is listed twice")
            continue
        seen.add(net)
        if _endpoint_refused(ctx, networks, net, ep, npath, host):
            continue
        for j, alias in enumerate(listing(ep.get("aliases"))):
            if isinstance(alias, str) and not naming.DOCKER_NAME.fullmatch(alias):
                ctx.err(f"{npath}.aliases[{j}]", f"alias {alias!r} {DOCKER_NAME_RULE}")
        out.append(EndpointSpec(
            network=net, path=npath, address_given="ipv4_address" in ep, ipv4_address=ep.get("ipv4_address"),
            aliases=tuple(x for x in listing(ep.get("aliases")) if isinstance(x, str)),
            address6_given="ipv6_address" in ep, ipv6_address=ep.get("ipv6_address"),
            mac=endpoint_mac(ctx, ep.get("mac_address"), f"{npath}.mac_address")))
    return out


def _endpoint_refused(ctx: Context, networks: Mapping[str, NetworkSpec], net: str, ep: dict[Any, Any],
                      npath: str, host: str | None) -> bool:
    """Report what is wrong with joining `net`; True when the endpoint is dropped."""
    if net in ("host", "none"):
        ctx.err(npath, f"{net!r} is a network mode, not a network to join: use `network_mode: {net}`")
        return True
    if net != "bridge" and net not in networks:
        ctx.err(npath, f"unknown network {net!r}{ctx.suggest(net, list(networks) + ['bridge'])}")
        return True
    if net == "bridge":
        for key in ("ipv4_address", "ipv6_address", "aliases"):
            if key in ep:
                what = "network-scoped alias" if key == "aliases" else "user specified IP address"
                ctx.err(f"{npath}.{key}", f"{what} is supported only for user-defined networks "
                                          "(Docker refuses it on the default bridge)")
        return False
    n = networks[net]
    if host is not None and n.hosts is not None and host not in n.hosts:
        ctx.err(npath, f"network {net!r} does not span host {host!r} (its hosts: {', '.join(n.hosts)})")
    if "ipv4_address" in ep and n.subnet is None and not drivers.DRIVERS[n.driver].global_scope:
        ctx.err(f"{npath}.ipv4_address", "a user specified IP address needs a network with an "
                                         "explicit `subnet` (Docker 20.10 refuses it otherwise)")
    if "ipv6_address" in ep and not n.enable_ipv6:
        ctx.err(f"{npath}.ipv6_address", f"network {net!r} has no IPv6; give it `enable_ipv6: true` "
                                         "and an IPv6 subnet in `ipam.config`")
    elif "ipv6_address" in ep and n.subnet6 is None and not drivers.DRIVERS[n.driver].global_scope:
        ctx.err(f"{npath}.ipv6_address", "a user specified IPv6 address needs an explicit IPv6 subnet "
                                         "in the network's `ipam.config` (Docker refuses it otherwise)")
    return False


def check_sharing(ctx: Context, specs: dict[str, ContainerSpec]) -> None:
    """A cycle of container: references is reported and broken where it was found."""
    for name in specs:
        s = specs[name]
        seen = [name]
        cur = s
        while cur.mode == "container" and cur.shares:
            nxt = cur.shares
            if nxt in seen:
                cycle = " -> ".join(seen[seen.index(nxt):] + [nxt])
                ctx.err(f"{s.path}.network_mode", f"container: references form a cycle: {cycle}")
                specs[name] = s = replace(s, shares=None)
                break
            seen.append(nxt)
            cur = specs[nxt]
        if s.mode == "container" and s.shares and s.host and \
                specs[s.shares].host and specs[s.shares].host != s.host:
            ctx.err(f"{s.path}.network_mode", f"{s.shares!r} runs on host "
                                              f"{specs[s.shares].host!r}, not {s.host!r}")


def check_links(ctx: Context, specs: Mapping[str, ContainerSpec]) -> None:
    for name, s in specs.items():
        for i, link in enumerate(s.links):
            lpath = f"{s.path}.links[{i}]"
            if not isinstance(link, str):
                continue
            target, _, alias = link.partition(":")
            if target not in specs:
                ctx.err(lpath, f"unknown container {target!r}{ctx.suggest(target, specs)}")
                continue
            if alias and not naming.DOCKER_NAME.fullmatch(alias):
                ctx.err(lpath, f"alias {alias!r} {DOCKER_NAME_RULE}")
            t = specs[target]
            if t.host != s.host:
                ctx.err(lpath, f"{target!r} runs on another host; links work within one host only")
            elif s.mode == "bridge" and "bridge" in s.networks() and "bridge" not in t.networks():
                ctx.err(lpath, f"cannot link to {target!r}: it is not on the default bridge")
            elif target == name:
                ctx.err(lpath, "a container cannot link to itself")


def compose_client(raw: object) -> ComposeClient | None:
    """`x-compose`, as the Compose translation writes it (the schema checked its types)."""
    if not isinstance(raw, dict):
        return None
    expose = raw.get("expose")
    return ComposeClient(
        project=str(raw.get("project", "")), service=str(raw.get("service", "")),
        number=raw["number"] if isinstance(raw.get("number"), int) else 1,
        depends_on=str(raw.get("depends_on") or ""),
        primary=raw.get("primary") if isinstance(raw.get("primary"), str) else None,
        expose=tuple(str(e) for e in expose) if isinstance(expose, list) else ())
