"""What a trace says about one packet (and its reply): frozen data, JSON-ready.

The same shapes serve a prediction (walked from the plan, no root) and an observation
(captures, nftrace, conntrack and rule counters in a live lab), so the two can be compared
fact by fact. Every fact says where it comes from:

- `source`: `observed` (seen in the kernel), `predicted` (walked from the plan) or
  `inferred` (in a live trace, deduced rather than seen, e.g. a drop reason taken from the
  routing tables because no event names it);
- `evidence`: which source gave it: `capture`, `nftrace`, `conntrack`, `counters`,
  `socket` (the probe's own socket: an error, a reply), `plan`.

The JSON schema (`Trace.to_dict()`) is documented in docs/trace-json.md; extend it, don't
rename fields."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field, fields
from typing import Any, ClassVar

SCHEMA = "netlab-trace/1"

REQUEST, REPLY = "request", "reply"                 # legs
IN, OUT = "in", "out"                               # hop directions, seen from the interface
OBSERVED, PREDICTED, INFERRED = "observed", "predicted", "inferred"

# Outcome.status; UNRESOLVED: DST, a name, does not resolve from SRC, and no probe is sent
DELIVERED, DROPPED, NO_PATH, LOST, UNRESOLVED = "delivered", "dropped", "no-path", "lost", "unresolved"
# Resolution.status (and Outcome.reason of an unresolved name)
RESOLVED = "resolved"
RESOLUTION_FAILURES = ("nxdomain", "no-address", "servfail", "refused", "timeout")
# Outcome.reason
REASONS = ("rule", "policy", "isolation", "no-route", "no-neighbour", "forwarding-disabled",
           "macvlan-host-isolation", "unreachable", "ttl-exceeded", "too-big", "unknown")


def _plain(value: object) -> object:
    if isinstance(value, _Data):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


class _Data:
    __dataclass_fields__: ClassVar[dict[str, Any]]     # every subclass is a dataclass

    def to_dict(self) -> dict:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class PacketView(_Data):
    """A packet as seen at one point: what NAT and routing change, and what identifies it."""

    src: str
    dst: str
    proto: str                      # icmp | icmp6 | tcp | udp | arp | other
    _: KW_ONLY                      # src, dst, proto by position; every other field by name
    sport: int | None = None        # tcp/udp
    dport: int | None = None
    ttl: int | None = None          # IPv6: the hop limit
    ip_id: int | None = None
    icmp_type: int | None = None    # icmp: 8 echo request, 0 reply, 3 unreachable, 11 time exceeded;
                                    # icmp6: 128 echo request, 129 reply, 1 unreachable, 3 time exceeded
    icmp_code: int | None = None
    icmp_id: int | None = None
    tcp_flags: str | None = None    # "S", "SA", "R", "RA", ... (scapy's letters)
    src_mac: str | None = None
    dst_mac: str | None = None
    vni: int | None = None          # set on an underlay copy: the VXLAN network identifier
    outer: PacketView | None = None  # set on an underlay copy: the outer UDP/IP header
    quoted: PacketView | None = None  # an ICMP error: the header of the packet it answers

    @property
    def family(self) -> int:
        """4 or 6, from the destination address."""
        return 6 if ":" in self.dst else 4

    def flow(self) -> str:
        """`src:sport > dst:dport` (`src > dst` for icmp; a port the prediction cannot know,
        the kernel's or VXLAN's source port, is left out; an IPv6 address with a port is
        bracketed): the part NAT rewrites."""
        return f"{with_port(self.src, self.sport)} > {with_port(self.dst, self.dport)}"

    def summary(self) -> str:
        text = f"{self.flow()} {self.proto}"
        names = ICMP_NAMES if self.proto == "icmp" else ICMP6_NAMES if self.proto == "icmp6" else None
        if names is not None and self.icmp_type is not None:
            text += " " + names.get((self.icmp_type, self.icmp_code or 0),
                                    names.get((self.icmp_type, None), f"type {self.icmp_type}"))
        if self.tcp_flags:
            text += f" [{self.tcp_flags}]"
        if self.ttl is not None:
            text += f" {'ttl' if self.family == 4 else 'hlim'} {self.ttl}"
        if self.outer is not None:
            text += f"  (in {self.outer.flow()} udp vni {self.vni})"
        return text


ICMP_NAMES = {(8, None): "echo-request", (0, None): "echo-reply", (3, 0): "net-unreachable",
              (3, 1): "host-unreachable", (3, 3): "port-unreachable", (3, 13): "admin-prohibited",
              (3, None): "unreachable", (11, None): "time-exceeded"}
ICMP6_NAMES = {(128, None): "echo-request", (129, None): "echo-reply", (1, 0): "no-route",
               (1, 1): "admin-prohibited", (1, 3): "address-unreachable", (1, 4): "port-unreachable",
               (1, None): "unreachable", (2, None): "packet-too-big", (3, None): "time-exceeded",
               (135, None): "neighbour-solicitation", (136, None): "neighbour-advertisement"}


def with_port(address: str, port: int | None) -> str:
    if port is None:
        return address
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


@dataclass(frozen=True, kw_only=True)
class Hop(_Data):
    """One interface the packet crossed, in one namespace, in one direction.

    `via` says how it got here from the previous hop of the same leg:
    `send` (made by a socket in this netns), `veth` (crossed a veth pair), `switch`
    (forwarded by the bridge `bridge` from another port), `up` (a port's frame handed to
    the bridge device, i.e. to the netns' IP stack), `route` (routed by this netns' IP
    stack from another interface), `down` (the bridge device, i.e. the IP stack, sends
    through one of its ports), `hairpin` (sent back out of the port it came in on),
    `vxlan-encap` / `vxlan-decap`, `macvlan` (between a macvlan and its parent or sibling),
    `loopback` (out of `lo` and back in, in one netns),
    `bridged-dnat` (observed only: br_netfilter sent a DNATed bridged frame through the
    bridge device's own transmit, which it does while the neighbour has no cached header)."""

    netns: str
    ifname: str
    direction: str                  # in | out
    packet: PacketView
    leg: str = REQUEST              # request | reply
    via: str = ""
    bridge: str | None = None       # for via switch/up/hairpin: the bridge device
    owner: str = ""                 # the lab name of the netns: a container, a host, `outside`
    time_us: float | None = None    # observed: kernel timestamp, microseconds after the probe left
    source: str = OBSERVED
    evidence: str = "capture"

    @property
    def node(self) -> str:
        """`<netns>/<ifname>`: the interface's name in graphs and pcapng files."""
        return f"{self.netns}/{self.ifname}"


@dataclass(frozen=True, kw_only=True)
class RuleHit(_Data):
    """One netfilter decision: a rule that matched, a user chain's end, or a chain policy.

    `kind` is nftrace's: `rule` (a rule matched: `rule` holds its iptables-save text, or for
    a native nftables table its text as `nft list` prints it), `return` (the end of a user
    chain was reached), `policy` (the end of a built-in or base chain: its policy decided).
    `verdict`: accept | drop | jump | goto | return | continue."""

    netns: str
    table: str
    chain: str
    kind: str
    verdict: str
    rule: str | None = None         # "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT"
    position: int | None = None     # 1-based rule number in its chain
    target: str | None = None       # chain jumped to, or DNAT / MASQUERADE / SNAT
    leg: str = REQUEST
    iif: str | None = None
    oif: str | None = None
    packet: PacketView | None = None  # the header as this hook saw it (observed)
    owner: str = ""
    source: str = OBSERVED
    evidence: str = "nftrace"
    handle: int | None = None       # a native nftables rule's handle (`nft -a list`), when observed

    @property
    def native(self) -> bool:
        """A rule of a native nftables table (its text is nft's, not iptables-save's)."""
        return self.rule is not None and not self.rule.startswith("-A ")

    def describe(self) -> str:
        if self.kind == "policy":
            return f"{self.table} {self.chain}: policy {self.verdict.upper()}"
        if self.kind == "return":
            return f"{self.table} {self.chain}: end of chain, return"
        tail = f" -> {self.target}" if self.verdict in ("jump", "goto") and self.target else ""
        if self.native:
            handle = f" (handle {self.handle})" if self.handle is not None else ""
            return f"{self.table} {self.chain}: {self.rule}{handle}  [{self.verdict}{tail}]"
        return f"{self.table} {self.rule or self.chain}  [{self.verdict}{tail}]"


@dataclass(frozen=True, kw_only=True)
class NeighbourLookup(_Data):
    """The probe needed a neighbour's link-layer address: ARP (IPv4) or NDP (IPv6), the
    step before a frame leaves `ifname` for the next hop `target`. Reported, not compared:
    whether it happens depends on the neighbour cache (a fresh entry asks nobody)."""

    netns: str
    ifname: str
    target: str                     # the next hop's address
    protocol: str                   # arp | ndp
    answered_by: str | None = None  # the lab name of who answered; None: nobody did
    mac: str | None = None          # the answer
    leg: str = REQUEST
    owner: str = ""                 # who asked
    source: str = OBSERVED
    evidence: str = "capture"


@dataclass(frozen=True, kw_only=True)
class NatRewrite(_Data):
    """An address/port rewrite in one netns. Request leg: `DNAT`, `SNAT`, `MASQUERADE`;
    reply leg: `de-SNAT` (destination restored) and `de-DNAT` (source restored)."""

    netns: str
    kind: str
    before: str                     # PacketView.flow() before the rewrite
    after: str
    leg: str = REQUEST
    rule: str | None = None         # the NAT rule, when known
    original: str | None = None     # conntrack's original tuple (flow syntax)
    reply: str | None = None        # conntrack's reply tuple
    owner: str = ""
    source: str = OBSERVED
    evidence: str = "conntrack"


@dataclass(frozen=True, kw_only=True)
class Outcome(_Data):
    """What became of the request, and of its reply.

    `status`: delivered | dropped | no-path (it never left the source) | lost (it vanished
    and nothing says why). For a drop, `reason` is one of REASONS and `netns`/`ifname`,
    `table`/`chain`/`rule` say where. `reply`: what came back (echo-reply, SA, R,
    port-unreachable, ...) or None; `reply_status` is that reply's own fate.
    `kernel_reason`: the kernel's own name for the drop (`enum skb_drop_reason`, e.g.
    NETFILTER_DROP, IP_INNOROUTES, NO_SOCKET): observed, as `skb:kfree_skb` gave it for the
    probe's packet; predicted, the one such a drop is freed with (kdrops.expected_reason).
    A probe delivered to a port nobody listens on has one too (NO_SOCKET)."""

    status: str
    reason: str | None = None
    netns: str | None = None
    ifname: str | None = None
    table: str | None = None
    chain: str | None = None
    rule: str | None = None
    reply: str | None = None
    reply_status: str | None = None
    detail: str = ""
    owner: str = ""
    source: str = OBSERVED
    evidence: str = ""
    kernel_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class DnsQuery(_Data):
    """One question SRC's resolver library put to a nameserver, and the answer."""

    qname: str                      # as sent: the name, or the name with a search domain
    qtype: str                      # A | AAAA
    server: str                     # the nameserver of SRC's resolv.conf that was asked
    rcode: str                      # NOERROR | NXDOMAIN | SERVFAIL | REFUSED | timeout (no reply)
    addresses: tuple[str, ...] = ()
    answered_by: str = ""           # who had the answer, in the lab's words (predicted)


@dataclass(frozen=True, kw_only=True)
class Resolution(_Data):
    """DST, a name, resolved as SRC would before it sends anything: its /etc/hosts first,
    then each nameserver of its resolv.conf (the embedded DNS at 127.0.0.11 on user
    networks; on the default bridge the host's, here the lab's stand-in upstream).

    `status`: resolved | nxdomain | no-address (the name exists, with no address of this
    family) | servfail | refused | timeout. `via`: `hosts` or `dns`, for a resolved name."""

    name: str
    qtype: str                      # A (IPv4) | AAAA (-6)
    netns: str                      # where it was resolved: SRC's namespace
    status: str
    via: str | None = None
    addresses: tuple[str, ...] = ()  # in the order given; the probe goes to the first
    queries: tuple[DnsQuery, ...] = ()
    detail: str = ""
    owner: str = ""
    source: str = OBSERVED
    evidence: str = ""              # `plan` (predicted); `query` (the files read and questions
                                    # asked from SRC's namespace)

    @property
    def resolved(self) -> bool:
        return self.status == RESOLVED


@dataclass(frozen=True, kw_only=True)
class HostEngine(_Data):
    """A Docker host the packet crosses, and the engine profile whose rules it has."""

    host: str
    netns: str
    engine: str                     # the profile: "20.10", "28.5", "29.7-nftables", ...
    firewall: str                   # "iptables" or "nftables": what that engine programs

    def describe(self) -> str:
        return f"{self.engine} ({self.host})"


@dataclass(frozen=True)
class Difference(_Data):
    """Where prediction and observation disagree."""

    what: str                       # hop | rule | nat | outcome
    leg: str | None
    predicted: str | None
    observed: str | None


@dataclass(frozen=True, kw_only=True)
class Trace(_Data):
    """One packet's path. A live trace carries the prediction beside it (`predicted`) and
    every disagreement between the two (`differences`)."""

    lab: str
    src: str                        # as asked: a container, a host or `outside`
    dst: str                        # as asked: a container, an address, HOST:PORT, `outside`
    proto: str
    port: int | None
    probe: PacketView               # the packet as sent
    hops: tuple[Hop, ...] = ()
    rules: tuple[RuleHit, ...] = ()
    nat: tuple[NatRewrite, ...] = ()
    neighbours: tuple[NeighbourLookup, ...] = ()    # ARP / NDP lookups on the way
    outcome: Outcome = field(default_factory=lambda: Outcome(status=LOST))
    source: str = OBSERVED          # observed | predicted
    notes: tuple[str, ...] = ()
    engines: tuple[HostEngine, ...] = ()    # the hosts the packet crosses, in path order
    predicted: Trace | None = None
    differences: tuple[Difference, ...] = ()
    resolution: Resolution | None = None    # DST as a name, resolved from SRC (null: an address)
    project: str | None = None      # a Compose lab's project name, shown for the lab's (kernel prefix)

    def leg(self, leg: str) -> tuple[Hop, ...]:
        return tuple(h for h in self.hops if h.leg == leg)

    @property
    def agrees(self) -> bool:
        """A live trace whose observation matched its prediction in every fact compared."""
        return self.predicted is not None and not self.differences

    def to_dict(self) -> dict:
        from .vocabulary import numbered_dict  # it reads these records: imported when used
        return numbered_dict(self, {"schema": SCHEMA, **super().to_dict()})

    # Jupyter draws a trace: its path on the lab when the lab is up here, else the path alone
    def _repr_svg_(self) -> str:
        from ..graph import trace_svg
        return trace_svg(self, _lab_graph(self.lab))

    def _repr_html_(self) -> str:
        from ..graph import trace_html
        return trace_html(self, _lab_graph(self.lab))


# ---- the lab a trace is drawn on ----------------------------------------------------------
# Whether a lab is up here, and what its namespaces hold, is read from the kernel: neither
# trace nor graph does that. The app layer gives the lookup (netlab/app/__init__.py installs
# it whenever any of netlab.app is imported: a Lab, a live trace, the CLI).
_lab_graphs: list[Callable[[str], Any]] = []


def set_lab_graphs(lookup: Callable[[str], Any]) -> None:
    """`lookup(lab)`: the graph of the lab of that name when it is up here, else None."""
    _lab_graphs[:] = [lookup]


def _lab_graph(lab: str) -> Any:
    return _lab_graphs[0](lab) if _lab_graphs else None
