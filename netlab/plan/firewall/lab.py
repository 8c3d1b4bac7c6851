"""The text `netlab rules` prints: each host's rule set in iptables-save form, headed by
`# host NAME` when the lab has several hosts (iptables-save ignores `#` lines)."""
from __future__ import annotations

from ...model.topology import Topology
from .programs import host_ruleset
from .render import render


def lab_rules(topo: Topology, host: str | None = None) -> str:
    hosts = [h.name for h in topo.hosts if host is None or h.name == host]
    if host is not None and not hosts:
        raise KeyError(f"no host {host!r} in lab {topo.name!r}")
    if len(topo.hosts) == 1 or host is not None:
        return render(host_ruleset(topo, hosts[0]))
    return "".join(f"# host {h}\n{render(host_ruleset(topo, h))}" for h in hosts)
