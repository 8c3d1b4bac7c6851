"""What every resolution phase shares: the file being read, the problems found so far (each
located by key path), a bounded did-you-mean budget, and small parsers that report instead of
raising."""
from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from typing import Any

from ..errors import Diagnostic
from .parsebool import parse_bool
from .source import Source

SUGGEST_BUDGET = 200_000   # names looked at per file for did-you-mean hints
MAX_LISTED = 12            # names listed when there is no close match
DOCKER_NAME_RULE = "must be letters, digits, '_', '.' or '-', starting with a letter or digit"


class Stop(Exception):
    """Later checks depend on this one; stop and report what was found."""


def suggest(name: object, known: Collection[object], budget: list[int] | None = None) -> str:
    """'; did you mean X?' or a few known names. `budget` bounds the work for one file: a hint
    costs a pass over the names, and 10,000 bad references to 10,000 containers must not take
    minutes; once it is spent, messages go without hints."""
    if budget is not None:
        if budget[0] < len(known):
            return ""
        budget[0] -= len(known)
    names = sorted(str(k) for k in known)  # sorted: the message must not depend on set order
    close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if len(names) > MAX_LISTED:
        return f"; known: {', '.join(names[:MAX_LISTED])} and {len(names) - MAX_LISTED} more"
    return f"; known: {', '.join(names)}" if names else ""


def number(text: str) -> int | None:
    """A decimal number in ASCII digits, or None: "²".isdigit() is true but int() refuses it,
    and int() of thousands of digits raises."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def get(mapping: Mapping[str, Any], key: str, default: Any) -> Any:
    """mapping[key], or `default` when the key is missing or null (`key:` with no value)."""
    value = mapping.get(key)
    return default if value is None else value


def portlike(value: object) -> bool:
    """A value ports.py can parse: a string or an integer, and `true` is not 1 here."""
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def mapping(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def listing(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def is_addr(value: object) -> bool:
    try:
        IPv4Address(value)     # anything: a refusal is the answer
        return True
    except ValueError:
        return False


def is_addr6(value: object) -> bool:
    try:
        IPv6Address(value)     # anything: a refusal is the answer
        return True
    except ValueError:
        return False


class Context:
    """The file being resolved and the problems found in it so far."""

    def __init__(self, src: Source, engine: str | None = None) -> None:
        self.src = src
        self.engine = engine            # `--engine`: overrides the file's engine for every host
        self.data: dict[Any, Any] = mapping(src.data)
        self.diags: list[Diagnostic] = []
        self.budget = [SUGGEST_BUDGET]
        self.lab = "lab"

    def err(self, path: str, message: str) -> None:
        self.diags.append(self.src.diag(path, message))

    def suggest(self, name: object, known: Collection[object]) -> str:
        return suggest(name, known, self.budget)

    def net(self, value: object, path: str) -> IPv4Network | None:
        if not isinstance(value, str):
            return None
        if "/" not in value and is_addr(value):   # IPv4Network would read it as a /32
            self.err(path, f"{value!r} has no prefix length; write a CIDR such as {value}/24")
            return None
        try:
            return IPv4Network(value)
        except ValueError:
            try:
                iface = IPv4Interface(value)
            except ValueError:
                self.err(path, f"{value!r} is not an IPv4 CIDR such as 192.168.0.0/16")
                return None
            self.err(path, f"{value!r} has host bits set; the network is {iface.network}")
            return None

    def addr(self, value: object, path: str) -> IPv4Address | None:
        if not isinstance(value, str):
            return None
        try:
            return IPv4Address(value)
        except ValueError:
            self.err(path, f"{value!r} is not an IPv4 address")
            return None

    def net6(self, value: object, path: str) -> IPv6Network | None:
        if not isinstance(value, str):
            return None
        try:
            IPv4Interface(value)
            self.err(path, f"{value!r} is IPv4; this key takes an IPv6 CIDR such as 2001:db8:1::/64")
            return None
        except ValueError:
            pass
        if "/" not in value and is_addr6(value):
            self.err(path, f"{value!r} has no prefix length; write a CIDR such as {value}/64")
            return None
        try:
            return IPv6Network(value)
        except ValueError:
            try:
                iface = IPv6Interface(value)
            except ValueError:
                self.err(path, f"{value!r} is not an IPv6 CIDR such as 2001:db8:1::/64")
                return None
            self.err(path, f"{value!r} has host bits set; the network is {iface.network}")
            return None

    def addr6(self, value: object, path: str) -> IPv6Address | None:
        if not isinstance(value, str):
            return None
        if is_addr(value):
            self.err(path, f"{value!r} is an IPv4 address; this key takes an IPv6 one")
            return None
        try:
            return IPv6Address(value)
        except ValueError:
            self.err(path, f"{value!r} is not an IPv6 address")
            return None

    def flag(self, value: object, path: str, default: bool) -> bool:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value)
        parsed = parse_bool(text)
        if parsed is None:
            self.err(path, f"{text!r} is not a boolean; use \"true\" or \"false\"")
            return default
        return parsed
