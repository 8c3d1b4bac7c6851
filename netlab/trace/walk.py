"""The kernel, walked: how one packet moves through a lab's namespaces as the plan builds
them. In each namespace the routing lookup, the iptables hooks (NAT on a connection's first
packet, filter with conntrack state) and neighbour resolution; between namespaces veth
pairs, bridges (with br_netfilter: bridged IP traffic goes through PREROUTING, FORWARD and
POSTROUTING with iif = oif = the bridge, and a DNAT that points back into the bridge is
bridged, not routed), macvlan (siblings in bridge mode; never the parent's own stack) and
VXLAN (encapsulation in the host's namespace, a VNI, the remote VTEP from the FDB)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from ipaddress import ip_address

from ..plan.plan import Plan
from .hooks import EVERY, run_hook
from .icmp_errors import conn_rewrite
from .iptables import Context, Decision, HookResult
from .model import (
    DELIVERED,
    DROPPED,
    IN,
    NO_PATH,
    OUT,
    PREDICTED,
    REPLY,
    REQUEST,
    Hop,
    NatRewrite,
    NeighbourLookup,
    PacketView,
    RuleHit,
)
from .nat import (
    Conn,
    dnat,
    drop_detail,
    drop_reason,
    error_quote,
    flow_key,
    flow_text,
    is_error,
    restore_destination,
    restore_source,
    reverse,
    snat,
)
from .wiring import IP, Iface, Lookup, Wiring

MAX_HOPS = 64
DSTNAT = -100           # the priority of conntrack's destination rewrite (NF_IP_PRI_NAT_DST)
TTL = 64


class End(Exception):
    """The leg stops here: delivered, dropped, or never sent."""

    def __init__(self, *, status: str, ns: str, ifname: str | None = None, reason: str | None = None,
                 detail: str = "", decision: Decision | None = None, packet: PacketView | None = None):
        super().__init__(detail)
        self.status, self.ns, self.ifname, self.reason = status, ns, ifname, reason
        self.detail, self.decision, self.packet = detail, decision, packet


@dataclass(kw_only=True)
class Walk:
    wiring: Wiring
    plan: Plan
    hops: list[Hop] = field(default_factory=list)
    rules: list[RuleHit] = field(default_factory=list)
    nat: list[NatRewrite] = field(default_factory=list)
    neighbours: list[NeighbourLookup] = field(default_factory=list)
    learned: set[tuple[str, IP]] = field(default_factory=set)      # (netns, address) it knows the MAC of
    notes: list[str] = field(default_factory=list)
    conns: dict[str, list[Conn]] = field(default_factory=dict)
    leg: str = REQUEST
    inner: PacketView | None = None     # while walking a VXLAN outer packet: what it carries
    vni: int | None = None

    # ---- records ---------------------------------------------------------------------
    def hop(self, ns: str, ifname: str, direction: str, pkt: PacketView, via: str,
            bridge: str | None = None) -> None:
        if len(self.hops) >= MAX_HOPS * 2:
            raise End(status=DROPPED, ns=ns, ifname=ifname, reason="unknown",
                      detail="the walk went round in circles; stopped")
        view = replace(self.inner, outer=pkt, vni=self.vni) if self.inner is not None else pkt
        if self.inner is not None and view.outer is not None and not any(h.packet.outer for h in self.leg_hops()):
            via = "vxlan-encap"     # the first copy on the underlay
        self.hops.append(Hop(netns=ns, ifname=ifname, direction=direction, packet=view, leg=self.leg, via=via,
                             bridge=bridge, owner=self.wiring.space(ns).owner, source=PREDICTED, evidence="plan"))

    def owner(self, ns: str) -> str:
        return self.wiring.space(ns).owner

    # ---- netfilter -------------------------------------------------------------------
    def run(self, ns: str, hook: str, pkt: PacketView, iif: str | None, oif: str | None,
            conn: Conn | None, nat: bool = True, span: tuple[int, int] = EVERY) -> HookResult:
        space = self.wiring.space(ns)
        rules = space.rules_for(pkt.family)
        if not rules:
            return HookResult()
        # a request is its connection's first packet everywhere; a reply belongs to the
        # entry its request left (an ICMP error is related to it)
        state = "NEW" if self.leg == REQUEST or conn is None else ("RELATED" if is_error(pkt) else "ESTABLISHED")
        result = run_hook(rules, hook, pkt, Context(iif, oif, space.local, state), nat, span)
        for note in result.notes:
            if note not in self.notes:
                self.notes.append(note)
        for d in result.decisions:
            self.rules.append(RuleHit(netns=ns, table=d.table, chain=d.chain, kind=d.kind, verdict=d.verdict,
                                      rule=d.rule.text if d.rule else None,
                                      position=d.rule.position if d.rule else None, target=d.target, leg=self.leg,
                                      iif=iif, oif=oif, packet=pkt, owner=self.owner(ns), source=PREDICTED,
                                      evidence="plan"))
        if result.verdict == "drop":
            last = result.decisions[-1]
            raise End(status=DROPPED, ns=ns, ifname=oif or iif, reason=drop_reason(last),
                      detail=drop_detail(last, self.owner(ns)), decision=last)
        return result

    def track(self, ns: str, pkt: PacketView) -> Conn | None:
        """The conntrack entry of this packet in `ns`; a request makes one on its first hook."""
        if not self.wiring.space(ns).rules_for(pkt.family):
            return None
        quoted = error_quote(pkt)
        key = reverse(flow_key(quoted)) if quoted is not None else flow_key(pkt)
        for conn in self.conns.get(ns, []):
            if key == (conn.orig if self.leg == REQUEST else conn.reply):
                return conn
        if self.leg != REQUEST:
            return None
        conn = Conn(key, reverse(key))
        self.conns.setdefault(ns, []).append(conn)
        return conn

    def confirm(self, conn: Conn | None, pkt: PacketView) -> None:
        """The entry's reply tuple, once every NAT of the request in this netns is done."""
        if conn is not None and self.leg == REQUEST:
            conn.reply = reverse(flow_key(pkt))

    def rewrite(self, ns: str, kind: str, before: PacketView, after: PacketView, rule: str | None,
                conn: Conn | None) -> None:
        self.nat.append(NatRewrite(netns=ns, kind=kind, before=before.flow(), after=after.flow(), leg=self.leg,
                                   rule=rule, original=flow_text(conn.orig) if conn else None, reply=None,
                                   owner=self.owner(ns), source=PREDICTED, evidence="plan"))

    def undo_snat(self, ns: str, pkt: PacketView, conn: Conn | None) -> PacketView:
        """A reply's destination back to the request's source (PREROUTING / OUTPUT)."""
        if self.leg == REPLY and conn is not None and (conn.reply[3:] != conn.orig[1:3] or not is_error(pkt)):
            before, pkt = pkt, restore_destination(pkt, conn)
            if (pkt.dst, pkt.dport) != (before.dst, before.dport):
                self.undone(ns, "de-SNAT", before, pkt, conn)
        return pkt

    def undo_dnat(self, ns: str, pkt: PacketView, conn: Conn | None) -> PacketView:
        """A reply's source back to the address the request was sent to (POSTROUTING / INPUT)."""
        if self.leg == REPLY and conn is not None and (conn.reply[1:3] != conn.orig[3:] or not is_error(pkt)):
            # an ICMP error too, where the connection was DNATed: conntrack rewrites its outer
            # header like a reply's, and the header it quotes (nf_nat_icmp_reply_translation);
            # a router's error keeps its sender's address otherwise
            before, pkt = pkt, restore_source(pkt, conn)
            if (pkt.src, pkt.sport) != (before.src, before.sport):
                self.undone(ns, "de-DNAT", before, pkt, conn)
        return pkt

    def undone(self, ns: str, kind: str, before: PacketView, after: PacketView, conn: Conn) -> None:
        """A reply's de-NAT; an ICMP error's told as conntrack tells it, by the connection's
        tuples (the error's own addresses are not the connection's)."""
        if not is_error(after):
            self.rewrite(ns, kind, before, after, None, conn)
            return
        was, now = conn_rewrite(conn.orig, conn.reply, kind)
        self.nat.append(NatRewrite(netns=ns, kind=kind, before=was, after=now, leg=self.leg, rule=None,
                                   original=flow_text(conn.orig), reply=None, owner=self.owner(ns),
                                   source=PREDICTED, evidence="plan"))

    def dnat_hook(self, ns: str, hook: str, pkt: PacketView, iif: str | None, oif: str | None,
                  conn: Conn | None) -> PacketView:
        """PREROUTING or OUTPUT. Conntrack's address rewrites happen at the dstnat priority:
        the raw and mangle chains before it see the packet as it came (a reply not yet
        de-SNATed), the chains after it see the new destination."""
        self.run(ns, hook, pkt, iif, oif, conn, span=(EVERY[0], DSTNAT))
        pkt = self.undo_snat(ns, pkt, conn)
        result = self.run(ns, hook, pkt, iif, oif, conn, span=(DSTNAT, DSTNAT + 1))
        if result.nat and result.nat[0] == "DNAT":
            before, pkt = pkt, dnat(pkt, result.nat[1])
            self.rewrite(ns, "DNAT", before, pkt, result.nat_rule.text if result.nat_rule else None, conn)
        self.run(ns, hook, pkt, iif, oif, conn, span=(DSTNAT + 1, EVERY[1]))
        return pkt

    def postrouting(self, ns: str, oif: str, nexthop: IP, pkt: PacketView,
                    conn: Conn | None, iif: str | None = None) -> PacketView:
        """`iif`: a routed packet's input device, which POSTROUTING still sees (ip_output
        hands the hook skb->dev before it becomes the output device); none for a packet
        made here, nor for a bridged one (br_netfilter passes no input device)."""
        result = self.run(ns, "POSTROUTING", pkt, iif, oif, conn)
        if result.nat and result.nat[0] in ("SNAT", "MASQUERADE"):
            kind, to = result.nat
            source = to if kind == "SNAT" else str(self.wiring.space(ns).source_for(oif, nexthop))
            before, pkt = pkt, snat(pkt, source)
            self.rewrite(ns, kind, before, pkt, result.nat_rule.text if result.nat_rule else None, conn)
        pkt = self.undo_dnat(ns, pkt, conn)
        self.confirm(conn, pkt)
        return pkt

    # ---- a namespace's IP stack --------------------------------------------------------
    def send(self, ns: str, pkt: PacketView) -> None:
        """A socket in `ns` sends `pkt`: OUTPUT, routing, POSTROUTING, out of an interface."""
        found = self.route_out(ns, pkt)
        conn = self.track(ns, pkt)
        before = pkt.dst
        pkt = self.dnat_hook(ns, "OUTPUT", pkt, None, found.dev, conn)
        if pkt.dst != before:
            found = self.route_out(ns, pkt)     # rerouted after OUTPUT's DNAT
        dev = found.dev
        assert dev is not None, "a local or unicast route names its device"
        if found.kind == "local":
            # out of lo and back in: both NAT manips were set on the way out (OUTPUT,
            # POSTROUTING), so the NAT chains do not run again on the way in
            pkt = self.postrouting(ns, "lo", ip_address(pkt.dst), pkt, conn)
            self.hop(ns, "lo", OUT, pkt, "send")
            self.hop(ns, "lo", IN, pkt, "loopback")
            self.run(ns, "PREROUTING", pkt, "lo", None, conn, nat=False)
            self.local_in(ns, "lo", pkt, conn, nat=False)
        nexthop = found.gateway or ip_address(pkt.dst)
        pkt = self.postrouting(ns, dev, nexthop, pkt, conn)
        self.transmit(ns, dev, nexthop, pkt, "send")

    def route_out(self, ns: str, pkt: PacketView) -> Lookup:
        found = self.wiring.space(ns).route(ip_address(pkt.dst))
        if found.kind == "unreachable":
            raise End(status=NO_PATH if not self.leg_hops() else DROPPED, ns=ns, ifname=None, reason="no-route",
                      detail=f"{self.owner(ns)} has no route to {pkt.dst}")
        return found

    def ip_in(self, ns: str, iif: str, pkt: PacketView, conn: Conn | None = None,
              prerouted: bool = False) -> None:
        space = self.wiring.space(ns)
        if not prerouted:
            conn = self.track(ns, pkt)
            pkt = self.dnat_hook(ns, "PREROUTING", pkt, iif, None, conn)
        found = space.route(ip_address(pkt.dst))
        if found.kind == "local":
            self.local_in(ns, iif, pkt, conn)
        if not space.forwarding(pkt.family):
            sysctl = "net.ipv4.ip_forward" if pkt.family == 4 else "net.ipv6.conf.all.forwarding"
            raise End(status=DROPPED, ns=ns, ifname=iif, reason="forwarding-disabled",
                      detail=f"{self.owner(ns)} does not forward ({sysctl}=0) and {pkt.dst} is not its own")
        if found.kind == "unreachable":
            raise End(status=DROPPED, ns=ns, ifname=iif, reason="no-route",
                      detail=f"{self.owner(ns)} has no route to {pkt.dst}")
        if (pkt.ttl or TTL) <= 1:
            limit = "TTL" if pkt.family == 4 else "the hop limit"
            raise End(status=DROPPED, ns=ns, ifname=iif, reason="ttl-exceeded",
                      detail=f"{limit} ran out in {self.owner(ns)}")
        dev = found.dev
        assert dev is not None, "a unicast route names its device"
        pkt = replace(pkt, ttl=(pkt.ttl or TTL) - 1)
        self.run(ns, "FORWARD", pkt, iif, dev, conn)
        nexthop = found.gateway or ip_address(pkt.dst)
        pkt = self.postrouting(ns, dev, nexthop, pkt, conn, iif)
        self.transmit(ns, dev, nexthop, pkt, "route")

    def local_in(self, ns: str, iif: str, pkt: PacketView, conn: Conn | None, nat: bool = True) -> None:
        self.run(ns, "INPUT", pkt, iif, None, conn, nat)
        pkt = self.undo_dnat(ns, pkt, conn)
        self.confirm(conn, pkt)
        if self.inner is not None and pkt.proto == "udp" and self.decapsulate(ns, pkt):
            return
        raise End(status=DELIVERED, ns=ns, ifname=iif, packet=pkt)

    # ---- links -----------------------------------------------------------------------
    def transmit(self, ns: str, dev: str, nexthop: IP, pkt: PacketView, via: str) -> None:
        """A frame for the neighbour `nexthop` leaves `ns` through `dev` (once ARP answers)."""
        iface = self.wiring.iface(ns, dev)
        if iface.kind == "macvlan":
            self.macvlan_out(iface, nexthop, pkt, via)
            return
        if iface.kind == "bridge":
            port = self.port_toward(ns, dev, nexthop, None)
            if port is None:
                raise self.no_neighbour(ns, dev, nexthop, pkt)
            self.ask(ns, dev, nexthop)
            self.hop(ns, dev, OUT, pkt, via)
            self.hop(ns, port.name, OUT, pkt, "down", dev)
            self.leave(ns, port, nexthop, pkt)
            return
        if not self.answers_behind(iface, nexthop):
            raise self.no_neighbour(ns, dev, nexthop, pkt)
        self.ask(ns, dev, nexthop)
        self.hop(ns, dev, OUT, pkt, via)
        self.leave(ns, iface, nexthop, pkt)

    def ask(self, ns: str, dev: str, nexthop: IP, answered: bool = True) -> None:
        """The ARP (IPv4) or NDP (IPv6) lookup before a frame leaves `dev` for `nexthop`;
        none where the entry is permanent (the overlay's static neighbours)."""
        space = self.wiring.space(ns)
        if (dev, nexthop) in space.neighbours or space.ifaces[dev].kind == "vxlan" or (ns, nexthop) in self.learned:
            return
        by, mac = None, None
        if answered and nexthop.version == 6:
            self.solicit(ns, dev, nexthop)
        if answered:
            holders = self.wiring.holders(nexthop)
            # one address may be on several hosts (each host's docker0): the nearest holds it
            near = [h for h in holders if self.wiring.space(h[0]).host == space.host] or holders
            if near:
                by, mac = self.owner(near[0][0]), self.wiring.iface(*near[0]).mac
                # the question carries the asker's own address and MAC, and the one who
                # answers keeps them: its reply needs no question of its own
                asker = space.source_for(dev, nexthop)
                if asker is not None:
                    self.learned.add((near[0][0], asker))
        self.neighbours.append(NeighbourLookup(netns=ns, ifname=dev, target=str(nexthop),
                                               protocol="arp" if nexthop.version == 4 else "ndp",
                                               answered_by=by, mac=mac, leg=self.leg, owner=self.owner(ns),
                                               source=PREDICTED, evidence="plan"))

    def answers_behind(self, iface: Iface, nexthop: IP) -> bool:
        """Does someone on the far side of `iface` answer ARP for `nexthop`?"""
        if iface.kind == "vxlan":
            return (iface.name, nexthop) in self.wiring.space(iface.netns).neighbours
        if iface.peer is None:
            return False
        peer_ns, peer_name = iface.peer
        peer = self.wiring.iface(peer_ns, peer_name)
        if peer.master is not None:
            return self.holds(peer_ns, nexthop) or \
                self.port_toward(peer_ns, peer.master, nexthop, peer_name) is not None
        return self.holds(peer_ns, nexthop) or \
            any(self.holds(m.netns, nexthop) for m in self.wiring.macvlans_on(peer_ns, peer_name))

    def solicit(self, ns: str, dev: str, nexthop: IP) -> None:
        """An NDP solicitation bridged from one port to another meets ip6tables' FORWARD
        (br_netfilter; ARP never meets iptables), untracked as conntrack leaves NDP: an
        icc=false network's `-i br -o br -j DROP` drops it, so nobody answers (moby#45649).
        Its rules are not the probe's: only a drop is told, in the outcome."""
        iface = self.wiring.iface(ns, dev)
        if iface.kind != "veth" or iface.peer is None:
            return
        port = self.wiring.iface(*iface.peer)
        bridge_ns, bridge = port.netns, port.master
        space = self.wiring.space(bridge_ns)
        rules = space.rules_for(6)
        if bridge is None or not rules or not space.bridge_netfilter(6) or \
                self.port_toward(bridge_ns, bridge, nexthop, port.name) is None:
            return
        asker = self.wiring.space(ns).source_for(dev, nexthop)
        solicited = ip_address("ff02::1:ff00:0") + (int(nexthop) & 0xFFFFFF)
        ns_packet = PacketView(str(asker), str(solicited), "icmp6", ttl=255, icmp_type=135, icmp_code=0)
        result = run_hook(rules, "FORWARD", ns_packet, Context(bridge, bridge, space.local, "UNTRACKED"))
        if result.verdict != "drop":
            return
        last = result.decisions[-1]
        self.ask(ns, dev, nexthop, answered=False)
        hit = RuleHit(netns=bridge_ns, table=last.table, chain=last.chain, kind=last.kind, verdict=last.verdict,
                      rule=last.rule.text if last.rule else None, owner=self.owner(bridge_ns))
        raise End(status=NO_PATH if not self.leg_hops() else DROPPED, ns=ns, ifname=dev, reason="no-neighbour",
                  detail=f"no neighbour answers for {nexthop} on {self.owner(ns)}'s {dev}: its neighbour "
                         f"solicitation was dropped in {self.owner(bridge_ns)} by {hit.describe()}",
                  decision=last)

    def leave(self, ns: str, iface: Iface, nexthop: IP, pkt: PacketView) -> None:
        """The frame goes out on the wire of `iface`: to a veth peer, or into a VXLAN tunnel."""
        if iface.kind == "vxlan":
            self.encapsulate(ns, iface, nexthop, pkt)
            return
        assert iface.peer is not None, "only a port with a peer behind it answers for a next hop"
        peer_ns, peer_name = iface.peer
        self.hop(peer_ns, peer_name, IN, pkt, "veth")
        self.receive(peer_ns, peer_name, nexthop, pkt)

    def receive(self, ns: str, ifname: str, nexthop: IP, pkt: PacketView) -> None:
        iface = self.wiring.iface(ns, ifname)
        if iface.master:
            self.bridge_in(ns, iface.master, ifname, nexthop, pkt)
            return
        for child in self.wiring.macvlans_on(ns, ifname):
            if child.netns != ns and self.holds(child.netns, nexthop):
                self.hop(child.netns, child.name, IN, pkt, "macvlan")
                self.ip_in(child.netns, child.name, pkt)
        self.ip_in(ns, ifname, pkt)

    def holds(self, ns: str, ip: IP) -> bool:
        return ip in self.wiring.space(ns).local

    def no_neighbour(self, ns: str, dev: str, nexthop: IP, pkt: PacketView | None = None) -> End:
        """`pkt`: the packet routed out of `ns` (after POSTROUTING) that waits for the
        neighbour: the one the kernel's host unreachable will quote."""
        status = NO_PATH if not self.leg_hops() else DROPPED
        for child in self.wiring.macvlans_on(ns, dev):
            if self.holds(child.netns, nexthop):
                return End(status=status, ns=ns, ifname=dev, reason="macvlan-host-isolation",
                           detail=f"{nexthop} is {self.owner(child.netns)}'s, a macvlan on {self.owner(ns)}'s {dev}: "
                           "the kernel never passes frames between a macvlan parent and its children, "
                           "so no neighbour answers")
        self.ask(ns, dev, nexthop, answered=False)
        return End(status=status, ns=ns, ifname=dev, reason="no-neighbour", packet=pkt,
                   detail=f"no neighbour answers for {nexthop} on {self.owner(ns)}'s {dev}")

    def leg_hops(self) -> list[Hop]:
        return [h for h in self.hops if h.leg == self.leg]

    # ---- bridges ---------------------------------------------------------------------
    def port_toward(self, ns: str, bridge: str, nexthop: IP, came_in: str | None) -> Iface | None:
        """The port of `bridge` behind which `nexthop` answers ARP (never the one the frame
        came in on, unless that port is in hairpin mode)."""
        for port in self.wiring.space(ns).ports(bridge):
            if port.name == came_in and not port.hairpin:
                continue
            if port.kind != "vxlan" and (port.peer is None or self.wiring.iface(*port.peer).master is not None):
                continue        # nothing behind it, or a bridge behind a bridge (not built by the lab)
            if self.answers_behind(port, nexthop):
                return port
        return None

    def bridge_in(self, ns: str, bridge: str, port: str, nexthop: IP, pkt: PacketView) -> None:
        space = self.wiring.space(ns)
        to_self = self.holds(ns, nexthop)
        conn = None
        filtered = space.bridge_netfilter(pkt.family)
        if filtered:
            before = pkt.dst
            conn = self.track(ns, pkt)
            pkt = self.dnat_hook(ns, "PREROUTING", pkt, bridge, None, conn)
            if pkt.dst != before:
                # br_netfilter routes a packet whose destination changed: back into the same
                # bridge means it is bridged to the new destination, anywhere else goes up
                found = space.route(ip_address(pkt.dst))
                to_self = not (found.kind == "unicast" and found.dev == bridge)
                if not to_self:
                    nexthop = found.gateway or ip_address(pkt.dst)
        if to_self:
            self.hop(ns, bridge, IN, pkt, "up", bridge)
            self.ip_in(ns, bridge, pkt, conn, prerouted=filtered)
            return
        out = self.port_toward(ns, bridge, nexthop, port)
        if out is None:
            raise self.no_neighbour(ns, bridge, nexthop)
        if filtered:
            self.run(ns, "FORWARD", pkt, bridge, bridge, conn)
            pkt = self.postrouting(ns, bridge, nexthop, pkt, conn)
        self.hop(ns, out.name, OUT, pkt, "hairpin" if out.name == port else "switch", bridge)
        self.leave(ns, out, nexthop, pkt)

    # ---- macvlan ---------------------------------------------------------------------
    def macvlan_out(self, iface: Iface, nexthop: IP, pkt: PacketView, via: str) -> None:
        assert iface.parent is not None, "from_plan gives every macvlan its parent"
        lower_ns, lower = iface.parent
        for sibling in self.wiring.macvlans_on(lower_ns, lower):
            if sibling is iface or not self.holds(sibling.netns, nexthop):
                continue
            self.ask(iface.netns, iface.name, nexthop)
            self.hop(iface.netns, iface.name, OUT, pkt, via)
            if iface.mode == "bridge" and sibling.mode == "bridge":
                # macvlan hands the frame to the lower device first, for its taps
                self.hop(lower_ns, lower, IN, pkt, "macvlan")
                self.hop(sibling.netns, sibling.name, IN, pkt, "macvlan")
                self.ip_in(sibling.netns, sibling.name, pkt)
            raise End(status=DROPPED, ns=lower_ns, ifname=lower, reason="unknown",
                      detail=f"macvlan mode {iface.mode}: siblings on {lower} reach each other only through an "
                      "outside switch that sends frames back, and the underlay bridge does not")
        if self.holds(lower_ns, nexthop):
            raise End(status=NO_PATH if not self.leg_hops() else DROPPED, ns=iface.netns, ifname=iface.name,
                      reason="macvlan-host-isolation",
                      detail=f"{nexthop} belongs to {self.owner(lower_ns)}, the macvlan "
                      "parent's own namespace: the kernel never passes frames between a macvlan and its "
                      "parent, so no neighbour answers")
        lower_iface = self.wiring.iface(lower_ns, lower)
        if not self.answers_behind(lower_iface, nexthop):
            raise self.no_neighbour(iface.netns, iface.name, nexthop)
        self.ask(iface.netns, iface.name, nexthop)
        self.hop(iface.netns, iface.name, OUT, pkt, via)
        self.hop(lower_ns, lower, OUT, pkt, "macvlan")
        self.leave(lower_ns, lower_iface, nexthop, pkt)

    # ---- VXLAN -----------------------------------------------------------------------
    def encapsulate(self, ns: str, vx: Iface, nexthop: IP, pkt: PacketView) -> None:
        space = self.wiring.space(ns)
        mac = space.neighbours.get((vx.name, nexthop))
        vtep = space.fdb.get((vx.name, mac.lower())) if mac else None
        if vtep is None:
            raise End(status=DROPPED, ns=ns, ifname=vx.name, reason="no-neighbour",
                      detail=f"{vx.name} has no FDB entry for {nexthop}")
        outer = PacketView(str(vx.local), str(vtep), "udp", sport=None, dport=vx.port, ttl=TTL)
        assert vx.underlay_netns is not None, "from_plan gives every VXLAN device its host's netns"
        self.inner, self.vni = pkt, vx.vni
        self.send(vx.underlay_netns, outer)

    def decapsulate(self, ns: str, outer: PacketView) -> bool:
        """`outer` reached its VTEP: the VXLAN device of that VNI takes the inner frame."""
        inner = self.inner
        if inner is None:
            return False
        for space in self.wiring.spaces.values():
            for vx in space.ifaces.values():
                if vx.kind == "vxlan" and vx.underlay_netns == ns and vx.vni == self.vni \
                        and vx.port == outer.dport:
                    self.inner, self.vni = None, None
                    self.hop(space.name, vx.name, IN, inner, "vxlan-decap")
                    nexthop = ip_address(inner.dst)
                    if vx.master:
                        self.bridge_in(space.name, vx.master, vx.name, nexthop, inner)
                    else:
                        self.ip_in(space.name, vx.name, inner)
                    return True
        return False
