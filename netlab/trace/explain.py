"""What a netfilter decision means, in words, for the rules Docker's engines write: the
report's gloss under a rule, and a drop's reason and detail in the outcome (the walk and
the correlation of a live trace word them alike). Pure.

iptables rules are recognised by their shape, native nftables rules by the comment Docker
gives them; both name the same behaviours."""
from __future__ import annotations

import re

_DIRECT = re.compile(r"-d ([0-9.]+/32|[0-9a-f:]+/128) ! -i (\S+)")
_UNPUBLISHED = re.compile(r"^-A DOCKER ! -i (\S+) -o \1 -j DROP$")
_UNPROTECTED = re.compile(r"^-A DOCKER ! -i (\S+) -o \1 -j ACCEPT$")
_ROUTED_ICMP = re.compile(r"^-A DOCKER -o (\S+) -p (?:icmp|ipv6-icmp) -j ACCEPT$")
_ICC_DROP = re.compile(r"^-A (?:DOCKER-)?FORWARD -i (\S+) -o \1 -j DROP$")
_PUBLISHED = re.compile(r"^-A DOCKER -d (\S+)/(?:32|128) ! -i (\S+) -o \2 -p (\w+) -m \w+ --dport (\d+) -j ACCEPT$")
_INTERNAL = re.compile(r"! -[sd] \S+ -[io] (\S+) -j DROP$")
_COMMENT = re.compile(r'comment "([^"]*)"')
_NFT_BRIDGE = re.compile(r"__(.+)$")
_NFT_DADDR = re.compile(r"ip6? daddr ([0-9a-f.:]+)")
_NFT_NOT_IIF = re.compile(r'iifname != "([^"]+)"')

ISOLATION = "isolation"


def _direct(addr: str, bridge: str) -> str:
    return (f"direct access to a container address ({addr}) from outside its bridge {bridge} — Docker 28+ "
            "drops it in raw PREROUTING, before any routing: only published ports, through their DNAT, "
            "reach the container")


def _loopback() -> str:
    return ("a port published on the loopback address, reached from another interface — Docker 28+ drops it "
            "(route_localnet would otherwise let the LAN in)")


def _unpublished(bridge: str) -> str:
    return (f"UNPUBLISHED PORT DROP: nothing published lets this packet in to {bridge}; Docker 28+ drops what "
            f"reaches a container on {bridge} from outside it unless a port is published (this also keeps "
            "other networks out)")


def _icc(bridge: str) -> str:
    return f"inter-container communication is off on {bridge} (icc=false)"


def _internal(bridge: str) -> str:
    return f"{bridge} is an internal network: nothing enters or leaves its subnet"


def why(table: str, chain: str, rule: str | None, verdict: str) -> str | None:
    """A sentence for a decision whose meaning is not plain from the rule, else None."""
    if rule is None:
        return None
    if not rule.startswith("-A "):
        return _why_nft(chain, rule, verdict)
    if chain in ("DOCKER-INTERNAL", "DOCKER-ISOLATION-STAGE-1") and verdict == "drop" and \
            (m := _INTERNAL.search(rule)):
        return _internal(m.group(1))
    if chain.startswith("DOCKER-ISOLATION") and verdict == "drop":
        return "Docker keeps networks apart"
    if table == "raw" and chain == "PREROUTING" and verdict == "drop":
        if " ! -i lo " in rule:
            return _loopback()
        m = _DIRECT.search(rule)
        return _direct(m.group(1).rsplit("/", 1)[0], m.group(2)) if m else None
    return _why_filter(rule)


def _why_filter(rule: str) -> str | None:
    if m := _UNPUBLISHED.match(rule):
        return _unpublished(m.group(1))
    if m := _ICC_DROP.match(rule):
        return _icc(m.group(1))
    if m := _UNPROTECTED.match(rule):
        return (f"gateway mode nat-unprotected: every port of a container on {m.group(1)} is open to direct "
                "access, published or not")
    if m := _ROUTED_ICMP.match(rule):
        return f"gateway mode routed: ICMP to containers on {m.group(1)} is accepted"
    if m := _PUBLISHED.match(rule):
        return f"the published port {m.group(3)}/{m.group(4)} of {m.group(1)}"
    return None


def _why_nft(chain: str, rule: str, verdict: str) -> str | None:
    m = _COMMENT.search(rule)
    comment = m.group(1) if m else ""
    b = _NFT_BRIDGE.search(chain)
    bridge = b.group(1) if b else "its bridge"
    if comment == "DROP DIRECT ACCESS":
        d, i = _NFT_DADDR.search(rule), _NFT_NOT_IIF.search(rule)
        return _direct(d.group(1) if d else "?", i.group(1) if i else bridge)
    if comment == "DROP REMOTE LOOPBACK":
        return _loopback()
    if comment == "UNPUBLISHED PORT DROP":
        return _unpublished(bridge)
    if comment == "ICC" and verdict == "drop":
        return _icc(bridge)
    if comment.startswith("INTERNAL NETWORK"):
        return _internal(bridge)
    if comment == "UNPROTECTED":
        return f"gateway mode nat-unprotected: every port of a container on {bridge} is open to direct access"
    if comment == "ICMP":
        return f"gateway mode routed: ICMP to containers on {bridge} is accepted"
    return None


def drop_reason(table: str, chain: str, kind: str, rule: str | None) -> str:
    """One of the outcome's REASONS for a netfilter drop."""
    if kind == "policy":
        return "policy"
    if chain.startswith("DOCKER-ISOLATION") or chain == "DOCKER-INTERNAL" or \
            (rule is not None and 'comment "INTERNAL NETWORK' in rule):
        return ISOLATION
    return "rule"


def drop_detail(table: str, chain: str, kind: str, rule: str | None, owner: str) -> str:
    if kind == "policy":
        return f"{owner}: {table} {chain} policy DROP (no rule accepted it)"
    text = rule if rule is None or rule.startswith("-A ") else f"{chain}: {rule}"
    reason = why(table, chain, rule, "drop")
    return f"{owner}: dropped by {table} {text or chain}" + (f": {reason}" if reason else "")
