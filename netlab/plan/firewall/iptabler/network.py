"""The rules of one bridge network (iptabler `network.go`: NewNetwork → configure →
setupIPTables), verb by verb: ACCEPTs, DROPs and jumps appended in network order, NAT and
isolation DROPs inserted (newest network first), each checked first as Rule.Append/Insert do.

Each family is configured from its own half of the network (netfam.py): a network without
IPv6 finds no prefix in its IPv6 configure() and writes nothing in ip6tables."""
from __future__ import annotations

from ....model.topology import Segment
from ..libnetwork import APPEND, DELETE, FILTER, INSERT, NAT, program_rule
from .flavor import BRIDGE, CT, DOCKER, FORWARD, ISOLATION_1, ISOLATION_2
from .iptabler import Iptabler
from .netfam import NetFam, net_fam

CONNTRACK = "-m conntrack --ctstate RELATED,ESTABLISHED"


def new_network(fw: Iptabler, seg: Segment) -> None:
    nf = net_fam(seg, fw.family.ipv6)
    if nf is None:
        return
    if seg.internal:
        _internal_rules(fw, seg, nf)
        return
    br = seg.device
    routed = nf.routed
    _nat_rules(fw, seg, nf)
    set_icc(fw, br, seg.icc, internal=False)
    if routed:
        icmp = "ipv6-icmp" if fw.family.ipv6 else "icmp"     # what iptables-save calls icmpv6
        program_rule(fw.ipt, FILTER, DOCKER, APPEND, f"-o {br} -p {icmp} -j ACCEPT")
    # the ACCEPT of what leaves the bridge; with icc it also accepts bridge-to-bridge traffic
    out = f"-i {br} -j ACCEPT" if seg.icc else f"-i {br} ! -o {br} -j ACCEPT"
    program_rule(fw.ipt, FILTER, FORWARD, APPEND, out)
    # setDefaultForwardRule: what no published port's ACCEPT let in is dropped, unless the
    # gateway mode opens the whole bridge
    verdict = "ACCEPT" if nf.unprotected else "DROP"
    program_rule(fw.ipt, FILTER, DOCKER, APPEND, f"! -i {br} -o {br} -j {verdict}")
    program_rule(fw.ipt, FILTER, CT, APPEND, f"-o {br} {CONNTRACK} -j ACCEPT")
    program_rule(fw.ipt, FILTER, BRIDGE, APPEND, f"-o {br} -j DOCKER")
    if fw.flavor.isolation:
        set_inc(fw, br, routed)


def _nat_target(nf: NetFam) -> str:
    # com.docker.network.host_ipv4 (host_ipv6) fixes the source address instead of letting
    # routing pick it
    return f"SNAT --to-source {nf.host_ip}" if nf.host_ip else "MASQUERADE"


def _nat_rules(fw: Iptabler, seg: Segment, nf: NetFam) -> None:
    """setupNonInternalNetworkRules' NAT part: a routed network is not masqueraded. From 28
    that holds for IPv6 as for IPv4: a network with IPv6 is masqueraded unless its IPv6
    gateway mode is routed."""
    br = seg.device
    if seg.masquerade:
        if not nf.routed:
            program_rule(fw.ipt, NAT, "POSTROUTING", INSERT, f"-s {nf.prefix} ! -o {br} -j {_nat_target(nf)}")
        if fw.flavor.skip_dnat and not fw.hairpin:
            program_rule(fw.ipt, NAT, DOCKER, INSERT, f"-i {br} -j RETURN")
    # without the proxy, the host's own connections DNATed into the bridge need a source the
    # container can answer
    hairpin_nat = f"-o {br} -m addrtype --src-type LOCAL -j {_nat_target(nf)}"
    program_rule(fw.ipt, NAT, "POSTROUTING", INSERT if fw.hairpin else DELETE, hairpin_nat)


def set_icc(fw: Iptabler, br: str, icc: bool, *, internal: bool) -> None:
    """setIcc: an internal network needs the ACCEPT (it has no outgoing rule to cover bridge
    traffic); icc=false appends the DROP. The deletions of 28.0's FORWARD copies find nothing."""
    accept, drop = f"-i {br} -o {br} -j ACCEPT", f"-i {br} -o {br} -j DROP"
    program_rule(fw.ipt, FILTER, FORWARD, APPEND if icc and internal else DELETE, accept)
    program_rule(fw.ipt, FILTER, FORWARD, DELETE if icc else APPEND, drop)


def _internal_rules(fw: Iptabler, seg: Segment, nf: NetFam) -> None:
    """setupInternalNetworkRules: nothing leaves the subnet, nothing from outside it enters.
    The IPv6 pair also names the other side's interface (so traffic within the bridge,
    from a link-local address say, is not dropped)."""
    br, subnet, chain = seg.device, nf.prefix, fw.flavor.internal_chain
    if fw.family.ipv6:
        program_rule(fw.ipt, FILTER, chain, INSERT, f"! -d {subnet} -i {br} ! -o {br} -j DROP")
        program_rule(fw.ipt, FILTER, chain, INSERT, f"! -s {subnet} ! -i {br} -o {br} -j DROP")
    else:
        program_rule(fw.ipt, FILTER, chain, INSERT, f"! -d {subnet} -i {br} -j DROP")
        program_rule(fw.ipt, FILTER, chain, INSERT, f"! -s {subnet} -o {br} -j DROP")
    set_icc(fw, br, seg.icc, internal=True)


def set_inc(fw: Iptabler, br: str, routed: bool) -> None:
    """setINC (28 only): leaving this bridge for another Docker bridge is dropped in stage 2;
    a routed network lets anything in (its DOCKER rules filter by port) and its replies out."""
    if routed:
        program_rule(fw.ipt, FILTER, ISOLATION_1, INSERT, f"-o {br} -j RETURN")
        program_rule(fw.ipt, FILTER, ISOLATION_1, INSERT, f"-i {br} {CONNTRACK} -j ACCEPT")
    program_rule(fw.ipt, FILTER, ISOLATION_1, APPEND, f"-i {br} ! -o {br} -j {ISOLATION_2}")
    program_rule(fw.ipt, FILTER, ISOLATION_2, INSERT, f"-o {br} -j DROP")
