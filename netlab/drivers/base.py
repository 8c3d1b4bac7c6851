"""The Driver protocol: everything netlab knows about one Docker network driver, from its
options to its rules. A driver is one module in this package, listed in DRIVERS."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Protocol

from ..engine import Engine
from ..model import naming
from ..model.ipam import first_host
from ..model.parsebool import parse_bool
from ..model.specs import NetworkSpec
from ..model.topology import Attachment, Container, Daemon, Host, Segment, Topology, Underlay
from ..plan.firewall.iptables import Iptables
from ..plan.plan import Plan
from .options import Option

Problem = tuple[str, str]                       # (key path, message)
Segments = dict[str, dict[str, Segment]]        # host -> network -> its segment there


class Driver(Protocol):
    name: str
    options: tuple[Option, ...]     # its driver_opts keys, in the order messages list them
    # IPAM scope: a global-scope network (swarm) has one address space over all its hosts,
    # spans every host unless told otherwise, and takes a static address without a subnet
    global_scope: bool
    publishes_ports: bool           # whether -p on its gateway endpoint maps host ports
    on_underlay: bool               # whether its subnet may be the underlay's own

    def segment(self, lab: str, net: NetworkSpec, host: Host, subnet: IPv4Network, vni: int) -> Segment: ...

    def has_gateway(self, seg: Segment, engine: Engine) -> bool: ...

    def reserved(self, underlay: Underlay, hosts: list[Host]) -> list[IPv4Address]: ...

    def segment_problems(self, segments: Segments) -> list[Problem]: ...

    def endpoint_problems(self, containers: list[Container], segments: Segments,
                          paths: dict[tuple[str, str], str]) -> list[Problem]: ...

    def plan_segment(self, plan: Plan, topo: Topology, seg: Segment) -> None: ...

    def plan_endpoint(self, plan: Plan, topo: Topology, c: Container, att: Attachment, hairpin: bool) -> None: ...

    def nic_mac(self, topo: Topology, host: Host) -> str | None: ...

    # the rules a network's creation writes, for the 20.10 program (plan/firewall/docker.py);
    # the 28/29 programs (plan/firewall/iptabler, nft) replay the bridge driver's firewaller
    # themselves, the only driver that writes rules there
    def network_rules(self, ipt: Iptables, seg: Segment, daemon: Daemon) -> None: ...


class BaseDriver:
    """What most drivers do: local scope, no checks beyond the options, no host rules."""

    name = ""
    options: tuple[Option, ...] = ()
    global_scope = False
    publishes_ports = False
    on_underlay = False

    def option_keys(self) -> tuple[str, ...]:
        return tuple(o.key for o in self.options)

    def has_gateway(self, seg: Segment, engine: Engine) -> bool:
        return True

    def reserved(self, underlay: Underlay, hosts: list[Host]) -> list[IPv4Address]:
        return []

    def segment_problems(self, segments: Segments) -> list[Problem]:
        return []

    def endpoint_problems(self, containers: list[Container], segments: Segments,
                          paths: dict[tuple[str, str], str]) -> list[Problem]:
        return []

    def nic_mac(self, topo: Topology, host: Host) -> str | None:
        return None

    def network_rules(self, ipt: Iptables, seg: Segment, daemon: Daemon) -> None:
        return None


def make_segment(lab: str, net: NetworkSpec, host: Host, subnet: IPv4Network, *, device: str, mtu: int,
                 vni: int = 0, macvlan_mode: str = "") -> Segment:
    """The fields every driver fills the same way, from the network's checked options."""
    hb = net.option("com.docker.network.bridge.host_binding_ipv4")
    host_ipv4 = net.option("com.docker.network.host_ipv4")
    return Segment(
        network=net.name, host=host.name, driver=net.driver, subnet=subnet,
        gateway=net.gateway or first_host(subnet), ip_range=net.ip_range, device=device,
        internal=net.internal,
        icc=parse_bool(net.option("com.docker.network.bridge.enable_icc", "true")) is True,
        masquerade=parse_bool(net.option("com.docker.network.bridge.enable_ip_masquerade", "true")) is True,
        mtu=mtu, host_binding_ipv4=IPv4Address(hb) if hb else IPv4Address("0.0.0.0"),
        is_default=False, options=tuple(sorted(net.options)),
        network_id=naming.network_id(lab, net.name), vni=vni, macvlan_mode=macvlan_mode,
        host_ipv4=IPv4Address(host_ipv4) if host_ipv4 else None,
        gateway_mode=net.option("com.docker.network.bridge.gateway_mode_ipv4") or "nat",
        attachable=net.attachable, gateway_shown=net.subnet is None or net.gateway is not None,
        gateway6_shown=net.subnet6 is None or net.gateway6 is not None)
