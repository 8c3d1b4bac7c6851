"""The text `netlab rules` prints: each host's rule sets, headed by `# host NAME` when the lab
has several hosts. The iptables-save text comes first; an engine that writes ip6tables rules
adds `# ip6tables` and their ip6tables-save text; an nftables engine prints `# nftables` and
its tables as `nft list table` does (iptables-save and nft both ignore `#` lines)."""
from __future__ import annotations

from ...model.topology import Topology
from .programs import host_nftables, host_ruleset, host_ruleset6
from .render import render


def host_rules(topo: Topology, host: str) -> str:
    text = render(host_ruleset(topo, host))
    v6 = render(host_ruleset6(topo, host))
    if v6:
        text += f"# ip6tables\n{v6}"
    nft = host_nftables(topo, host)
    if nft:
        text += f"# nftables\n{nft}"
    return text


def lab_rules(topo: Topology, host: str | None = None) -> str:
    hosts = [h.name for h in topo.hosts if host is None or h.name == host]
    if host is not None and not hosts:
        raise KeyError(f"no host {host!r} in lab {topo.name!r}")
    if len(topo.hosts) == 1 or host is not None:
        return host_rules(topo, hosts[0])
    return "".join(f"# host {h}\n{host_rules(topo, h)}" for h in hosts)
