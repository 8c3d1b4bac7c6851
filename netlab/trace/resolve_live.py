"""DST's name resolved for real, as SRC would: the /etc/hosts and resolv.conf `ip netns exec`
gives SRC's namespace (/etc/netns/<netns>/), read now, and each question put, from SRC's
namespace, to the nameservers that file names (kernel/dnsquery.py) — through the namespace's
own nat rules to the agent's embedded DNS, or across the lab to the stand-in upstream. The
order is resolve.lookup's, the prediction's."""
from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import ip_address

from dnslib import QTYPE, RCODE

from ..kernel import netns as netns_mod
from ..kernel.dnsquery import ask
from ..model.topology import Topology
from ..plan.plan import Plan
from .compare import compare
from .model import OBSERVED, DnsQuery, Resolution, Trace
from .predict import name_step, predict_probe, unresolved, with_resolution
from .resolve import TIMEOUT, explain, lookup
from .target import asked, resolve
from .wiring import IP, Wiring

PATIENCE = 1.0      # seconds one question waits (glibc waits 5 s, twice: a silence is told sooner)


def _read(ns: str, name: str) -> str | None:
    try:
        with open(f"{netns_mod.etc_dir(ns)}/{name}") as f:
            return f.read()
    except OSError:
        return None


def observe_resolution(topo: Topology, ns: str, src: str, name: str, family: int,
                       patience: float = PATIENCE) -> Resolution | None:
    """None where the namespace has no files of its own (then it would use the machine's)."""
    hosts, resolv = _read(ns, "hosts"), _read(ns, "resolv.conf")
    if hosts is None and resolv is None:
        return None

    def question(server: str, qname: str, qtype: str) -> DnsQuery:
        q = DnsQuery(qname=qname, qtype=qtype, server=server, rcode=TIMEOUT)
        reply = ask(server, qname, qtype, timeout=patience, ns=ns)
        if reply is None:
            return q
        wanted = getattr(QTYPE, qtype)
        found = tuple(dict.fromkeys(str(rr.rdata) for rr in reply.rr if rr.rtype == wanted))
        return replace(q, rcode=str(RCODE.get(reply.header.rcode)), addresses=found)

    found = lookup(name=name, family=family, netns=ns, owner=src, hosts=hosts, resolv=resolv, ask=question,
                   source=OBSERVED, evidence="query")
    return replace(found, detail=explain(topo, found))


@dataclass(frozen=True)
class Named:
    """A live trace's first step: the name resolved (`seen`) beside the plan's answer
    (`step`); `unresolved`, the whole trace when SRC cannot resolve it."""

    step: Resolution | None = None
    seen: Resolution | None = None
    unresolved: Trace | None = None

    @property
    def address(self) -> IP | None:
        return ip_address(self.seen.addresses[0]) if self.seen is not None else None

    def on(self, observed: Trace, flavour: str) -> Trace:
        """The observed step on the observed trace, compared with the prediction's; in the
        lab's own view, the plan's step (nothing was asked)."""
        predicted = observed.predicted
        if self.seen is None or predicted is None:
            return replace(observed, resolution=self.step) if self.step is not None else observed
        observed = replace(observed, resolution=self.seen)
        return replace(observed, differences=tuple(compare(predicted, observed, flavour != "legacy")))


def first_resolve(topo: Topology, plan: Plan, wiring: Wiring, src: str, dst: str, how: tuple,
                  by_name: bool) -> Named:
    """HOW: (proto, port, family) as asked. In the lab's own view only the plan's answer
    (a note); by name, the real one, and no probe where there is none."""
    proto, port, family = how
    step = name_step(topo, plan, wiring, src, dst, family, by_name)
    if not by_name or step is None:
        return Named(step)
    a = asked(topo, src, dst, proto, port, family)
    seen = observe_resolution(topo, a.netns, src, step.name, a.family)
    if seen is None or seen.resolved:
        return Named(step, seen)
    if step.resolved:
        probe = resolve(topo, wiring, src, dst, proto, port, family, dst_ip=ip_address(step.addresses[0]))
        predicted = with_resolution(predict_probe(topo, plan, wiring, probe, None), step, probe, True)
    else:
        predicted = unresolved(topo, wiring, src, a, step)
    observed = unresolved(topo, wiring, src, a, seen)
    return Named(step, seen, replace(observed, predicted=predicted, differences=tuple(compare(predicted, observed))))
