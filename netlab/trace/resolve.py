"""DST as a name, resolved as SRC's resolver library would (glibc: `hosts: files dns`): its
/etc/hosts, then each nameserver of its resolv.conf in turn, the name tried with the search
domains as `ndots` says. Pure: `lookup` runs that order over two file texts and an `ask`
function; the prediction's `ask` answers from the plan (the embedded DNS's name tables, the
stand-in upstream and whether the question reaches it), the live trace's asks for real
(resolve_live.py).

The embedded DNS's answer is the agent's own lookup (agent/names.py, pure), so the
prediction and the server that answers cannot drift apart."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from ipaddress import ip_address
from typing import Any

from ..model.topology import Container, Topology
from ..plan.dns import DNS_PORT, RESOLVER_IP, endpoint_names
from ..plan.items import DnsNames, EtcFile, Resolver, StandinDNS
from ..plan.plan import Plan
from .model import DELIVERED, PREDICTED, RESOLVED, DnsQuery, Resolution
from .target import Probe
from .wiring import Wiring

NOERROR, NXDOMAIN, SERVFAIL, REFUSED, TIMEOUT = "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "timeout"
# a failed question's rcode -> Resolution.status when nothing better came
STATUS = {NXDOMAIN: "nxdomain", NOERROR: "no-address", SERVFAIL: "servfail", REFUSED: "refused",
          TIMEOUT: "timeout"}
# the worse a failure, the less it says about the name: the best one is told
RANK = ("nxdomain", "no-address", "refused", "servfail", "timeout")

Ask = Callable[[str, str, str], DnsQuery]      # (server, qname, qtype) -> the answer


@dataclass(frozen=True)
class Conf:
    """What of resolv.conf the lookup order depends on."""

    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    ndots: int = 1


def qtype_of(family: int) -> str:
    return "AAAA" if family == 6 else "A"


def parse_hosts(text: str) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            out.append((fields[0], tuple(fields[1:])))
    return out


def parse_resolv(text: str) -> Conf:
    servers: list[str] = []
    search: tuple[str, ...] = ()
    ndots = 1
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            servers.append(fields[1])
        elif fields and fields[0] in ("search", "domain"):
            search = tuple(fields[1:])      # the last of the two wins, as in glibc
        elif fields and fields[0] == "options":
            for o in fields[1:]:
                if o.startswith("ndots:") and o[6:].isdigit():
                    ndots = min(int(o[6:]), 15)
    return Conf(tuple(servers[:3]), search, ndots)      # glibc uses the first three servers


def from_hosts(text: str, name: str, family: int) -> tuple[str, ...]:
    """The addresses of NAME's lines of this family, in file order (names compare without
    case)."""
    want = name.rstrip(".").lower()
    found = []
    for ip, names in parse_hosts(text):
        try:
            version = ip_address(ip).version
        except ValueError:
            continue
        if version == family and want in (n.lower() for n in names) and ip not in found:
            found.append(ip)
    return tuple(found)


def candidates(name: str, conf: Conf) -> list[str]:
    """The query names in the order res_search tries them: as given first when it has at
    least `ndots` dots, else the search domains first; a trailing dot means as given only."""
    if name.endswith("."):
        return [name]
    searched = [f"{name}.{d}" for d in conf.search if d != "."]
    return [name, *searched] if name.count(".") >= conf.ndots else [*searched, name]


def lookup(*, name: str, family: int, netns: str, owner: str, hosts: str | None, resolv: str | None,
           ask: Ask, source: str, evidence: str) -> Resolution:
    """/etc/hosts, then the nameservers: each query name to each server until one answers
    with addresses; NXDOMAIN (or an empty answer) moves on to the next query name, a
    failure or a silence to the next server."""
    qtype = qtype_of(family)
    base = Resolution(name=name, qtype=qtype, netns=netns, owner=owner, status="nxdomain", source=source,
                      evidence=evidence)
    found = from_hosts(hosts or "", name, family)
    if found:
        return replace(base, status=RESOLVED, via="hosts", addresses=found)
    conf = parse_resolv(resolv or "")
    asked: list[DnsQuery] = []
    for qname in candidates(name, conf):
        for server in conf.nameservers:
            q = ask(server, qname, qtype)
            asked.append(q)
            if q.rcode == NOERROR and q.addresses:
                return replace(base, status=RESOLVED, via="dns", addresses=q.addresses, queries=tuple(asked))
            if q.rcode in (NXDOMAIN, NOERROR):
                break           # the name is not there: the next query name, not the next server
    failures = [STATUS.get(q.rcode, "servfail") for q in asked] or ["timeout"]
    return replace(base, status=min(failures, key=RANK.index), queries=tuple(asked))


# ---- the prediction ------------------------------------------------------------------
@dataclass
class PlanDns:
    """The answers the plan gives: the embedded DNS's name tables (and its forwarding), the
    stand-in upstream, and, by a walk of the plan, whether a question reaches it."""

    topo: Topology
    plan: Plan
    wiring: Wiring

    def ask(self, netns: str, server: str, qname: str, qtype: str) -> DnsQuery:
        q = DnsQuery(qname=qname, qtype=qtype, server=server, rcode=TIMEOUT)
        if server == RESOLVER_IP:
            return self._embedded(netns, q)
        return self._upstream(netns, q, server)

    def _embedded(self, netns: str, q: DnsQuery) -> DnsQuery:
        # agent/names.py is pure (plan items only); imported here, when a name is asked, so
        # loading the tracer loads nothing of the agent's package
        from ..agent.names import Table, View, resolve_name
        item = next((r for r in self.plan.of(Resolver) if r.netns == netns), None)
        if item is None:
            return q            # nothing listens on 127.0.0.11 here: glibc waits, then moves on
        view = View.of(item, {t.scope: Table.of(t) for t in self.plan.of(DnsNames)})
        ips, miss = resolve_name(view, q.qname, ipv6=q.qtype == "AAAA")
        if ips:
            return replace(q, rcode=NOERROR, addresses=tuple(ips),
                           answered_by=f"the embedded DNS, {_network(view, q)}")
        if miss:
            return replace(q, rcode=NOERROR, answered_by="the embedded DNS: the name has no IPv6 address")
        if item.ndots_set and q.qtype in ("A", "AAAA") and "." not in q.qname.rstrip("."):
            return replace(q, rcode=NOERROR, answered_by="the embedded DNS: an empty answer (the daemon's "
                                                          "dns-opts set ndots: the search list is tried)")
        last = replace(q, rcode=SERVFAIL, answered_by="the embedded DNS: no upstream server to forward to")
        for server, where in item.upstreams:
            up = self._upstream(where, q, server)
            if up.rcode != TIMEOUT:
                return replace(up, server=RESOLVER_IP,
                               answered_by=f"{up.answered_by}, asked by the embedded DNS")
            last = replace(q, rcode=SERVFAIL, answered_by=f"the embedded DNS: no upstream answered ({server} "
                                                          f"is not reached from {self._owner(where)})")
        return last

    def _upstream(self, netns: str, q: DnsQuery, server: str) -> DnsQuery:
        standin = next((s for s in self.plan.of(StandinDNS) if s.address == server), None)
        if standin is None or not self._reaches(netns, server, standin.netns):
            return q
        return replace(q, rcode=NXDOMAIN, answered_by=f"the stand-in upstream {server} "
                                                      f"in {self._owner(standin.netns)}")

    def _reaches(self, netns: str, server: str, where: str) -> bool:
        """A UDP question from NETNS to SERVER:53, walked through the plan, is delivered there."""
        from .predict import predict_probe  # predict attaches resolutions: imported when used
        ip = ip_address(server)
        if netns not in self.wiring.spaces:
            return False
        found = self.wiring.space(netns).route(ip)
        if found.kind == "unreachable":
            return False
        probe = Probe(src=self._owner(netns), dst=server, proto="udp", netns=netns, owner=self._owner(netns),
                      dst_ip=ip, dport=DNS_PORT, src_ip=found.src, dst_netns=where, family=ip.version)
        end = predict_probe(self.topo, self.plan, self.wiring, probe, None).outcome
        return end.status == DELIVERED and end.netns == where

    def _owner(self, netns: str) -> str:
        return self.wiring.space(netns).owner if netns in self.wiring.spaces else netns


def _network(view: Any, q: DnsQuery) -> str:
    """Which of the resolver's networks (or link aliases) had the name (VIEW: the agent's
    View of this resolver)."""
    from ..agent.names import View, resolve_name
    if q.qname.rstrip(".") in view.links:
        return f"a link alias for {view.links[q.qname.rstrip('.')]}"
    for network, table in view.networks:
        if resolve_name(View(((network, table),), {}), q.qname, q.qtype == "AAAA")[0]:
            return f"network {network}"
    return "its networks"


def etc_files(plan: Plan, netns: str) -> dict[str, str]:
    return {e.name: e.content for e in plan.of(EtcFile) if e.netns == netns}


def predict_resolution(topo: Topology, plan: Plan, wiring: Wiring, netns: str, src: str, name: str,
                       family: int) -> Resolution | None:
    """NAME resolved from SRC's namespace as the plan says; None where the plan gives that
    namespace no files of its own (`outside`: the machine's own resolver)."""
    files = etc_files(plan, netns)
    if not files:
        return None
    dns = PlanDns(topo, plan, wiring)
    def ask(server: str, qname: str, qtype: str) -> DnsQuery:
        return dns.ask(netns, server, qname, qtype)
    found = lookup(name=name, family=family, netns=netns, owner=src, hosts=files.get("hosts"),
                   resolv=files.get("resolv.conf"), ask=ask, source=PREDICTED, evidence="plan")
    return replace(found, detail=explain(topo, found))


# ---- in words --------------------------------------------------------------------------
def explain(topo: Topology, r: Resolution) -> str:
    """One sentence: where the answer came from, or why there is none and what would help."""
    name, src = f"`{r.name}`", r.owner
    if r.resolved:
        how = "/etc/hosts" if r.via == "hosts" else (r.queries[-1].answered_by or r.queries[-1].server)
        return f"{name} resolves from {src} to {', '.join(r.addresses)} ({how})"
    head = f"{name} does not resolve from {src}"
    c = topo.find_container(src)
    known = _named_on(topo, r.name)
    if r.status == "no-address" and r.qtype == "AAAA":
        return f"{head} to an IPv6 address: the name has none on {src}'s networks (an empty AAAA answer)"
    if known is not None and r.status == "nxdomain":
        if c is None:
            return (f"{head}: {src}'s resolver (its /etc/hosts, then the host's nameserver) does not know "
                    "the containers' names; only a container on a user-defined network asks the embedded DNS")
        return head + ": " + _why_not(c, r.name, known)
    last = r.queries[-1] if r.queries else None
    if r.status == "nxdomain":
        said = f" (NXDOMAIN from {last.answered_by})" if last and last.answered_by else ""
        return f"{head}: no container, alias, link or /etc/hosts line has that name{said}"
    if last is None:
        return f"{head}: its resolv.conf names no nameserver"
    if last.rcode == TIMEOUT and not last.answered_by:
        agent = "; the lab's agent serves it: `netlab verify` says whether the agent runs" \
            if last.server == RESOLVER_IP else ""
        return f"{head}: {last.server} does not answer{agent}"
    said = last.answered_by or f"{last.server} does not answer"
    return f"{head}: {r.status.upper() if r.status == 'servfail' else r.status} ({said})"


def _named_on(topo: Topology, name: str) -> list[str] | None:
    """The user-defined networks where some endpoint registers NAME with the embedded DNS
    (its container name, an alias, its hostname); [] for a container on the default bridge
    only; None when no container has that name at all."""
    want = name.rstrip(".").lower()
    found = [a.network for c in topo.containers for a in c.attachments
             if a.network != "bridge" and want in (n.lower() for n in endpoint_names(c, a.network))]
    if found:
        return list(dict.fromkeys(found))
    return [] if topo.find_container(want) is not None else None


def _why_not(c: Container, name: str, known: list[str]) -> str:
    """A name the lab has that does not resolve from container C: the default bridge's
    lesson, or no network in common."""
    networks = [a.network for a in c.attachments]
    if c.mode == "bridge" and networks and set(networks) == {"bridge"}:
        return "the default bridge has no embedded DNS; use a user-defined network or a link"
    mine = [n for n in networks if n != "bridge"]
    if not mine:
        return f"{c.name} has no embedded DNS (network_mode {c.mode}); give it a user-defined network"
    where = (f"{name} is a name on {', '.join(known)}" if known else
             f"{name} is only on the default bridge, where no name is registered")
    return (f"the embedded DNS answers for {c.name}'s networks ({', '.join(mine)}), and {where}; "
            "put both on one user-defined network")
