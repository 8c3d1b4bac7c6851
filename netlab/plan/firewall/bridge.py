"""The rules the bridge driver writes when it creates a network (20.10 `drivers/bridge/
setup_ip_tables.go`, `bridge.go` createNetwork, `iptables.go` ProgramChain), step by step
and verb by verb: most are inserted at the top, so later networks end up above earlier ones."""
from __future__ import annotations

from ...model.topology import Daemon, Segment
from .daemon import DOCKER, ISOLATION_1, ISOLATION_2
from .iptables import Iptables
from .libnetwork import APPEND, FILTER, INSERT, NAT, ensure_jump_rule, program_rule

CONNTRACK = "-m conntrack --ctstate RELATED,ESTABLISHED"


def create_bridge_network(ipt: Iptables, seg: Segment, daemon: Daemon) -> None:
    """setupIP4Tables, then setupNetworkIsolationRules, in createNetwork's order."""
    hairpin = not daemon.userland_proxy
    if seg.internal:
        setup_internal_network_rules(ipt, seg)
    else:
        setup_ip_tables_internal(ipt, seg, hairpin)
        program_nat_chain(ipt, hairpin)
        program_filter_chain(ipt, seg.device)
    ensure_jump_rule(ipt, "FORWARD", ISOLATION_1)
    if not seg.internal:
        set_inc(ipt, seg.device)


def _nat_target(seg: Segment) -> str:
    # com.docker.network.host_ipv4 fixes the source address instead of letting routing pick it
    return f"SNAT --to-source {seg.host_ipv4}" if seg.host_ipv4 else "MASQUERADE"


def setup_ip_tables_internal(ipt: Iptables, seg: Segment, hairpin: bool) -> None:
    br = seg.device
    if seg.masquerade:
        program_rule(ipt, NAT, "POSTROUTING", INSERT, f"-s {seg.subnet} ! -o {br} -j {_nat_target(seg)}")
    if seg.masquerade and not hairpin:
        # traffic from the bridge itself must reach the userland proxy, not be DNATed
        program_rule(ipt, NAT, DOCKER, INSERT, f"-i {br} -j RETURN")
    if hairpin:
        # without the proxy, the host's own connections to 127.0.0.1:<port> are DNATed and
        # need a source the container can answer
        program_rule(ipt, NAT, "POSTROUTING", INSERT,
                     f"-o {br} -m addrtype --src-type LOCAL -j {_nat_target(seg)}")
    set_icc(ipt, br, seg.icc)
    program_rule(ipt, FILTER, "FORWARD", INSERT, f"-i {br} ! -o {br} -j ACCEPT")


def set_icc(ipt: Iptables, br: str, icc: bool) -> None:
    """An ACCEPT is inserted, but a DROP is appended: icc=false rules gather at the end."""
    accept, drop = f"-i {br} -o {br} -j ACCEPT", f"-i {br} -o {br} -j DROP"
    if icc:
        ipt.delete(FILTER, "FORWARD", drop)
        program_rule(ipt, FILTER, "FORWARD", INSERT, accept)
    else:
        ipt.delete(FILTER, "FORWARD", accept)
        program_rule(ipt, FILTER, "FORWARD", APPEND, drop)


def setup_internal_network_rules(ipt: Iptables, seg: Segment) -> None:
    br, subnet = seg.device, seg.subnet
    program_rule(ipt, FILTER, ISOLATION_1, INSERT, f"! -d {subnet} -i {br} -j DROP")
    program_rule(ipt, FILTER, ISOLATION_1, INSERT, f"! -s {subnet} -o {br} -j DROP")
    set_icc(ipt, br, seg.icc)


def program_nat_chain(ipt: Iptables, hairpin: bool) -> None:
    """ProgramChain for nat DOCKER: the jumps are appended once, by the first network."""
    local = "-m addrtype --dst-type LOCAL -j DOCKER"
    program_rule(ipt, NAT, "PREROUTING", APPEND, local)
    # with the proxy on, the proxy serves 127.0.0.0/8 from the host; without it, DNAT does
    program_rule(ipt, NAT, "OUTPUT", APPEND, local if hairpin else f"! -d 127.0.0.0/8 {local}")


def program_filter_chain(ipt: Iptables, br: str) -> None:
    program_rule(ipt, FILTER, "FORWARD", INSERT, f"-o {br} -j DOCKER")
    program_rule(ipt, FILTER, "FORWARD", INSERT, f"-o {br} {CONNTRACK} -j ACCEPT")


def set_inc(ipt: Iptables, br: str) -> None:
    """Inter-network isolation: leaving this bridge for another Docker bridge is dropped."""
    program_rule(ipt, FILTER, ISOLATION_1, INSERT, f"-i {br} ! -o {br} -j {ISOLATION_2}")
    program_rule(ipt, FILTER, ISOLATION_2, INSERT, f"-o {br} -j DROP")
