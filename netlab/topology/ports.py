"""Port publishing specs in Compose's short syntax: [[HOST_IP:]HOST_PORT[-END]:]PORT[-END][/PROTO]."""
from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address

PROTOS = ("tcp", "udp", "sctp")
_SPEC = re.compile(
    r"^(?:(?:(?P<ip>\d{1,3}(?:\.\d{1,3}){3}):)?(?P<host>\d+(?:-\d+)?)?:)?"
    r"(?P<ctr>\d+(?:-\d+)?)(?:/(?P<proto>[A-Za-z]+))?$")


@dataclass(frozen=True)
class PortRequest:
    """What one spec asks for, before host ports are allocated."""

    host_ip: IPv4Address | None      # None: the network's default binding address
    host_range: tuple[int, int] | None   # None: ephemeral
    container_range: tuple[int, int]
    proto: str


class PortSpecError(ValueError):
    pass


def _range(text: str, what: str) -> tuple[int, int]:
    lo, _, hi = text.partition("-")
    a, b = int(lo), int(hi or lo)
    for p in (a, b):
        if not 1 <= p <= 65535:
            raise PortSpecError(f"{what} port {p} is out of range 1-65535")
    if b < a:
        raise PortSpecError(f"{what} port range {text} is reversed; write {b}-{a}")
    return a, b


def parse_port(spec: str | int) -> PortRequest:
    text = str(spec).strip()
    m = _SPEC.match(text)
    if not m:
        raise PortSpecError(f"{text!r} is not a port mapping; use PORT, HOST:PORT, "
                            "IP:HOST:PORT or IP::PORT, each optionally /tcp, /udp or /sctp")
    proto = (m["proto"] or "tcp").lower()
    if proto not in PROTOS:
        raise PortSpecError(f"protocol {m['proto']!r} is not one of {', '.join(PROTOS)}")
    host_ip = None
    if m["ip"]:
        try:
            host_ip = IPv4Address(m["ip"])
        except ValueError:
            raise PortSpecError(f"{m['ip']!r} is not an IPv4 address") from None
    ctr = _range(m["ctr"], "container")
    host = _range(m["host"], "host") if m["host"] else None
    if host and ctr[0] != ctr[1] and host[1] - host[0] != ctr[1] - ctr[0]:
        raise PortSpecError(f"host range {m['host']} and container range {m['ctr']} differ in length")
    return PortRequest(host_ip, host, ctr, proto)


def parse_expose(spec: str | int) -> list[tuple[int, str]]:
    text = str(spec).strip()
    port, _, proto = text.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in PROTOS:
        raise PortSpecError(f"protocol {proto!r} is not one of {', '.join(PROTOS)}")
    if not re.fullmatch(r"\d+(-\d+)?", port):
        raise PortSpecError(f"{text!r} is not a port or port range such as 80, 8000-8010/udp")
    lo, hi = _range(port, "exposed")
    return [(p, proto) for p in range(lo, hi + 1)]
