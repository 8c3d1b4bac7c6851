"""The port a container's `command:` names, where it names one the usual way (http.server,
socat, nc, --port), and the address families its sockets take. The tracer asks it who
listens; the planner leaves such a port to the command rather than give it a stand-in."""
from __future__ import annotations

import re

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
