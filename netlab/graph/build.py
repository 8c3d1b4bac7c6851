"""Graphs of a lab and of one packet's way through it (attributes: see schema.py).

The topology graph is read from the plan, through the same interface model the tracer
walks (trace/wiring.py), so the picture shows exactly the objects `up` makes. A live
graph adds what the kernel holds now (observed_graph): each namespace present or not, each
interface up, down or missing — read by the app layer and given here as plain data."""
from __future__ import annotations

import networkx as nx

from ..model import naming
from ..model.topology import Topology
from ..plan.plan import Plan
from ..trace.model import DELIVERED, REQUEST, Hop, Trace
from ..trace.vocabulary import DROPPED, nat_hops, rule_hops, steps
from ..trace.wiring import LOOPBACK, LOOPBACK6, Iface, Space, Wiring, from_plan
from .schema import DROP


# ---- the lab ---------------------------------------------------------------------------
def topology_graph(topo: Topology, plan: Plan) -> nx.Graph:
    """Every interface the plan makes, its veth pairs, bridge ports, macvlan and VXLAN links."""
    wiring = from_plan(topo, plan)
    hosts = _host_of(topo, wiring)
    g = nx.Graph(lab=topo.name, project=topo.project, source="file", outside=topo.outside_netns,
                 hosts={h.name: {"netns": h.netns, "address": str(h.address), "engine": h.engine.name}
                        for h in topo.hosts},
                 namespaces={})
    sharing = _containers_by_netns(topo)
    networks = _networks(topo)
    for space in wiring.spaces.values():
        g.graph["namespaces"][space.name] = {"role": space.role, "owner": space.owner,
                                             "host": hosts.get(space.name),
                                             "containers": sharing.get(space.name, []), "present": None}
        shown = [i for i in space.ifaces.values() if _shown(i, space.ifaces)]
        for iface in shown:
            g.add_node(node_id(iface), kind="interface", link=iface.kind, netns=space.name, ifname=iface.name,
                       owner=space.owner, host=hosts.get(space.name),
                       addresses=[str(a) for a in iface.addresses if a not in (LOOPBACK, LOOPBACK6)], mac=iface.mac,
                       master=iface.master, vni=iface.vni, mode=iface.mode,
                       network=networks.get((space.name, iface.name)), remotes=_remotes(space, iface),
                       state=None)
    _links(g, wiring)
    return g


def node_id(iface: Iface) -> str:
    return f"{iface.netns}/{iface.name}"


def _shown(iface: Iface, ifaces: dict[str, Iface]) -> bool:
    """`lo` only where it holds a lab address, or where it is all there is (network_mode none)."""
    if iface.kind != "lo":
        return True
    return any(a not in (LOOPBACK, LOOPBACK6) for a in iface.addresses) or len(ifaces) == 1


def _host_of(topo: Topology, wiring: Wiring) -> dict[str, str]:
    """netns -> the Docker host it lives on (overlay sandboxes are named `<host netns>@...`)."""
    out = {h.netns: h.name for h in topo.hosts}
    out.update({c.netns: c.host for c in topo.containers})
    for ns in wiring.spaces:
        for h in topo.hosts:
            if ns.startswith(f"{h.netns}@"):
                out[ns] = h.name
    return out


def _networks(topo: Topology) -> dict[tuple[str, str], str]:
    """(netns, ifname) -> the Docker network it serves: bridges and container endpoints."""
    out = {}
    for seg in topo.segments:
        if seg.driver == "bridge":
            out[(topo.host(seg.host).netns, seg.device)] = seg.network
        elif seg.driver == "overlay":
            out[(naming.overlay_sandbox(topo.name, seg.host, seg.vni), seg.device)] = seg.network
    for c in topo.containers:
        for att in c.attachments:
            out[(c.netns, att.ifname)] = att.network
    return out


def _containers_by_netns(topo: Topology) -> dict[str, list[str]]:
    """netns -> the containers whose processes run there (host and container: modes too)."""
    out: dict[str, list[str]] = {}
    for c in topo.containers:
        owner = c
        while owner.mode == "container" and owner.shares:
            owner = topo.container(owner.shares)
        ns = topo.host(owner.host).netns if owner.mode == "host" else owner.netns
        out.setdefault(ns, []).append(c.name)
    return out


def _links(g: nx.Graph, wiring: Wiring) -> None:
    def both(a: str, b: str) -> bool:
        return a in g and b in g

    for space in wiring.spaces.values():
        for iface in space.ifaces.values():
            me = node_id(iface)
            if me not in g:
                continue
            if iface.kind == "veth" and iface.peer and both(me, "/".join(iface.peer)):
                g.add_edge(me, "/".join(iface.peer), kind="veth", label="")
            if iface.master and both(me, f"{space.name}/{iface.master}"):
                g.add_edge(f"{space.name}/{iface.master}", me, kind="port", label="")
            if iface.kind in ("macvlan", "vlan") and iface.parent and both(me, "/".join(iface.parent)):
                label = "" if iface.kind == "macvlan" else "802.1q"    # a macvlan's box says its mode
                g.add_edge("/".join(iface.parent), me, kind=iface.kind, label=label)
            if iface.kind == "vxlan":
                _vxlan(g, wiring, iface)


def _remotes(space: Space, iface: Iface) -> list[str]:
    """A VXLAN device's remote VTEPs, from its static FDB entries."""
    return sorted({str(dst) for (dev, _), dst in space.fdb.items() if dev == iface.name})


