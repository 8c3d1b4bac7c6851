"""The bridge driver's nftables firewaller of Docker 29.7 (moby `daemon/libnetwork/drivers/
bridge/internal/nftabler`), call for call: the daemon's tables (NewNftabler), a network's
chains (NewNetwork), an endpoint's direct-access drop (AddEndpoint), published ports
(AddPorts) and legacy links (AddLink). Each call is one Apply of the table, as in Docker.

Rules are written as `nft list` prints back what Docker writes: `iifname == br` lists as
`iifname "br"`, `127.0.0.1/8` as `127.0.0.0/8`, a one-name set `{ br, }` as `"br"`, a bare
comment word quoted, and `counter` with its zero counts."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from .model import BaseHook, NftRule, NftTable
from .table import Chain, Map, MapElement, Modifier, Rule, TableState

TABLE = "docker-bridges"
FORWARD, POSTROUTING, PREROUTING, OUTPUT = "filter-FORWARD", "nat-POSTROUTING", "nat-PREROUTING", "nat-OUTPUT"
NAT_CHAIN, RAW_PREROUTING = "nat-prerouting-and-output", "raw-PREROUTING"
FWD_IN_JUMPS, FWD_OUT_JUMPS = "filter-forward-in-jumps", "filter-forward-out-jumps"
POST_IN_JUMPS, POST_OUT_JUMPS = "nat-postrouting-in-jumps", "nat-postrouting-out-jumps"
COUNTER = "counter packets 0 bytes 0"
VMAP = "ifname : verdict"

# rule groups: a chain lists group 0's rules, then group 1's, and so on
INITIAL = 0
FWD_IN_FWMARK, FWD_IN_LINKS, FWD_IN_ICC, FWD_IN_PORTS, FWD_IN_FINAL = 1, 2, 3, 4, 5
RAW_PORTS = 1


def fwd_in(br: str) -> str:
    return f"filter-forward-in__{br}"


def fwd_out(br: str) -> str:
    return f"filter-forward-out__{br}"


def post_in(br: str) -> str:
    return f"nat-postrouting-in__{br}"


def post_out(br: str) -> str:
    return f"nat-postrouting-out__{br}"


def add(tm: Modifier, chain: str, group: int, text: str, comment: str = "", *, ignore_exist: bool = False) -> None:
    tm.create(Rule(chain, group, NftRule(text, comment), ignore_exist=ignore_exist))


@dataclass(frozen=True, kw_only=True)
class FirewallConfig:
    """firewaller.Config: what the daemon's options make of every network's rules."""

    ipv4: bool = True               # daemon `iptables` (from 29 it also means nftables)
    ipv6: bool = True               # daemon `ip6tables`
    hairpin: bool = False           # `userland-proxy: false`
    wsl2_mirrored: bool = False
    allow_direct_routing: bool = False


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    """firewaller.NetworkConfig, IPv4 half: one bridge network."""

    ifname: str
    internal: bool = False
    icc: bool = True
    masquerade: bool = True
    prefix: IPv4Network | None = None       # none: the network has no IPv4
    host_ip: IPv4Address | None = None      # com.docker.network.host_ipv4: SNAT, not MASQUERADE
    routed: bool = False                    # gateway mode routed
    unprotected: bool = False               # gateway mode nat-unprotected


@dataclass(frozen=True)
class Binding:
    """types.PortBinding as the firewaller gets it: host_port 0 for a routed network's
    bindings (its port mapper drops the host side) or when NAT is off."""

    proto: str
    ip: IPv4Address                 # the container's
    port: int
    host_ip: IPv4Address
    host_port: int


class Nftabler:
    def __init__(self, config: FirewallConfig) -> None:
        self.config = config
        self.table4 = self._init("ip") if config.ipv4 else None
        self.table6 = self._init("ip6") if config.ipv6 else None

    def tables(self) -> tuple[NftTable, ...]:
        return tuple(t.table() for t in (self.table4, self.table6) if t is not None)

    def _init(self, family: str) -> TableState:
        table = TableState(family, TABLE)
        tm = Modifier()
        tm.create(Chain(FORWARD, BaseHook(type="filter", hook="forward", priority="filter")))
        tm.create(Map(FWD_IN_JUMPS, VMAP))
        tm.create(Rule(FORWARD, INITIAL, NftRule(f"oifname vmap @{FWD_IN_JUMPS}")))
        tm.create(Map(FWD_OUT_JUMPS, VMAP))
        tm.create(Rule(FORWARD, INITIAL, NftRule(f"iifname vmap @{FWD_OUT_JUMPS}")))
        tm.create(Chain(POSTROUTING, BaseHook(type="nat", hook="postrouting", priority="srcnat")))
        tm.create(Map(POST_OUT_JUMPS, VMAP))
        tm.create(Rule(POSTROUTING, INITIAL, NftRule(f"iifname vmap @{POST_OUT_JUMPS}")))
        tm.create(Map(POST_IN_JUMPS, VMAP))
        tm.create(Rule(POSTROUTING, INITIAL, NftRule(f"oifname vmap @{POST_IN_JUMPS}")))
        tm.create(Chain(NAT_CHAIN))
        jump = f"fib daddr type local {COUNTER} jump {NAT_CHAIN}"
        tm.create(Chain(PREROUTING, BaseHook(type="nat", hook="prerouting", priority="dstnat")))
        tm.create(Rule(PREROUTING, INITIAL, NftRule(jump)))
        # nft prints an output hook's -100 as a number; Docker's goldens (and newer nft) as dstnat
        tm.create(Chain(OUTPUT, BaseHook(type="nat", hook="output", priority="dstnat")))
        # with the proxy on, the proxy serves the host's own 127.0.0.0/8 (::1) connections
        skip = "" if self.config.hairpin else ("ip daddr != 127.0.0.0/8 " if family == "ip" else "ip6 daddr != ::1 ")
        tm.create(Rule(OUTPUT, INITIAL, NftRule(skip + jump)))
        tm.create(Chain(RAW_PREROUTING, BaseHook(type="filter", hook="prerouting", priority="raw")))
        if not self.config.hairpin and self.config.wsl2_mirrored and family == "ip":
            # Windows' connections to 127.0.0.1 arrive on loopback0: leave them to the proxy
            tm.create(Rule(NAT_CHAIN, INITIAL, NftRule(f'iifname "loopback0" ip daddr 127.0.0.0/8 {COUNTER} return')))
        table.apply(tm)
        return table

    def new_network(self, nc: NetworkConfig) -> Network:
        net = Network(self, nc)
        if self.table4 is not None and nc.prefix is not None:
            self.table4.apply(net.configure())
        return net


class Network:
    """One bridge network's rules in the IPv4 table (IPv6 networks: not yet modelled)."""

    def __init__(self, fw: Nftabler, config: NetworkConfig) -> None:
        self.fw, self.config = fw, config

    @property
    def _hairpin(self) -> bool:
        return self.fw.config.hairpin

    def configure(self) -> Modifier:
        nc, br = self.config, self.config.ifname
        tm = Modifier()
        tm.create(Chain(fwd_in(br)))
        tm.create(Chain(fwd_out(br)))
        tm.create(MapElement(FWD_IN_JUMPS, f'"{br}"', f"jump {fwd_in(br)}"))
        tm.create(MapElement(FWD_OUT_JUMPS, f'"{br}"', f"jump {fwd_out(br)}"))
        tm.create(Chain(post_in(br)))
        tm.create(MapElement(POST_IN_JUMPS, f'"{br}"', f"jump {post_in(br)}"))
        tm.create(Chain(post_out(br)))
        tm.create(MapElement(POST_OUT_JUMPS, f'"{br}"', f"jump {post_out(br)}"))
        established = f"ct state established,related {COUNTER} accept"
        add(tm, fwd_in(br), INITIAL, established)
        add(tm, fwd_out(br), INITIAL, established)
        icc = "accept" if nc.icc else "drop"
        if nc.internal:
            add(tm, fwd_in(br), INITIAL, f'iifname != "{br}" {COUNTER} drop', "INTERNAL NETWORK INGRESS")
            add(tm, fwd_out(br), INITIAL, f'oifname != "{br}" {COUNTER} drop', "INTERNAL NETWORK EGRESS")
            add(tm, fwd_in(br), FWD_IN_ICC, f"{COUNTER} {icc}", "ICC")
            return tm
        add(tm, fwd_in(br), FWD_IN_ICC, f'iifname "{br}" {COUNTER} {icc}', "ICC")
        add(tm, fwd_out(br), INITIAL, f"{COUNTER} accept", "OUTGOING")
        if nc.unprotected:
            add(tm, fwd_in(br), FWD_IN_FINAL, f"{COUNTER} accept", "UNPROTECTED")
        else:
            add(tm, fwd_in(br), FWD_IN_FINAL, f"{COUNTER} drop", "UNPUBLISHED PORT DROP")
        if nc.routed:
            add(tm, fwd_in(br), INITIAL, f"ip protocol icmp {COUNTER} accept", "ICMP")
        verdict, comment = (f"snat to {nc.host_ip}", "SNAT") if nc.host_ip else ("masquerade", "MASQUERADE")
        if nc.masquerade and not nc.routed:
            add(tm, post_out(br), INITIAL, f'oifname != "{br}" ip saddr {nc.prefix} {COUNTER} {verdict}', comment)
        if self._hairpin:
            # the host's own connections DNATed into the bridge need a source the container can answer
            add(tm, post_in(br), INITIAL, f"fib saddr type local {COUNTER} {verdict}", f"{comment} FROM HOST")
        return tm

    def add_endpoint(self, ip: IPv4Address) -> None:
        """filterDirectAccess: only the bridge itself may address a container directly."""
        nc, fw = self.config, self.fw.config
        if self.fw.table4 is None or nc.internal or nc.unprotected or nc.routed or fw.allow_direct_routing:
            return
        tm = Modifier()
        text = f'ip daddr {ip} iifname != "{nc.ifname}" {COUNTER} drop'
        add(tm, RAW_PREROUTING, RAW_PORTS, text, "DROP DIRECT ACCESS")
        self.fw.table4.apply(tm)

    def add_ports(self, bindings: list[Binding]) -> None:
        """setPerPortRules for one AddPorts call: each kind of rule for all its bindings."""
        nc = self.config
        if nc.internal or self.fw.table4 is None or nc.prefix is None:
            return
        tm = Modifier()
        if not nc.unprotected:
            for b in bindings:
                # two host ports of one container port give the same rule: kept once
                add(tm, fwd_in(nc.ifname), FWD_IN_PORTS, f"ip daddr {b.ip} {b.proto} dport {b.port} {COUNTER} accept",
                    ignore_exist=True)
        for b in bindings:
            if b.host_port:
                skip = "" if self._hairpin else f'iifname != "{nc.ifname}" '
                daddr = "" if b.host_ip.is_unspecified else f"ip daddr {b.host_ip} "
                dnat = f"dnat to {b.ip}:{b.port}"
                add(tm, NAT_CHAIN, INITIAL, f"{skip}{daddr}{b.proto} dport {b.host_port} {COUNTER} {dnat}", "DNAT")
        for b in bindings if self._hairpin else []:
            if b.host_port:
                # Docker 29.7 writes this without IgnoreExist, so a second host port for one
                # container port fails with "rule exists"; netlab keeps the one rule
                add(tm, post_in(nc.ifname), INITIAL,
                    f"ip saddr {b.ip} ip daddr {b.ip} {b.proto} dport {b.port} {COUNTER} masquerade",
                    "MASQ TO OWN PORT", ignore_exist=True)
        for b in bindings:
            if b.host_port and b.host_ip.is_loopback:
                self._loopback_only(tm, b)
        self.fw.table4.apply(tm)

    def _loopback_only(self, tm: Modifier, b: Binding) -> None:
        """filterPortMappedOnLoopback: a port bound to 127.0.0.1 is not for other hosts."""
        match = f"ip daddr {b.host_ip} {b.proto} dport {b.host_port} {COUNTER}"
        if self.fw.config.wsl2_mirrored:
            add(tm, RAW_PREROUTING, RAW_PORTS, f'iifname "loopback0" {match} accept', "ACCEPT WSL2 LOOPBACK")
        add(tm, RAW_PREROUTING, RAW_PORTS, f'iifname != "lo" {match} drop', "DROP REMOTE LOOPBACK")

    def add_link(self, parent: IPv4Address, child: IPv4Address, ports: tuple[tuple[int, str], ...]) -> None:
        """A legacy link across an icc=false bridge: the parent may open the child's exposed
        ports, and the child may answer from them."""
        if self.fw.table4 is None:
            return
        tm = Modifier()
        chain = fwd_in(self.config.ifname)
        for port, proto in ports:
            add(tm, chain, FWD_IN_LINKS, f"ip saddr {parent} ip daddr {child} {proto} dport {port} {COUNTER} accept")
            add(tm, chain, FWD_IN_LINKS, f"ip saddr {child} {proto} sport {port} ip daddr {parent} {COUNTER} accept")
        self.fw.table4.apply(tm)
