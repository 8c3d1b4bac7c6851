"""Who listens where, as far as the plan tells: docker-proxy ports, the embedded DNS, the
stand-in DNS, a container's stand-in listeners (every exposed or published port, both
families), and the port of a container's `command:` when it names one. The predictor
uses it to say whether a TCP SYN gets a SYN-ACK or a RST, and a UDP datagram an answer or
an ICMP port-unreachable.

Per address family too: `python3 -m http.server 80` binds 0.0.0.0 (the first address
getaddrinfo gives for a passive socket here), so an IPv6 SYN to it gets a RST; with
`--bind ::` it serves both families (its DualStackServer clears IPV6_V6ONLY)."""
from __future__ import annotations

import re

from ..plan.plan import Plan
from ..plan.served import Process, Proxy, Resolver, Standin, StandinDNS

# the usual ways a command names its listening port; `http.server` defaults to 8000
_PATTERNS = (
    (re.compile(r"http\.server(?:\s+(?:--bind\s+\S+\s+)?(\d+))?"), "tcp", 8000),
    (re.compile(r"TCP[46]?-LISTEN:(\d+)", re.I), "tcp", None),
    (re.compile(r"UDP[46]?-(?:LISTEN|RECV):(\d+)", re.I), "udp", None),
    (re.compile(r"\bnc\b.*-l\S*\s+(?:-p\s+)?(\d+)"), "tcp", None),
    (re.compile(r"--port[= ](\d+)"), "tcp", None),
)
# the families a command's sockets take, where it says: socat's TCP6-/UDP6- (and a bare
# TCP-/UDP-, IPv4 as socat defaults to), http.server's --bind, nc's -6
_IPV6_ONLY = re.compile(r"\b(?:TCP6|UDP6)-(?:LISTEN|RECV)", re.I)
_BOTH = re.compile(r"http\.server\s+--bind\s+(?:::|\[::\])(?:\s|$)|\bnc\b.*\s-6")


def command_ports(command: str) -> set[tuple[str, int]] | None:
    """(proto, port) a command listens on, or None when it cannot be told."""
    found = set()
    for pattern, proto, default in _PATTERNS:
        for m in pattern.finditer(command):
            port = m.group(1) or default
            if port:
                found.add(("udp" if " -u" in command and "nc" in command else proto, int(port)))
    return found or None


def command_families(command: str) -> set[int]:
    """The address families (4, 6) a command's listening sockets take."""
    if _IPV6_ONLY.search(command):
        return {6}
    if _BOTH.search(command):
        return {4, 6}
    return {4}


def listens(plan: Plan, ns: str, proto: str, address: str, port: int | None) -> bool | None:
    """True or False when the plan says, None when a command there is opaque. `address`
    (IPv4 or IPv6 text) gives the family: docker-proxy's wildcard is 0.0.0.0 or ::."""
    family = 6 if ":" in address else 4
    wildcard = "::" if family == 6 else "0.0.0.0"
    unknown = False
    for item in plan.items:
        if getattr(item, "netns", None) != ns:
            continue
        if isinstance(item, Proxy) and item.proto == proto and item.host_port == port \
                and item.host_ip in (wildcard, address):
            return True
        if isinstance(item, Resolver) and address == "127.0.0.11" and port in (item.udp_port, item.tcp_port, 53):
            return True
        if isinstance(item, StandinDNS) and proto == "udp" and port == 53 and item.address == address:
            return True
        if isinstance(item, Standin) and (port, proto) in item.ports:
            return True
        if isinstance(item, Process):
            ports = command_ports(item.command)
            if ports is None:
                unknown = True
            elif (proto, port) in ports and family in command_families(item.command):
                return True
    return None if unknown else False