def _vxlan(g: nx.Graph, wiring: Wiring, vx: Iface) -> None:
    """The VXLAN device's UDP socket lives in the host namespace: its outer packets leave by
    the interface holding `local`; its FDB names the remote VTEPs of its VNI."""
    me = node_id(vx)
    for ns, ifname in wiring.holders(vx.local) if vx.local is not None else []:
        if ns == vx.underlay_netns and f"{ns}/{ifname}" in g:
            g.add_edge(me, f"{ns}/{ifname}", kind="underlay", label="")
    remotes = {dst for (dev, _), dst in wiring.space(vx.netns).fdb.items() if dev == vx.name}
    for space in wiring.spaces.values():
        for other in space.ifaces.values():
            if other.kind == "vxlan" and other.vni == vx.vni and other.local in remotes and other is not vx:
                g.add_edge(me, node_id(other), kind="tunnel", label=f"VNI {vx.vni}", vni=vx.vni)


# interface name -> up, for each namespace of the lab; None: the namespace is missing (or
# could not be read). The app layer reads it from the kernel (netlab.app.observe_lab).
Observed = dict[str, "dict[str, bool] | None"]


def observed_graph(g: nx.Graph, observed: Observed) -> nx.Graph:
    """A topology graph marked with what the kernel holds now: each namespace present or not,
    each interface up, down or missing. Changes `g` and returns it."""
    g.graph["source"] = "live"
    for ns, info in g.graph["namespaces"].items():
        links = observed.get(ns)
        info["present"] = links is not None
        for _, data in g.nodes(data=True):
            if data["netns"] == ns:
                up = (links or {}).get(data["ifname"])
                data["state"] = "missing" if up is None else ("up" if up else "down")
    return g


# ---- one packet --------------------------------------------------------------------------
def trace_graph(trace: Trace, topology: nx.Graph | None = None) -> nx.MultiDiGraph:
    """The interfaces the probe crossed, one edge per hop in order, the netfilter decisions
    and NAT rewrites on the hops where they happened, and the drop point. Steps are the hops'
    numbers and words of every view of a trace (trace/vocabulary.py)."""
    numbered = steps(trace)
    g = nx.MultiDiGraph(lab=trace.lab, project=trace.project, trace=trace, source=trace.source, outcome=trace.outcome,
                        hops=tuple(s.hop for s in numbered))
    last: dict[str, tuple[int, Hop]] = {}
    for s in numbered:
        step, hop = s.number, s.hop
        _hop_node(g, hop, topology)["steps"].append(step)
        prev = last.get(hop.leg)
        if prev is None:
            g.nodes[hop.node]["first"] |= hop.leg == REQUEST
            g.nodes[hop.node]["sent"].append(step)
        else:
            _, before = prev
            g.add_edge(before.node, hop.node, step=step, leg=hop.leg, how=s.how, via=hop.via,
                       bridge=hop.bridge, packet=hop.packet, rewritten=before.packet.flow() != hop.packet.flow())
        last[hop.leg] = (step, hop)
    _attach(g, trace)
    _outcome(g, trace, last.get(REQUEST), topology)
    return g


def _hop_node(g: nx.MultiDiGraph, hop: Hop, topology: nx.Graph | None) -> dict:
    if hop.node not in g:
        known = topology.nodes[hop.node] if topology is not None and hop.node in topology else {}
        g.add_node(hop.node, kind="interface", netns=hop.netns, ifname=hop.ifname,
                   owner=hop.owner or known.get("owner", hop.netns), host=known.get("host"),
                   link=known.get("link"), steps=[], rules=[], nat=[], first=False, delivered=False, sent=[])
    return g.nodes[hop.node]


def _attach(g: nx.MultiDiGraph, trace: Trace) -> None:
    """Each decision and rewrite on the hop every view tells it at (trace/vocabulary.py);
    none there (the probe never left the namespace): the drop point takes them (_outcome)."""
    hops = g.graph["hops"]
    for rule, (step, hook) in zip(trace.rules, rule_hops(trace), strict=True):
        if step is not None:
            g.nodes[hops[step - 1].node]["rules"].append({"step": step, "hook": hook, "rule": rule})
    for nat, step in zip(trace.nat, nat_hops(trace), strict=True):
        if step is not None:
            g.nodes[hops[step - 1].node]["nat"].append({"step": step, "nat": nat})


def _outcome(g: nx.MultiDiGraph, trace: Trace, last: tuple[int, Hop] | None, topology: nx.Graph | None) -> None:
    out = trace.outcome
    if out.status == DELIVERED:
        node = f"{out.netns}/{out.ifname}"
        if node in g:
            g.nodes[node]["delivered"] = True
        return
    known = topology.graph["namespaces"].get(out.netns, {}) if topology is not None else {}
    g.add_node(DROP, kind="drop", netns=out.netns, ifname=out.ifname, owner=out.owner or out.netns,
               host=known.get("host"), outcome=out, steps=[], rules=[], nat=[], first=False, delivered=False, sent=[])
    if last is not None:
        step, hop = last
        g.add_edge(hop.node, DROP, step=step, leg=REQUEST, how=DROPPED, via="", bridge=None,
                   packet=hop.packet, rewritten=False)
    # the decisions made in a namespace the probe never left (no hop to show them on)
    placed = {id(r["rule"]) for _, d in g.nodes(data=True) for r in d["rules"]}
    for rule in trace.rules:
        if id(rule) not in placed and rule.netns == out.netns and rule.leg == REQUEST:
            g.nodes[DROP]["rules"].append({"step": None, "hook": rule.chain, "rule": rule})
