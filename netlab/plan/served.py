"""The items the lab's agent holds rather than the kernel: containers' commands, the userland
proxies of published ports, the embedded DNS (resolvers, name tables, the stand-in
upstream) and the stand-in listeners of images that do not run. Re-exported by items.py
with the kernel objects."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from .command_ports import command_ports
from .item import Item

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True)
class Process(Item):
    """A container's `command:`, run and restarted by the lab's agent."""

    netns: str
    name: str
    command: str
    kind = "process"

    @property
    def key(self) -> tuple:
        return ("process", self.name)

    def describe(self) -> str:
        return f"{self.netns}: process {self.name}: {self.command}"


@dataclass(frozen=True)
class Proxy(Item):
    """A published port as docker-proxy serves it from the host's own addresses; with the
    userland proxy off, dockerd still holds the port (mode `hold`) so nothing else takes it."""

    netns: str
    proto: str
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int
    mode: str = "proxy"         # proxy | hold
    # UDP replies leave from the address the client sent to (docker-proxy from 28.0,
    # moby#48571), not from the one routing picks
    reply_from_destination: bool = False
    kind = "proxy"

    @property
    def key(self) -> tuple:
        return ("proxy", self.netns, self.proto, self.host_ip, self.host_port)

    @property
    def label(self) -> str:
        return f"{self.proto}:{_hostport(self.host_ip, self.host_port)}"

    def describe(self) -> str:
        what = f"-> {_hostport(self.container_ip, self.container_port)}" if self.mode == "proxy" else \
            "(held, no proxy)"
        return f"{self.netns}: {'docker-proxy' if self.mode == 'proxy' else 'port'} {self.label} {what}"


def _hostport(ip: str, port: int) -> str:
    """As net.JoinHostPort writes it: an IPv6 address in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


class Served:
    """An item the lab's agent serves. The agent reports the digest of each one it holds, so
    a changed item shows as a change until the agent has taken it."""

    @property
    def digest(self: DataclassInstance) -> str:   # a mixin of dataclasses only
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Resolver(Served, Item):
    """Docker's embedded DNS server of one container namespace: UDP and TCP sockets on
    127.0.0.11 (the nat rules send :53 there), answering from the name tables of `networks`."""

    netns: str
    container: str
    udp_port: int
    tcp_port: int
    networks: tuple[tuple[str, str], ...] = ()    # (network, DnsNames scope), in lookup order
    links: tuple[tuple[str, str], ...] = ()       # (alias, container): legacy links, seen only here
    upstreams: tuple[tuple[str, str], ...] = ()   # (server, netns to ask it from) for unknown names
    ndots_set: bool = False                       # the daemon's dns-opts name ndots
    kind = "resolver"

    @property
    def key(self) -> tuple:
        return ("resolver", self.netns)

    def describe(self) -> str:
        return f"{self.netns}: embedded DNS 127.0.0.11 (udp {self.udp_port}, tcp {self.tcp_port})"


@dataclass(frozen=True)
class DnsNames(Served, Item):
    """The names one network serves through the embedded DNS (per host for a local-scope
    network): name -> addresses, and address -> container name for PTR."""

    scope: str                                    # network, or network@host
    network: str
    names: tuple[tuple[str, tuple[str, ...]], ...] = ()
    reverse: tuple[tuple[str, str], ...] = ()
    kind = "dnsnames"

    @property
    def key(self) -> tuple:
        return ("dnsnames", self.scope)

    def describe(self) -> str:
        return f"agent: DNS names of {self.scope} ({len(self.names)} names)"


@dataclass(frozen=True)
class StandinDNS(Served, Item):
    """The hosts' upstream DNS server in `outside`: it knows no names and says so at once
    (authoritative NXDOMAIN), as a real upstream would for names that do not exist."""

    netns: str
    address: str
    kind = "standin_dns"

    @property
    def key(self) -> tuple:
        return ("standin_dns", self.netns, self.address)

    def describe(self) -> str:
        return f"{self.netns}: stand-in upstream DNS {self.address}:53"


@dataclass(frozen=True)
class Standin(Served, Item):
    """The ports a container's image would listen on (each `expose`d or published container
    port), answered by the agent in the container's namespace since images do not run in a
    lab: TCP accepts, writes the container's name and a newline and closes; UDP echoes each
    datagram. Every port listens on all IPv4 and all IPv6 addresses."""

    netns: str
    container: str
    ports: tuple[tuple[int, str], ...] = ()       # (port, proto), sorted
    kind = "standin"

    @property
    def key(self) -> tuple:
        return ("standin", self.container)

    @property
    def labels(self) -> list[str]:
        return [f"{port}/{proto}" for port, proto in self.ports]

    def describe(self) -> str:
        return f"{self.netns}: stand-in listeners of {self.container} ({', '.join(self.labels)})"


def standin(netns: str, container: str, exposed: tuple[tuple[int, str], ...],
            command: str | None = None) -> Standin | None:
    """A container's stand-in, None when it has no port left: a port its own `command`
    names is the command's (opening the stand-in first would make the command's bind
    fail). The ports sorted and once each, so the digest only changes when the set does."""
    owned = (command_ports(command) or set()) if command else set()
    ports = tuple(sorted({(port, proto) for port, proto in exposed if (proto, port) not in owned}))
    return Standin(netns, container, ports) if ports else None


DNS_ITEMS = (Resolver, DnsNames, StandinDNS)
# what the agent serves and reports by digest: a changed item is a change until it takes it
SERVED_ITEMS = (*DNS_ITEMS, Standin)
