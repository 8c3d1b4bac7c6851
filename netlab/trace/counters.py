"""Rule counters before and after the probe: which rules and policies its packets hit,
unordered. The fallback where nftrace sees nothing — the iptables-legacy backend, whose
rules live outside nf_tables — and a cross-check elsewhere (tracing.md §2.6).

A snapshot maps (table, chain, position) to a packet count; position None is the chain's
policy."""
from __future__ import annotations

import re

from ..errors import KernelError
from .evidence import RuleRef, Snapshot

_COUNTED = re.compile(r"^\[(\d+):\d+\]\s+-A\s+(\S+)")
_POLICY = re.compile(r"^:(\S+)\s+(ACCEPT|DROP)\s+\[(\d+):\d+\]")


def nft_snapshot(rules: dict[tuple, RuleRef], policies: dict[tuple[str, str], int]) -> Snapshot:
    """From one `nftrace.dump_rules` (one family): rule and policy counters of the
    iptables-nft tables."""
    out: Snapshot = {(r.table, r.chain, r.position): r.packets or 0 for r in rules.values()}
    out.update({(table, chain, None): n for (table, chain), n in policies.items()})
    return out


def legacy_snapshot(ns: str, family: int = 4) -> Snapshot:
    """`iptables-legacy-save -c` (`ip6tables-legacy-save -c` for `family` 6) inside the
    namespace, parsed; nothing where it cannot run."""
    from ..kernel.firewall import backend  # only a legacy trace pays for loading the backends
    try:
        text = backend("legacy").save(ns, counters=True, family="ipv6" if family == 6 else "ipv4")
    except KernelError:
        return {}
    return parse_save_counters(text)


def parse_save_counters(text: str) -> Snapshot:
    out: Snapshot = {}
    table, seen = "", {}
    for line in text.splitlines():
        if line.startswith("*"):
            table, seen = line[1:].strip(), {}
        elif m := _POLICY.match(line):
            out[(table, m.group(1), None)] = int(m.group(3))
        elif m := _COUNTED.match(line):
            chain = m.group(2)
            seen[chain] = seen.get(chain, 0) + 1
            out[(table, chain, seen[chain])] = int(m.group(1))
    return out


def delta(before: Snapshot, after: Snapshot) -> Snapshot:
    return {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0) > 0}
