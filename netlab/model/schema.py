"""The shape of a lab file: which keys exist and what type each value has.

Only shape lives here; meaning (addresses, references, overlaps) is checked in resolve.py.
Every problem is reported, not just the first, each at its line and key path."""
from __future__ import annotations

import datetime
import difflib
from collections.abc import Collection
from dataclasses import dataclass

from ..errors import Diagnostic
from .source import Source


class Spec:
    name = "value"

    def check(self, value: object, path: str, src: Source, out: list[Diagnostic]) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Scalar(Spec):
    types: tuple[type, ...]
    name: str

    def check(self, value: object, path: str, src: Source, out: list[Diagnostic]) -> None:
        # bool is an int in Python; a port of `true` is not a number
        ok = isinstance(value, self.types) and not (isinstance(value, bool) and bool not in self.types)
        if not ok:
            out.append(src.diag(path, f"expected {self.name}, got {_describe(value)}"))


STR = Scalar((str,), "a string")
INT = Scalar((int,), "an integer")
BOOL = Scalar((bool,), "true or false")
PORTSPEC = Scalar((str, int), 'a port mapping such as "8080:80" or "127.0.0.1:53:53/udp"')
OPTVALUE = Scalar((str, int, bool), "a string")


@dataclass(frozen=True)
class ListOf(Spec):
    item: Spec

    def check(self, value: object, path: str, src: Source, out: list[Diagnostic]) -> None:
        if not isinstance(value, list):
            out.append(src.diag(path, f"expected a list, got {_describe(value)}"))
            return
        for i, v in enumerate(value):
            self.item.check(v, f"{path}[{i}]", src, out)


@dataclass(frozen=True)
class MapOf(Spec):
    """A mapping from user-chosen names to values of one spec (hosts, networks, ...)."""

    item: Spec
    nullable_items: bool = False

    def check(self, value: object, path: str, src: Source, out: list[Diagnostic]) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            out.append(src.diag(path, f"expected a mapping of names, got {_describe(value)}"))
            return
        for k, v in value.items():
            if v is None and self.nullable_items:
                continue
            self.item.check(v, f"{path}.{k}", src, out)


@dataclass(frozen=True)
class Obj(Spec):
    fields: dict[str, Spec]

    def check(self, value: object, path: str, src: Source, out: list[Diagnostic]) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            out.append(src.diag(path, f"expected a mapping with keys {', '.join(_shown(self.fields))}, "
                                      f"got {_describe(value)}"))
            return
        for k, v in value.items():
            kpath = f"{path}.{k}" if path else str(k)
            if k not in self.fields:
                out.append(src.diag(kpath, _unknown(k, self.fields)))
            elif v is not None:
                self.fields[k].check(v, kpath, src, out)


@dataclass(frozen=True)
class Either(Spec):
    """A value that may take one of several shapes (`networks: [a]` or `networks: {a: {...}}`)."""

    choices: tuple[Spec, ...]
    name: str

    def check(self, value: object, path: str, src: Source, out: list[Diagnostic]) -> None:
        for spec in self.choices:
            if _shape_matches(spec, value):
                spec.check(value, path, src, out)
                return
        out.append(src.diag(path, f"expected {self.name}, got {_describe(value)}"))


def _shape_matches(spec: Spec, value: object) -> bool:
    if isinstance(spec, ListOf):
        return isinstance(value, list)
    if isinstance(spec, (MapOf, Obj)):
        return isinstance(value, dict)
    if isinstance(spec, Scalar):
        return isinstance(value, spec.types) and not (isinstance(value, bool) and bool not in spec.types)
    return False


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"the date {value} (put it in quotes to make it text)"
    return f"a value of type {type(value).__name__}"


def _shown(known: Collection[str]) -> list[str]:
    """The keys a message offers: `x-` keys are netlab's own, written by its Compose translation."""
    return [k for k in known if not k.startswith("x-")]


