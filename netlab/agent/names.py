"""Name lookups of Docker's embedded DNS, over the name tables of the plan. Pure.

The order is libnetwork's (20.10 sandbox.go ResolveName / resolveName, network.go
ResolveName / ResolveIP): for `a.b.c`, try `a.b.c` on every network of the container, then
`a.b` on network `c`, then `a` on network `b.c`; at each step the container's link aliases
first, then the networks' records, in the container's endpoint order."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv6Address

from ..plan.items import DnsNames, Resolver

PTR_V4 = ".in-addr.arpa."
PTR_V6 = ".ip6.arpa."


def reverse_ip(ip: str) -> str:
    """10.9.0.2 -> 2.0.9.10, as a PTR name carries it; an IPv6 address as its nibbles
    reversed (netutils.ReverseIP), without the domain either way."""
    if ":" in ip:
        return IPv6Address(ip).reverse_pointer.removesuffix(PTR_V6[:-1])
    return ".".join(reversed(ip.split(".")))


@dataclass(frozen=True)
class Table:
    """One network's service records: name -> IPv4 addresses, name -> IPv6 addresses,
    reversed address -> container name."""

    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reverse: Mapping[str, str] = field(default_factory=dict)
    names6: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, item: DnsNames) -> Table:
        reverse: dict[str, str] = {}
        for ip, name in item.reverse:
            reverse.setdefault(reverse_ip(ip), name)   # the first registration wins, as in ipMap
        names = {name: tuple(ip for ip in ips if ":" not in ip) for name, ips in item.names}
        names6 = {name: six for name, ips in item.names if (six := tuple(ip for ip in ips if ":" in ip))}
        return cls(names, reverse, names6)


EMPTY = Table()


@dataclass(frozen=True)
class View:
    """What one container's resolver sees: its networks in lookup order, its link aliases."""

    networks: tuple[tuple[str, Table], ...] = ()
    links: Mapping[str, str] = field(default_factory=dict)    # alias -> linked container's name

    @classmethod
    def of(cls, item: Resolver, tables: Mapping[str, Table]) -> View:
        return cls(tuple((network, tables.get(where, EMPTY)) for network, where in item.networks),
                   dict(item.links))

    def known(self, name: str) -> bool:
        """The name resolves here (to IPv4: every endpoint has an IPv4 address)."""
        return resolve_name(self, name)[0] is not None


def _candidates(name: str) -> list[tuple[str, str]]:
    """(name, network) pairs in the order tried; network "" means every network."""
    out = [(name, "")]
    rest = name
    while (i := rest.rfind(".")) != -1:
        out.append((name[:i], name[i + 1:]))
        rest = rest[:i]
    return out


def _network_lookup(table: Table, name: str, ipv6: bool) -> tuple[tuple[str, ...] | None, bool]:
    """network.ResolveName: (addresses, ipv6_miss). Names compare case-insensitively. A name
    with IPv4 addresses only is an IPv6 miss: known, so not to be forwarded."""
    key = name.rstrip(".").lower()
    ips = table.names.get(key)
    if ipv6:
        six = table.names6.get(key)
        return (six or None), bool(ips) and not six
    return (ips or None), False


def _lookup(view: View, name: str, network: str, alias: bool, ipv6: bool):
    miss = False
    for net, table in view.networks:
        if network and network != net:
            continue
        if alias:
            target = view.links.get(name)
            if target is None:
                continue
        elif name in view.links:
            continue      # an alias is never looked up as a plain name on this endpoint
        else:
            target = name
        ips, v6miss = _network_lookup(table, target, ipv6)
        if ips:
            return ips, False
        miss = miss or v6miss
    return None, miss


def resolve_name(view: View, qname: str, ipv6: bool = False) -> tuple[tuple[str, ...] | None, bool]:
    """(addresses or None, ipv6_miss) for a query name, trailing dot or not."""
    name = qname[:-1] if qname.endswith(".") else qname
    for req, network in _candidates(name):
        for alias in (True, False):
            ips, miss = _lookup(view, req, network, alias, ipv6)
            if ips:
                return ips, False
            if miss:
                return None, True
    return None, False


def resolve_ptr(view: View, qname: str) -> str | None:
    """`<container>.<network>` for a PTR name of an address on one of the container's networks."""
    lowered = qname.lower() if qname.endswith(".") else qname.lower() + "."
    suffix = next((s for s in (PTR_V4, PTR_V6) if lowered.endswith(s)), None)
    if suffix is None:
        return None
    reversed_ip = lowered[:-len(suffix)]
    for network, table in view.networks:
        name = table.reverse.get(reversed_ip)
        if name:
            return f"{name}.{network}"
    return None
