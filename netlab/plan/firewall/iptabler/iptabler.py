"""What dockerd 28/29 writes in one address family's tables before any network exists:
the bridge driver's NewIptabler (setupIPChains), then the controller's DOCKER-USER
(`libnetwork/firewall_linux.go` setupUserChain), and the FORWARD policy the first network's
setupIPv4Forwarding sets (FilterForwardDrop)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..iptables import Iptables
from ..libnetwork import APPEND, FILTER, NAT, ensure_jump_rule, program_rule
from .flavor import BRIDGE, CT, DOCKER, FORWARD, USER, Family, Flavor


@dataclass
class Iptabler:
    """One family's tables as one daemon's iptabler writes them."""

    flavor: Flavor
    family: Family
    hairpin: bool                   # the userland proxy is off: DNAT serves the host's own connections
    ipt: Iptables = field(default_factory=Iptables)

    def setup_ip_chains(self) -> None:
        """NewIptabler: removeIPChains finds nothing in a fresh namespace, then setupIPChains.
        The deletions of 28.0's FORWARD rules (ipset matches, legacy jumps) find nothing either."""
        self.ipt.new_chain(NAT, DOCKER)
        for chain in self.flavor.filter_chains:
            self.ipt.new_chain(FILTER, chain)
        self._add_nat_jump_rules()
        # each jump re-inserted at the top, in reverse of the order they end up in
        ensure_jump_rule(self.ipt, "FORWARD", FORWARD)
        for target in (BRIDGE, self.flavor.internal_chain, CT):
            ensure_jump_rule(self.ipt, FORWARD, target)

    def _add_nat_jump_rules(self) -> None:
        local = "-m addrtype --dst-type LOCAL -j DOCKER"
        program_rule(self.ipt, NAT, "PREROUTING", APPEND, local)
        # with the proxy on, the proxy serves the loopback addresses; without it, DNAT does
        output = local if self.hairpin else f"! -d {self.family.loopback} {local}"
        program_rule(self.ipt, NAT, "OUTPUT", APPEND, output)

    def setup_user_chain(self) -> None:
        """The controller's DOCKER-USER, once at daemon start and first in FORWARD. From 28.3 it
        has no `-j RETURN`: an empty chain returns anyway."""
        self.ipt.new_chain(FILTER, USER)
        ensure_jump_rule(self.ipt, "FORWARD", USER)

    def filter_forward_drop(self) -> None:
        """FilterForwardDrop: a fresh namespace has forwarding off, so the first network's
        setupIPv4Forwarding turns it on and, having done so, closes FORWARD. IPv6 forwarding
        is turned on (setupIPv6Forwarding) only for a network with IPv6, so without one
        ip6tables' FORWARD stays ACCEPT; the caller calls this per network of its family."""
        self.ipt.set_policy(FILTER, "FORWARD", "DROP")
