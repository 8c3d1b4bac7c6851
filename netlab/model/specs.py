"""What the lab file asks for, checked but not yet allocated: the records passed between the
resolution phases (networks before subnets, containers before addresses and ports)."""
from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from .topology import ComposeClient


@dataclass(frozen=True, kw_only=True)
class NetworkSpec:
    """One user-defined network; its subnet is given here or allocated per host later."""

    name: str
    driver: str
    subnet: IPv4Network | None
    gateway: IPv4Address | None
    ip_range: IPv4Network | None
    internal: bool
    options: tuple[tuple[str, str], ...]    # driver_opts with valid values only, in file order
    hosts: tuple[str, ...] | None           # None: not listed in the file
    enable_ipv6: bool = False
    subnet6: IPv6Network | None = None      # None with enable_ipv6: allocated (27.0+)
    gateway6: IPv6Address | None = None
    ip_range6: IPv6Network | None = None
    path6: str = ""                         # where the IPv6 subnet is written, for messages
    # ipam.config[].aux_addresses: (name, address), never handed out
    aux: tuple[tuple[str, IPv4Address], ...] = ()
    aux6: tuple[tuple[str, IPv6Address], ...] = ()
    attachable: bool = False

    def option(self, key: str, default: str = "") -> str:
        return dict(self.options).get(key, default)

    def has_option(self, key: str) -> bool:
        return any(k == key for k, _ in self.options)


@dataclass(frozen=True)
class EndpointSpec:
    """A container's wish to join one network."""

    network: str
    path: str                               # its key path in the file, for messages
    address_given: bool                     # `ipv4_address:` is present, even if empty
    ipv4_address: object = None             # as written: the static-address pass checks it
    aliases: tuple[str, ...] = ()
    address6_given: bool = False            # `ipv6_address:` is present
    ipv6_address: object = None
    mac: str | None = None                  # `mac_address:`, checked and normalised


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    """A container as written, with its host, network mode and endpoints checked."""

    name: str
    path: str
    host: str | None                        # None: unknown or not given (already reported)
    mode: str                               # bridge | host | none | container
    shares: str | None                      # network_mode: container:<shares>
    endpoints: tuple[EndpointSpec, ...]
    hostname: str | None
    command: str | None
    publish_all: bool
    ports: tuple[object, ...]               # port specs as written
    expose: tuple[object, ...]
    links: tuple[object, ...]
    settings: ContainerSettings = field(default_factory=lambda: ContainerSettings())
    compose: ComposeClient | None = None

    def networks(self) -> set[str]:
        return {ep.network for ep in self.endpoints}


@dataclass(frozen=True, kw_only=True)
class ContainerSettings:
    """A container's name and resolver settings, checked: `extra_hosts` with each address as
    dockerd writes it (`host-gateway` still to be resolved on the container's host)."""

    domainname: str = ""
    extra_hosts: tuple[tuple[str, str], ...] = ()
    extra_hosts_path: str = ""
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    mac: str | None = None                  # container-wide `mac_address`
    mac_path: str = ""
    standin: bool = False
