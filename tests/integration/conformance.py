"""What the conformance tests compare, as differences a person can read: each rule-set
difference names its table and chain with the expected (Docker's) and the got (netlab's)
rules; routes are compared as sets of `dst [via gw] dev d [src s]` lines."""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from ipaddress import IPv4Interface

from netlab.plan.firewall.model import Ruleset, Table
from netlab.plan.items import Address, Route


def ruleset_differences(where: str, ours: Ruleset, theirs: Ruleset) -> list[str]:
    """One entry per table or chain that differs, Docker's rules being the expected ones."""
    out = []
    names = dict.fromkeys([t.name for t in theirs.tables] + [t.name for t in ours.tables])
    for name in names:
        mine, docker = ours.table(name), theirs.table(name)
        if mine is None or docker is None:
            side, table = ("Docker", docker) if mine is None else ("netlab", mine)
            assert table is not None
            out.append(f"{where} table {name}: only {side} has it: {_shape(table)}")
            continue
        chains = dict.fromkeys([c.name for c in docker.chains] + [c.name for c in mine.chains])
        for chain in chains:
            a, b = docker.chain(chain), mine.chain(chain)
            if a == b:
                continue
            if a is None or b is None:
                side = "netlab" if a is None else "Docker"
                c = b if a is None else a
                assert c is not None
                out.append(f"{where} {name} {chain}: only {side} has the chain "
                           f"(policy {c.policy or '-'}): {list(c.rules)}")
                continue
            head = f"{where} {name} {chain}:"
            if a.policy != b.policy:
                out.append(f"{head} policy expected {a.policy}, got {b.policy}")
            if a.rules != b.rules:
                out.append(f"{head} rules differ (- expected from Docker, + got from netlab)\n"
                           + "\n".join(_diff(a.rules, b.rules)))
    return out


def _shape(table: Table) -> str:
    rules = sum(len(c.rules) for c in table.chains)
    return f"chains {[c.name for c in table.chains]}, {rules} rules"


def _diff(expected: tuple[str, ...], got: tuple[str, ...]) -> list[str]:
    lines = difflib.unified_diff(list(expected), list(got), lineterm="", n=1)
    return [f"    {line}" for line in lines if not line.startswith(("---", "+++"))]


# -- container namespaces: the embedded resolver's ports are the engine's choice

_RESOLVER = [(re.compile(r"127\.0\.0\.11:\d+"), "127.0.0.11:<port>"),
             (re.compile(r"--sport \d+ -j SNAT"), "--sport <port> -j SNAT")]


def resolver_ports_blanked(text: str) -> str:
    for pattern, stand_in in _RESOLVER:
        text = pattern.sub(stand_in, text)
    return text


# -- routes

_ROUTE = re.compile(r"^(?P<dst>\S+)(?: via (?P<via>\S+))?(?: dev (?P<dev>\S+))?.*?(?: src (?P<src>\S+))?")


def route_lines(text: str, rename: Mapping[str, str] | None = None) -> set[str]:
    """`ip -4 route show` output as comparable lines (proto, scope, metric, linkdown left out)."""
    out = set()
    for line in text.splitlines():
        line = line.strip()
        m = _ROUTE.match(line)
        if not line or not m:
            continue
        src = re.search(r" src (\S+)", line)
        dev = (rename or {}).get(m["dev"], m["dev"]) if m["dev"] else None
        out.add(_route(m["dst"], m["via"], dev, src.group(1) if src else None))
    return out


def planned_routes(items: list, netns: str) -> set[str]:
    """The IPv4 main table the kernel will show for a namespace netlab plans: its planned
    IPv4 routes plus the prefix route of each IPv4 address (none for lo or a /32)."""
    out = set()
    for item in items:
        if getattr(item, "netns", None) != netns:
            continue
        if isinstance(item, Route):
            if ":" not in item.dst + (item.gateway or ""):
                out.add(_route(item.dst, item.gateway, item.dev, None))
        elif isinstance(item, Address) and item.dev != "lo" and ":" not in item.cidr:
            iface = IPv4Interface(item.cidr)
            if iface.network.prefixlen < 32:
                out.add(_route(str(iface.network), None, item.dev, str(iface.ip)))
    return out


def _route(dst: str, via: str | None, dev: str | None, src: str | None) -> str:
    return " ".join(filter(None, (dst, via and f"via {via}", dev and f"dev {dev}", src and f"src {src}")))


def route_differences(where: str, ours: set[str], theirs: set[str]) -> list[str]:
    if ours == theirs:
        return []
    return [f"{where} routes: expected (Docker) only {sorted(theirs - ours)}, "
            f"got (netlab) only {sorted(ours - theirs)}"]
