"""Who listens where, as far as the plan tells: docker-proxy ports, the embedded DNS, the
stand-in DNS, and the port of a container's `command:` when it names one. The predictor
uses it to say whether a TCP SYN gets a SYN-ACK or a RST, and a UDP datagram an answer or
an ICMP port-unreachable."""
from __future__ import annotations

import re

from ..plan.plan import Plan
from ..plan.served import Process, Proxy, Resolver, StandinDNS

# the usual ways a command names its listening port; `http.server` defaults to 8000
_PATTERNS = (
    (re.compile(r"http\.server(?:\s+(?:--bind\s+\S+\s+)?(\d+))?"), "tcp", 8000),
    (re.compile(r"TCP4?-LISTEN:(\d+)", re.I), "tcp", None),
    (re.compile(r"UDP4?-(?:LISTEN|RECV):(\d+)", re.I), "udp", None),
    (re.compile(r"\bnc\b.*-l\S*\s+(?:-p\s+)?(\d+)"), "tcp", None),
    (re.compile(r"--port[= ](\d+)"), "tcp", None),
)


def command_ports(command: str) -> set[tuple[str, int]] | None:
    """(proto, port) a command listens on, or None when it cannot be told."""
    found = set()
    for pattern, proto, default in _PATTERNS:
        for m in pattern.finditer(command):
            port = m.group(1) or default
            if port:
                found.add(("udp" if " -u" in command and "nc" in command else proto, int(port)))
    return found or None


def listens(plan: Plan, ns: str, proto: str, address: str, port: int | None) -> bool | None:
    """True or False when the plan says, None when a command there is opaque."""
    unknown = False
    for item in plan.items:
        if getattr(item, "netns", None) != ns:
            continue
        if isinstance(item, Proxy) and item.proto == proto and item.host_port == port \
                and item.host_ip in ("0.0.0.0", address):
            return True
        if isinstance(item, Resolver) and address == "127.0.0.11" and port in (item.udp_port, item.tcp_port, 53):
            return True
        if isinstance(item, StandinDNS) and proto == "udp" and port == 53 and item.address == address:
            return True
        if isinstance(item, Process):
            ports = command_ports(item.command)
            if ports is None:
                unknown = True
            elif (proto, port) in ports:
                return True
    return None if unknown else False
