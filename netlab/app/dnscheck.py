"""`netlab verify`'s look at the embedded DNS: does each container's 127.0.0.11 answer its own
name through the namespace's nat rules, as the container's resolver library would ask it."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from dnslib import RCODE

from ..agent import control as agent
from ..kernel import netns
from ..kernel.dnsquery import ask
from ..model.topology import Container, Topology
from ..plan.dns import RESOLVER_IP, uses_embedded_dns


def _check(c: Container) -> str | None:
    reply = ask(RESOLVER_IP, c.name, ns=c.netns, timeout=1.0)
    if reply is None:
        return f"{c.name}: the embedded DNS at {RESOLVER_IP} does not answer"
    if reply.header.rcode != RCODE.NOERROR or not reply.rr:
        return f"{c.name}: the embedded DNS does not know {c.name!r} ({RCODE.get(reply.header.rcode)})"
    return None


def dns_problems(topo: Topology) -> list[str]:
    out = list(agent.status(topo.name).get("dns_errors", {}).values())
    # a container of a host built on another machine (`up --host`) has no namespace here
    containers = [c for c in topo.containers if uses_embedded_dns(c) and netns.exists(c.netns)]
    if containers:
        with ThreadPoolExecutor(max_workers=min(16, len(containers))) as pool:
            out += [p for p in pool.map(_check, containers) if p]
    return out