def _unknown(key: object, known: Collection[str]) -> str:
    close = difflib.get_close_matches(str(key), _shown(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(_shown(known))}"
    return f"unknown key {str(key)!r}{hint}"


POOL = Obj({"base": STR, "size": INT})

DAEMON = Obj({
    "bip": STR,
    "fixed-cidr": STR,
    "icc": BOOL,
    "ip-masq": BOOL,
    "iptables": BOOL,
    "ip6tables": BOOL,
    "ip-forward": BOOL,
    "userland-proxy": BOOL,
    "mtu": INT,
    "ip": STR,
    "default-address-pools": ListOf(POOL),
    "dns": ListOf(STR),
    "dns-search": ListOf(STR),
    "dns-opts": ListOf(STR),
    "ipv6": BOOL,
    "fixed-cidr-v6": STR,
})

# "20.10" or 20.10: YAML reads the unquoted version as a number, which the loader accepts
ENGINE = Scalar((str, float), 'an engine such as "20.10", "28.5" or "29.7-nftables"')

HOST = Obj({"address": STR, "daemon": DAEMON, "engine": ENGINE})

NETWORK = Obj({
    "driver": STR,
    "subnet": STR,
    "gateway": STR,
    "ip_range": STR,
    "internal": BOOL,
    "driver_opts": MapOf(OPTVALUE),
    "hosts": ListOf(STR),
    "enable_ipv6": BOOL,
    "attachable": BOOL,
    # Compose's form: one entry per address family; the flat keys above are the IPv4 one
    "ipam": Obj({"config": ListOf(Obj({"subnet": STR, "gateway": STR, "ip_range": STR,
                                       "aux_addresses": MapOf(STR)}))}),
})

ENDPOINT = Obj({"ipv4_address": STR, "ipv6_address": STR, "aliases": ListOf(STR), "mac_address": STR})

EXTRA_HOSTS = Either((ListOf(STR), MapOf(Either((STR, ListOf(STR)), "an address or a list of addresses"))),
                     'a list of "NAME:ADDRESS" or a mapping of name to address')

CONTAINER = Obj({
    "host": STR,
    "network_mode": STR,
    "networks": Either((ListOf(STR), MapOf(ENDPOINT, nullable_items=True)),
                       "a list of network names or a mapping of network name to settings"),
    "ports": ListOf(PORTSPEC),
    "publish_all": BOOL,
    "expose": ListOf(PORTSPEC),
    "links": ListOf(STR),
    "command": STR,
    "hostname": STR,
    "domainname": STR,
    "extra_hosts": EXTRA_HOSTS,
    "dns": ListOf(STR),
    "dns_search": ListOf(STR),
    "dns_options": ListOf(STR),
    "mac_address": STR,
    "standin": BOOL,
    # written by the Compose translation (ComposeClient): what `docker compose` hands dockerd
    "x-compose": Obj({"project": STR, "service": STR, "number": INT, "depends_on": STR, "primary": STR,
                      "expose": ListOf(STR)}),
})

EXPECT = Obj({"from": STR, "to": Scalar((str,), "a container, an address or HOST:PORT"),
              "ok": BOOL, "proto": STR, "port": INT, "name": BOOL})

LAB = Obj({
    "name": STR,
    "engine": ENGINE,
    "underlay": Obj({"subnet": STR, "gateway": STR, "mtu": INT, "ipv6": BOOL}),
    "outside": Obj({"addresses": ListOf(STR), "routes": ListOf(Obj({"to": STR, "via": STR}))}),
    "hosts": MapOf(HOST, nullable_items=True),
    "networks": MapOf(NETWORK, nullable_items=True),
    "containers": MapOf(CONTAINER, nullable_items=True),
    "expect": ListOf(EXPECT),
})


def check_shape(src: Source) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if not isinstance(src.data, dict):
        return [src.diag("", f"a lab file is a mapping with keys {', '.join(LAB.fields)}; "
                             f"got {_describe(src.data)}")]
    LAB.check(src.data, "", src, out)
    return out
