"""What dockerd does to the host's iptables before any network exists, and the DOCKER-USER
chain that libnetwork's controller re-arranges after every network it creates."""
from __future__ import annotations

from ...model.topology import Daemon
from .iptables import Iptables
from .libnetwork import FILTER, NAT, add_return_rule, ensure_jump_rule

DOCKER = "DOCKER"
ISOLATION_1 = "DOCKER-ISOLATION-STAGE-1"
ISOLATION_2 = "DOCKER-ISOLATION-STAGE-2"
USER = "DOCKER-USER"


def configure_bridge_driver(ipt: Iptables, daemon: Daemon) -> None:
    """The bridge driver's configure(): removeIPChains finds nothing in a fresh namespace,
    then setupIPChains and setupIPForwarding."""
    ipt.new_chain(NAT, DOCKER)
    ipt.new_chain(FILTER, DOCKER)
    ipt.new_chain(FILTER, ISOLATION_1)
    ipt.new_chain(FILTER, ISOLATION_2)
    add_return_rule(ipt, ISOLATION_1)
    add_return_rule(ipt, ISOLATION_2)
    if daemon.ip_forward:
        # a fresh namespace has ip_forward=0; dockerd flips it and, since it did, closes FORWARD
        ipt.set_policy(FILTER, "FORWARD", "DROP")


def arrange_user_filter_rule(ipt: Iptables) -> None:
    """controller.NewNetwork ends with this for every network, whatever its driver."""
    ipt.new_chain(FILTER, USER)
    add_return_rule(ipt, USER)
    ensure_jump_rule(ipt, "FORWARD", USER)
