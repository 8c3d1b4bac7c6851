"""The bridge driver's nftables firewaller of Docker 29.7 (moby `daemon/libnetwork/drivers/
bridge/internal/nftabler`), call for call: the daemon's tables (NewNftabler), a network's
chains (NewNetwork), an endpoint's direct-access drop (AddEndpoint), published ports
(AddPorts) and legacy links (AddLink). Each call is one Apply of the table, as in Docker.

Rules are written as `nft list` prints back what Docker writes: `iifname == br` lists as
`iifname "br"`, `127.0.0.1/8` as `127.0.0.0/8`, a one-name set `{ br, }` as `"br"`, a bare
comment word quoted, and `counter` with its zero counts."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

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
class FamilyConfig:
    """firewaller.NetworkConfigFam: one address family's half of a network."""

    prefix: IPv4Network | IPv6Network
    host_ip: IPv4Address | IPv6Address | None = None    # SNAT to it, not MASQUERADE
    routed: bool = False
    unprotected: bool = False


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    """firewaller.NetworkConfig: one bridge network, its IPv4 half inline, its IPv6 half
    in `config6` (None: the network has no IPv6)."""

    ifname: str
    internal: bool = False
    icc: bool = True
    masquerade: bool = True
    prefix: IPv4Network | None = None       # none: the network has no IPv4
    host_ip: IPv4Address | None = None      # com.docker.network.host_ipv4: SNAT, not MASQUERADE
    routed: bool = False                    # gateway mode routed
    unprotected: bool = False               # gateway mode nat-unprotected
    config6: FamilyConfig | None = None

    def family(self, family: str) -> FamilyConfig | None:
        """The half the table of that family (ip, ip6) is written from."""
        if family == "ip6":
            return self.config6
        if self.prefix is None:
            return None
        return FamilyConfig(prefix=self.prefix, host_ip=self.host_ip, routed=self.routed, unprotected=self.unprotected)


@dataclass(frozen=True)
class Binding:
    """types.PortBinding as the firewaller gets it: host_port 0 for a routed network's
    bindings (its port mapper drops the host side) or when NAT is off."""

    proto: str
    ip: IPv4Address | IPv6Address   # the container's
    port: int
    host_ip: IPv4Address | IPv6Address
    host_port: int

    @property
    def family(self) -> str:
        """The table its rules go to: the container address's family."""
        return "ip" if self.ip.version == 4 else "ip6"


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

    def table(self, family: str) -> TableState | None:
        return self.table4 if family == "ip" else self.table6

    def new_network(self, nc: NetworkConfig) -> Network:
        net = Network(self, nc)
        for family in ("ip", "ip6"):
            table, fc = self.table(family), nc.family(family)
            if table is not None and fc is not None:
                table.apply(net.configure(family, fc))
        return net


class Network:
    """One bridge network's rules in each table whose family the network has."""

    def __init__(self, fw: Nftabler, config: NetworkConfig) -> None:
        self.fw, self.config = fw, config

    @property
    def _hairpin(self) -> bool:
        return self.fw.config.hairpin

    def configure(self, family: str, fc: FamilyConfig) -> Modifier:
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
        if fc.unprotected:
            add(tm, fwd_in(br), FWD_IN_FINAL, f"{COUNTER} accept", "UNPROTECTED")
        else:
            add(tm, fwd_in(br), FWD_IN_FINAL, f"{COUNTER} drop", "UNPUBLISHED PORT DROP")
        if fc.routed:
            icmp = "ip protocol icmp" if family == "ip" else "meta l4proto ipv6-icmp"
            add(tm, fwd_in(br), INITIAL, f"{icmp} {COUNTER} accept", "ICMP")
        verdict, comment = (f"snat to {fc.host_ip}", "SNAT") if fc.host_ip else ("masquerade", "MASQUERADE")
        if nc.masquerade and not fc.routed:
            add(tm, post_out(br), INITIAL, f'oifname != "{br}" {family} saddr {fc.prefix} {COUNTER} {verdict}', comment)
        if self._hairpin:
            # the host's own connections DNATed into the bridge need a source the container can answer
            add(tm, post_in(br), INITIAL, f"fib saddr type local {COUNTER} {verdict}", f"{comment} FROM HOST")
        return tm

    def add_endpoint(self, ip: IPv4Address | None, ip6: IPv6Address | None = None) -> None:
        """filterDirectAccess: only the bridge itself may address a container directly."""
        for family, addr in (("ip", ip), ("ip6", ip6)):
            nc, fw, table = self.config, self.fw.config, self.fw.table(family)
            fc = nc.family(family)
            if addr is None or table is None or fc is None or nc.internal or fc.unprotected or fc.routed \
                    or fw.allow_direct_routing:
                continue
            tm = Modifier()
            text = f'{family} daddr {addr} iifname != "{nc.ifname}" {COUNTER} drop'
            add(tm, RAW_PREROUTING, RAW_PORTS, text, "DROP DIRECT ACCESS")
            table.apply(tm)

    def add_ports(self, bindings: list[Binding]) -> None:
        """modPorts for one AddPorts call: the bindings split by the container address's
        family, then per family (setPerPortRules) each kind of rule for all its bindings."""
        if self.config.internal:
            return
        for family in ("ip", "ip6"):
            table, fc = self.fw.table(family), self.config.family(family)
            if table is not None and fc is not None:
                table.apply(self._port_rules(family, fc, [b for b in bindings if b.family == family]))

    def _port_rules(self, family: str, fc: FamilyConfig, bindings: list[Binding]) -> Modifier:
        br = self.config.ifname
        tm = Modifier()
        if not fc.unprotected:
            for b in bindings:
                # two host ports of one container port give the same rule: kept once
                add(tm, fwd_in(br), FWD_IN_PORTS, f"{family} daddr {b.ip} {b.proto} dport {b.port} {COUNTER} accept",
                    ignore_exist=True)
        # a host-IPv6 to container-IPv4 binding is docker-proxy's: no NAT rule
        natted = [b for b in bindings if b.host_port and b.host_ip.version == b.ip.version]
        for b in natted:
            skip = "" if self._hairpin else f'iifname != "{br}" '
            # IPv6: a link-local source is on the host's own link, not a client of the port
            link_local = "ip6 saddr != fe80::/10 " if family == "ip6" else ""
            daddr = "" if b.host_ip.is_unspecified else f"{family} daddr {b.host_ip} "
            dnat = f"dnat to [{b.ip}]:{b.port}" if family == "ip6" else f"dnat to {b.ip}:{b.port}"
            add(tm, NAT_CHAIN, INITIAL, f"{skip}{link_local}{daddr}{b.proto} dport {b.host_port} {COUNTER} {dnat}",
                "DNAT")
        for b in natted if self._hairpin else []:
            # Docker 29.7 writes this without IgnoreExist, so a second host port for one
            # container port fails with "rule exists"; netlab keeps the one rule
            add(tm, post_in(br), INITIAL,
                f"{family} saddr {b.ip} {family} daddr {b.ip} {b.proto} dport {b.port} {COUNTER} masquerade",
                "MASQ TO OWN PORT", ignore_exist=True)
        for b in bindings if family == "ip" else []:      # ::1 is never routed: no DROP
            if b.host_port and b.host_ip.is_loopback and b.host_ip.version == 4:
                self._loopback_only(tm, b)
        return tm

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
