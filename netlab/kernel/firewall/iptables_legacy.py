"""The legacy iptables backend (`--firewall legacy`), through python-iptables (libiptc): the
same restore input as the nft backend, applied table by table, so both leave identical
iptables-save output.

python-iptables keeps one Table object per name for the whole process, libiptc binds its
socket to the namespace of the thread that initialises the handle, and building any rule
consults every table (is the target a chain?). So all tables' handles are refreshed inside
the target namespace first and closed before leaving it; a stale handle would crash.

IPv6 rules go through `ip6tables-legacy-restore` instead: libxtables keeps a target such as
MASQUERADE for the one family that loaded it first, so one process cannot build both."""
from __future__ import annotations

import shlex
from typing import Any

from ...errors import KernelError
from ...plan.firewall.model import BUILTIN_CHAINS
from .. import netns
from .backend import FirewallBackend
from .iptables_nft import binary, run_in

SAVE = {"ipv4": "iptables-legacy-save", "ipv6": "ip6tables-legacy-save"}

BASE = {"-s": "src", "-d": "dst", "-i": "in_interface", "-o": "out_interface", "-p": "protocol"}


def parse_restore(text: str) -> dict[str, dict[str, Any]]:
    """iptables-restore text -> {table: {"policies": {chain: policy}, "chains": [..], "rules": [(chain, args)]}}"""
    tables: dict[str, dict[str, Any]] = {}
    cur: dict[str, Any] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            cur = tables.setdefault(line[1:], {"policies": {}, "chains": [], "rules": []})
        elif line.startswith(":"):
            name, policy = line[1:].split()[:2]
            if policy == "-":
                cur["chains"].append(name)
            else:
                cur["policies"][name] = policy
        elif line.startswith("-A "):
            chain, _, args = line[3:].partition(" ")
            cur["rules"].append((chain, args))
        else:
            raise KernelError(f"legacy backend: cannot read rule line {line!r}")
    return tables


def build_rule(iptc: Any, args: str) -> Any:
    """One iptables-save rule (the part after `-A CHAIN`) as a python-iptables Rule."""
    rule = iptc.Rule()
    tokens = shlex.split(args)
    target = None
    current = None          # the match or target that --options belong to
    negate = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            negate = True
        elif tok in BASE:
            i += 1
            setattr(rule, BASE[tok], ("!" if negate else "") + tokens[i])
            negate = False
        elif tok == "-m":
            i += 1
            current = rule.create_match(tokens[i])
        elif tok == "-j":
            i += 1
            target = current = rule.create_target(tokens[i])
        elif tok.startswith("--"):
            has_value = i + 1 < len(tokens) and tokens[i + 1] != "!" and not tokens[i + 1].startswith("-")
            value = tokens[i + 1] if has_value else ""
            if has_value:
                i += 1
            if current is None:
                raise KernelError(f"legacy backend: option {tok} outside a match or target in {args!r}")
            setattr(current, tok[2:].replace("-", "_"), ("!" if negate else "") + value)
            negate = False
        else:
            raise KernelError(f"legacy backend: cannot read {tok!r} in rule {args!r}")
        i += 1
    if target is None:
        raise KernelError(f"legacy backend: rule without a target: {args!r}")
    return rule


def _restore(ns: str, text: str) -> None:
    try:
        import iptc
    except Exception as e:   # the library loads libiptc/libxtables at import
        raise KernelError(f"the legacy firewall backend needs python-iptables and the iptables "
                          f"libraries (apt-get install iptables): {e}") from None
    wanted = parse_restore(text)
    with netns.entered(ns):
        tables = {name: iptc.Table(name, autocommit=False)
                  for name in iptc.Table.ALL if iptc.is_table_available(name)}
        try:
            for table in tables.values():
                table.refresh()
            for name, spec in wanted.items():
                if name not in tables:
                    raise KernelError(f"{ns}: the kernel has no legacy iptables table {name!r}")
                _replace(iptc, tables[name], spec)
                tables[name].commit()
        except iptc.IPTCError as e:
            raise KernelError(f"{ns}: legacy iptables: {e}") from None
        finally:
            for table in tables.values():
                table.close()


def _replace(iptc: Any, table: Any, spec: dict[str, Any]) -> None:
    for chain in list(table.chains):
        chain.flush()
    for chain in list(table.chains):
        if not table.builtin_chain(chain.name):
            chain.delete()
    for chain in spec["chains"]:
        table.create_chain(chain)
    for chain in BUILTIN_CHAINS.get(table.name, ()):
        iptc.Chain(table, chain).set_policy(spec["policies"].get(chain, "ACCEPT"))
    for chain, args in spec["rules"]:
        iptc.Chain(table, chain).append_rule(build_rule(iptc, args))


class IptablesLegacy(FirewallBackend):
    name = "legacy"
    requires = {"ipv4": ("iptables-legacy",), "ipv6": ("ip6tables-legacy",)}
    parallel = False            # python-iptables' tables are process-global
    in_nftables = False
    restore_keeps_chains = False    # _replace deletes every user chain first

    def restore(self, ns: str, text: str, family: str = "ipv4") -> None:
        if family == "ipv4":
            _restore(ns, text)
        else:       # like python-iptables, it replaces each table it names whole
            run_in(ns, [binary("ip6tables-legacy-restore")], text)

    def save(self, ns: str, counters: bool = False, family: str = "ipv4") -> str:
        return run_in(ns, [binary(SAVE[family])] + (["-c"] if counters else []))

    def remove_tables(self, ns: str, tables: list[str], family: str = "ipv4") -> None:
        pass    # libiptc's tables always exist; emptied, they are as good as absent
