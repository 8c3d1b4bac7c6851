"""`netlab doctor`: what this machine offers, and which netlab features need what is missing.
The programs it checks are those `up` requires (kernel/requirements.py), with what needs each."""
from __future__ import annotations

from ..kernel import tracefs
from ..kernel.features import Probe, probe_all
from ..kernel.requirements import REQUIREMENTS

KERNEL_NEEDED_BY = {
    "netns": "everything: every host, container and `outside` is a network namespace",
    "uts": "every container's hostname and domain name (a UTS namespace each; no module needed)",
    "veth": "every container endpoint and every host's underlay link",
    "bridge": "docker0, user-defined bridge networks, the underlay",
    "vxlan": "overlay networks (driver: overlay)",
    "macvlan": "macvlan networks (driver: macvlan)",
    "ipvlan": "nothing yet (Docker's ipvlan driver is not modelled)",
    "8021q": "macvlan parents such as eth0.10 (802.1q sub-interfaces)",
    "dummy": "nothing (Docker's parent-less macvlan uses one; netlab refuses that case)",
    "nf_tables": "iptables-nft's rules, engines with firewall-backend nftables, the tracer's nftrace tables",
    "python-iptables": "the --firewall legacy backend",
    "br_netfilter": "icc=false and isolation between containers on one bridge (bridged traffic in FORWARD)",
    "tracefs": "drop reasons in netlab trace (optional)",
    "ipv6": "labs with IPv6 (enable_ipv6, daemon ipv6): IPv6 addresses in new namespaces, as `up` checks",
    "ip6tables": "labs with IPv6 on engines from 28.0: ip6tables rules through the backend `up` picks here",
    "nftables-ip6": "labs with IPv6 on 29.7-nftables: its `ip6 docker-bridges` table",
}
NEEDED_BY = {**KERNEL_NEEDED_BY, **{r.name: r.needed_by for r in REQUIREMENTS.values()}}
# without these no lab can be built
CORE = ("netns", "veth", "bridge", "nf_tables", "iproute2", "iptables-nft", "uts", "util-linux")


def report(probes: list[Probe] | None = None) -> tuple[str, bool]:
    """The text to print, and whether everything netlab's core needs is there."""
    live = probes is None
    probes = probe_all() if probes is None else probes
    lines = []
    core_ok = True
    for p in probes:
        mark = "ok" if p.ok else "MISSING"
        lines.append(f"{p.name:16} {mark:8} {NEEDED_BY.get(p.name, '')}")
        if not p.ok:
            lines.append(f"{'':16} {'':8} why: {p.detail}")
            if p.name in CORE:
                core_ok = False
    if live and (reaped := reap_tracefs()):
        lines.append(f"removed tracefs instances of killed traces: {', '.join(reaped)}")
    lines.append("core features: " + ("all present" if core_ok else "MISSING: netlab cannot build labs here"))
    return "\n".join(lines) + "\n", core_ok


def reap_tracefs() -> list[str]:
    """The tracefs instances of traces killed with -9 (each is named after its tracer's pid),
    removed; their names."""
    return tracefs.reap()
