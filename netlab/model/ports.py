"""Port publishing specs in Compose's short syntax: [[HOST_IP:]HOST_PORT[-END]:]PORT[-END][/PROTO].
An IPv6 HOST_IP goes in brackets, as go-connections' ParsePortSpec wants it: [::1]:8080:80."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any, TypeVar

PROTOS = ("tcp", "udp", "sctp")
T = TypeVar("T")
_SPEC = re.compile(
    r"^(?:(?:(?:\[(?P<bracketed>[^\]]*)\]|(?P<ip>\d{1,3}(?:\.\d{1,3}){3})):)?(?P<host>\d+(?:-\d+)?)?:)?"
    r"(?P<ctr>\d+(?:-\d+)?)(?:/(?P<proto>[A-Za-z]+))?$")


@dataclass(frozen=True)
class PortRequest:
    """What one spec asks for, before host ports are allocated."""

    host_ip: IPv4Address | IPv6Address | None      # None: the network's default binding address
    host_range: tuple[int, int] | None   # None: ephemeral
    container_range: tuple[int, int]
    proto: str


class PortSpecError(ValueError):
    pass


def _range(text: str, what: str) -> tuple[int, int]:
    lo, _, hi = text.partition("-")
    for digits in (lo, hi or lo):   # int() of thousands of digits raises ValueError
        if len(digits.lstrip("0")) > 5 or not 1 <= int(digits) <= 65535:
            shown = digits if len(digits) <= 12 else digits[:9] + "..."
            raise PortSpecError(f"{what} port {shown} is out of range 1-65535")
    a, b = int(lo), int(hi or lo)
    if b < a:
        raise PortSpecError(f"{what} port range {text} is reversed; write {b}-{a}")
    return a, b


def parse_port(spec: str | int) -> PortRequest:
    text = str(spec).strip()
    m = _SPEC.match(text)
    if not m and _unbracketed_ipv6(text):
        # ParsePortSpec splits on the last two colons and refuses what is left unbracketed
        raise PortSpecError(f"{text!r}: write an IPv6 host address in brackets, "
                            "as in [::1]:8080:80")
    if not m:
        raise PortSpecError(f"{text!r} is not a port mapping; use PORT, HOST:PORT, "
                            "IP:HOST:PORT or IP::PORT, each optionally /tcp, /udp or /sctp")
    proto = (m["proto"] or "tcp").lower()
    if proto not in PROTOS:
        raise PortSpecError(f"protocol {m['proto']!r} is not one of {', '.join(PROTOS)}")
    host_ip: IPv4Address | IPv6Address | None = None
    if m["ip"]:
        try:
            host_ip = IPv4Address(m["ip"])
        except ValueError:
            raise PortSpecError(f"{m['ip']!r} is not an IPv4 address") from None
    elif m["bracketed"] is not None:
        try:
            host_ip = ip_address(m["bracketed"])    # SplitHostPort takes an IPv4 one in brackets too
        except ValueError:
            raise PortSpecError(f"{m['bracketed']!r} is not an IP address") from None
    ctr = _range(m["ctr"], "container")
    host = _range(m["host"], "host") if m["host"] else None
    if host and ctr[0] != ctr[1] and host[1] - host[0] != ctr[1] - ctr[0]:
        raise PortSpecError(f"host range {m['host']} and container range {m['ctr']} differ in length")
    return PortRequest(host_ip, host, ctr, proto)


def _unbracketed_ipv6(text: str) -> bool:
    head = text.partition("/")[0].rsplit(":", 2)[0]
    try:
        return ip_address(head).version == 6
    except ValueError:
        return False


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


Port = tuple[int, str]     # (number, protocol), what Docker writes as "80/tcp"
# the protocols' numbers (types.Protocol): from 28.0 the port mapper sorts bindings by them
PROTO_NUMBERS = {"tcp": 6, "udp": 17, "sctp": 132}
GO_MAX_INSERTION = 12      # sort.Sort uses insertion sort up to this length


def daemon_order(exposed: Iterable[Port], wanted: Sequence[tuple[Port, int, T]]) -> list[tuple[Port, list[T]]]:
    """A container's ports in the order dockerd hands them to libnetwork, each with its
    bindings: host ports are allocated, and rules written, in this order.

    `wanted` holds one entry per binding in flag order: the container port, the host port as
    requested (0 when ephemeral, a range's first port) and a payload returned as is.

    dockerd sorts with go-connections' nat.SortPortMap, whose Less is
    `hostPort_i > hostPort_j || port_i > port_j || (port_i == port_j && proto_i == tcp)`,
    through sort.Sort: an insertion sort for up to 12 entries. That relation is not a strict
    order (two bindings of one tcp port are each "less" than the other; a higher host port on
    a lower container port beats and is beaten), so the result also depends on the input
    order: Go's iteration over Config.ExposedPorts. That map is filled from the API's JSON,
    whose keys Go sorts as strings ("1000/tcp" < "80/tcp"), and iterating a map of up to 8
    keys walks that order rotated by a random start among 8 slots, unrotated at least half
    the time. We feed the unrotated order: the order every stable set gets, and the one
    Docker shows most often for the others [OBS: 11 of 12 and 7 of 10 runs]."""
    bindings: dict[Port, list[tuple[int, T]]] = {}
    for port, host_port, value in wanted:
        bindings.setdefault(port, []).append((host_port, value))
    entries: list[tuple[Port, int, T | None]] = []
    for port in sorted(set(exposed) | set(bindings), key=lambda p: f"{p[0]}/{p[1]}"):
        # a port exposed with no binding still takes part in the sort, with no payload
        port_bindings: Sequence[tuple[int, T | None]] = bindings.get(port) or [(0, None)]
        for host_port, payload in port_bindings:
            entries.append((port, host_port, payload))
    if len(entries) <= GO_MAX_INSERTION:
        _insertion_sort(entries, _sort_port_map_less)
    else:
        # Go sorts longer slices with pdqsort, and feeds it a map walk that is random beyond 8
        # keys: Docker has no reproducible order here. Sort by what Less means (higher host
        # port, higher port, tcp first) in O(n log n): swap for swap, `expose: ["1-65535"]`
        # took hours.
        entries.sort(key=lambda e: (-e[1], -e[0][0], e[0][1] != "tcp"))
    out: dict[Port, list[T]] = {}
    for port, _, payload in entries:
        out.setdefault(port, [])
        if payload is not None:
            out[port].append(payload)
    return list(out.items())


_Entry = tuple[Port, int, Any]


def _sort_port_map_less(a: _Entry, b: _Entry) -> bool:
    (pa, proto_a), hpa, _ = a
    (pb, _), hpb, _ = b
    return hpa > hpb or pa > pb or (pa == pb and proto_a == "tcp")


def _insertion_sort(items: list[Any], less: Callable[[Any, Any], bool]) -> None:
    """Go's sort.insertionSort, swap for swap, so that a non-strict Less acts as in Go."""
    for i in range(1, len(items)):
        j = i
        while j > 0 and less(items[j], items[j - 1]):
            items[j], items[j - 1] = items[j - 1], items[j]
            j -= 1
