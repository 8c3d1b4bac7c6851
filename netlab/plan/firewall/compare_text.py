"""A RulesDiff as text a learner reads (pure): what `netlab rules FILE --diff B` prints.

    # 20.10 -> 28.5 (lab demo)
    # -: only 20.10 writes it   +: only 28.5 writes it   ~: both write it, at another place
    # iptables
    *filter
    FORWARD
      - -j DOCKER-ISOLATION-STAGE-1
      ~ -j DOCKER-USER   (#1 in 20.10, #2 in 28.5)
    DOCKER-FORWARD (only in 28.5)
      + -j DOCKER-CT

Sections follow `netlab rules`: `# host H` in a lab of several hosts, `# iptables`,
`# ip6tables`, `# nftables`, then `*table` as iptables-save names it (nft: `*ip docker-bridges`)."""
from __future__ import annotations

from .compare import ChainDiff, FamilyDiff, HostDiff, RulesDiff, TableDiff


def render_diff(d: RulesDiff) -> str:
    lines = [f"# {d.a} -> {d.b} (lab {d.lab})"]
    if d.same:
        lines.append(f"identical: {d.a} and {d.b} write the same rules for this lab")
        return "\n".join(lines) + "\n"
    lines.append(f"# -: only {d.a} writes it   +: only {d.b} writes it   "
                 "~: both write it, at another place in the chain")
    several = len(d.hosts) > 1
    for h in d.hosts:
        if several or h.a != d.a or h.b != d.b:
            lines.append(f"# host {h.host}" + ("" if (h.a, h.b) == (d.a, d.b) else f" ({h.a} -> {h.b})")
                         + (": identical" if h.same else ""))
        lines += _host(h)
    return "\n".join(lines) + "\n"


def _host(h: HostDiff) -> list[str]:
    out = []
    for f in h.families:
        out.append(f"# {f.family}" + _only(f.only, h))
        for t in f.tables:
            out += _table(t, f, h)
    return out


def _table(t: TableDiff, f: FamilyDiff, h: HostDiff) -> list[str]:
    out = [f"*{t.name}" + ("" if f.only else _only(t.only, h))]
    for c in t.chains:
        out += _chain(c, h, shown=bool(f.only or t.only))
    return out


def _chain(c: ChainDiff, h: HostDiff, shown: bool) -> list[str]:
    """`shown`: the table or family is one side's only, which already says the chain is."""
    notes = [] if shown or not c.only else [f"only in {h.a if c.only == 'a' else h.b}"]
    if c.only and c.policy:
        head = c.policy[0] if c.only == "a" else c.policy[1]
        notes += [_policy(head)] if head else []
    notes += ["empty"] if c.only and not (c.removed or c.added) else []
    out = [c.name + (f" ({'; '.join(notes)})" if notes else "")]
    if c.policy and not c.only:
        was, now = (p or "none" for p in c.policy)
        words = " " not in was + now
        out.append(f"  policy {was} -> {now}" if words else f"  {was.rstrip(';')} -> {now.rstrip(';')}")
    out += [f"  - {r}" for r in c.removed]
    out += [f"  + {r}" for r in c.added]
    out += [f"  ~ {m.rule}   (#{m.before} in {h.a}, #{m.after} in {h.b})" for m in c.moved]
    return out


def _policy(head: str) -> str:
    """iptables' ACCEPT or DROP as `policy ACCEPT`; an nft chain's or map's `type ...` as is."""
    return f"policy {head}" if " " not in head else head.rstrip(";")


def _only(side: str | None, h: HostDiff) -> str:
    if side is None:
        return ""
    return f" (only in {h.a if side == 'a' else h.b})"
