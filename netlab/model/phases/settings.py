"""A container's name and resolver settings: `domainname`, `extra_hosts`, `dns`,
`dns_search`, `dns_options`, the container-wide `mac_address` and `standin`, checked against
each other and the network mode as dockerd checks them (runconfig validateNetContainerMode)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..context import Context, listing, mapping
from ..hostvalues import (
    HOST_GATEWAY,
    check_host_name,
    check_option,
    check_search,
    parse_address,
    parse_mac,
    split_extra_host,
)
from ..specs import ContainerSettings

# what dockerd refuses beside a shared namespace, in its words
SHARED_REFUSES = {"dns": "dns", "extra_hosts": "custom host-to-IP mapping", "mac_address": "mac-address"}


# HOST_NAME_MAX: sethostname/setdomainname refuse longer (runc fails the start; netlab, the file)
UTS_NAME_MAX = 64


def read_settings(ctx: Context, spec: dict[Any, Any], path: str, mode: str) -> ContainerSettings:
    _conflicts(ctx, spec, path, mode)
    for key in ("hostname", "domainname"):
        value = spec.get(key)
        if isinstance(value, str) and len(value.encode()) > UTS_NAME_MAX:
            ctx.err(f"{path}.{key}", f"{len(value.encode())} bytes: the kernel takes a {key} of at most "
                                     f"{UTS_NAME_MAX} (Docker would fail when the container starts)")
    domainname = spec.get("domainname")
    mac = spec.get("mac_address")
    parsed = _mac(ctx, mac, f"{path}.mac_address") if isinstance(mac, str) else None
    return ContainerSettings(
        domainname=domainname if isinstance(domainname, str) else "",
        extra_hosts=extra_hosts(ctx, spec.get("extra_hosts"), f"{path}.extra_hosts"),
        extra_hosts_path=f"{path}.extra_hosts",
        dns=_addresses(ctx, spec.get("dns"), f"{path}.dns"),
        dns_search=_checked(ctx, spec.get("dns_search"), f"{path}.dns_search", check_search),
        dns_options=_checked(ctx, spec.get("dns_options"), f"{path}.dns_options", check_option),
        mac=parsed, mac_path=f"{path}.mac_address", standin=spec.get("standin") is True)


def _conflicts(ctx: Context, spec: dict[Any, Any], path: str, mode: str) -> None:
    if mode == "container":
        for key, what in SHARED_REFUSES.items():
            if spec.get(key):
                ctx.err(f"{path}.{key}", f"conflicting options: {what} and the network mode (Docker refuses "
                                         "`--network container:...` with it; the namespace's owner sets it)")
    if mode in ("host", "none") and spec.get("mac_address"):
        ctx.err(f"{path}.mac_address", f"conflicting options: mac-address and the network mode "
                                       f"(`{mode}` gives the container no interface of its own)")
    if mode == "host":
        for key in ("extra_hosts", "dns", "dns_search", "dns_options"):
            if spec.get(key):
                ctx.err(f"{path}.{key}", "netlab does not model this for `network_mode: host`: Docker gives "
                                         "such a container copies of the host's /etc/hosts and resolv.conf "
                                         "with it applied, while in a lab the container shares the host's")


def _mac(ctx: Context, value: str, path: str) -> str | None:
    mac, problem = parse_mac(value)
    if problem:
        ctx.err(path, problem)
    return mac


def endpoint_mac(ctx: Context, value: object, path: str) -> str | None:
    return _mac(ctx, value, path) if isinstance(value, str) else None


def extra_hosts(ctx: Context, raw: object, path: str) -> tuple[tuple[str, str], ...]:
    """(name, address) in the order written: a list of NAME:ADDRESS / NAME=ADDRESS, or a
    mapping of name to an address or a list of them. `host-gateway` stays as it is."""
    entries: list[tuple[str, object, str]] = []
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            if not isinstance(item, str):
                continue    # the schema reported the type
            split = split_extra_host(item)
            if split is None:
                ctx.err(f"{path}[{i}]", f"{item!r} is not NAME:ADDRESS (or NAME=ADDRESS), such as "
                                        "\"db.example:192.0.2.10\"")
                continue
            entries.append((split[0], split[1], f"{path}[{i}]"))
    else:
        for name, value in mapping(raw).items():
            values = value if isinstance(value, list) else [value]
            entries += [(str(name), v, f"{path}.{name}") for v in values]
    out: list[tuple[str, str]] = []
    for name, value, vpath in entries:
        problem = check_host_name(name)
        if problem:
            ctx.err(vpath, problem)
            continue
        if not isinstance(value, str):
            ctx.err(vpath, f"expected an address for {name!r}, got {value!r}")
            continue
        if value == HOST_GATEWAY:
            out.append((name, value))
            continue
        address, problem = parse_address(value)
        if problem:
            ctx.err(vpath, f"invalid IP address in extra host {name!r}: {problem}")
        else:
            assert address is not None
            out.append((name, address))
    return tuple(out)


def _addresses(ctx: Context, raw: object, path: str) -> tuple[str, ...]:
    out = []
    for i, value in enumerate(listing(raw)):
        if isinstance(value, str):
            address, problem = parse_address(value)
            if problem:
                ctx.err(f"{path}[{i}]", f"{problem}; a DNS server is an address such as 192.0.2.53")
            elif address is not None:
                out.append(address)
    return tuple(out)


def _checked(ctx: Context, raw: object, path: str, check: Callable[[str], str | None]) -> tuple[str, ...]:
    out = []
    for i, value in enumerate(listing(raw)):
        if isinstance(value, str):
            problem = check(value)
            if problem:
                ctx.err(f"{path}[{i}]", problem)
            else:
                out.append(value)
    return tuple(out)
