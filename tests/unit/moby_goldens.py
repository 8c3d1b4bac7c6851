"""Docker's own firewall goldens (tests/fixtures/moby-goldens, see its README) as test cases:
each file's configuration, read from its name, and the one-network lab that reproduces it.

The goldens come from moby's unit tests of the bridge driver's firewall code alone: one
bridge `br-dummy` (192.168.0.0/24, fd49:efd7:54aa::/64), one endpoint 192.168.0.2 /
fd49:efd7:54aa::1, one binding tcp 8080 -> 80.
A netlab lab always has docker0 too, and the daemon's controller adds DOCKER-USER; the
comparison leaves those out (`about_bridge`)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from netlab.plan.firewall import Chain, Ruleset, Table

GOLDENS = Path(__file__).resolve().parents[1] / "fixtures" / "moby-goldens"
BRIDGE = "br-dummy"
# the folder of each engine profile's goldens
FOLDERS = {"28.5": "docker-28.5.2/iptables", "29.7": "docker-29.7.2/iptables",
           "29.7-nftables": "docker-29.7.2/nftables"}
SUFFIX_FAMILY = {"iptables": "ipv4", "ip6tables": "ipv6", "ip": "ipv4", "ip6": "ipv6"}
# moby's IPv6 half: the endpoint is ::1, so the bridge takes another address (the test
# never names one; the rules do not show it)
PREFIX6, ENDPOINT6, GATEWAY6, SNAT6 = "fd49:efd7:54aa::/64", "fd49:efd7:54aa::1", "fd49:efd7:54aa::fffe", \
    "fd34:d0d4:672f::123"


@dataclass(frozen=True)
class Golden:
    path: Path
    engine: str                     # the netlab engine profile it checks
    family: str                     # ipv4 | ipv6
    params: tuple[tuple[str, str], ...]
    step: str                       # "network" (after creating it), "cleaned" (before/after), "no" (family off)

    @property
    def id(self) -> str:
        return f"{self.engine}:{self.path.name.removesuffix('.golden')}"

    def param(self, key: str, default: str = "false") -> str:
        return dict(self.params).get(key, default)

    def flag(self, key: str) -> bool:
        return self.param(key) == "true"

    def skip_reason(self) -> str | None:
        if self.flag("wsl2mirrored"):
            return "WSL2 mirrored networking (a Windows host's loopback shared with WSL2) has no Linux-only equivalent"
        return None

    def text(self) -> str:
        return self.path.read_text()


def goldens(engine: str) -> list[Golden]:
    out = []
    for path in sorted((GOLDENS / FOLDERS[engine]).glob("*.golden")):
        config, _, suffix = path.name.removesuffix(".golden").rpartition("__")
        parts = config.split(",")
        step = "cleaned" if parts[0] == "cleaned" else "no" if parts[0] == "no" else "network"
        params = tuple(tuple(p.split("=", 1)) for p in parts if "=" in p)
        out.append(Golden(path, engine, SUFFIX_FAMILY[suffix], params, step))   # type: ignore[arg-type]
    return out


def lab_yaml(g: Golden) -> str:
    """The lab whose one network and container are the golden's; for a `cleaned` or `no`
    golden, a lab with no network but docker0 (for `no`, with the golden's family turned off:
    daemon.json `iptables` or `ip6tables` false). An IPv6 golden's network is dual stack, as
    moby's test configures both families of it alike (host address, gateway mode)."""
    hairpin = g.flag("hairpin")
    daemon = f"userland-proxy: {str(not hairpin).lower()}"
    if g.step == "no":
        daemon += ", ip6tables: false" if g.family == "ipv6" else ", iptables: false"
    lines = ["name: golden", "hosts:", "  node1:", f"    engine: \"{g.engine}\"", f"    daemon: {{{daemon}}}"]
    if g.step != "network":
        return "\n".join(lines) + "\n"
    opts = {"com.docker.network.bridge.name": BRIDGE,
            "com.docker.network.bridge.enable_icc": g.param("icc", "true"),
            "com.docker.network.bridge.enable_ip_masquerade": g.param("masq", "true")}
    if g.flag("snat"):
        opts["com.docker.network.host_ipv4"] = "192.168.123.0"
    if g.param("gwm", "nat") != "nat":
        opts["com.docker.network.bridge.gateway_mode_ipv4"] = g.param("gwm")
    ipv6 = g.family == "ipv6"
    if ipv6 and g.flag("snat"):
        opts["com.docker.network.host_ipv6"] = SNAT6
    if ipv6 and g.param("gwm", "nat") != "nat":
        opts["com.docker.network.bridge.gateway_mode_ipv6"] = g.param("gwm")
    lines += ["networks:", "  dummy:"]
    if ipv6:
        lines += ["    enable_ipv6: true", "    ipam:", "      config:", "        - subnet: 192.168.0.0/24",
                  f"        - {{subnet: \"{PREFIX6}\", gateway: \"{GATEWAY6}\"}}"]
    else:
        lines.append("    subnet: 192.168.0.0/24")
    lines += [f"    internal: {str(g.flag('internal')).lower()}", "    driver_opts:"]
    lines += [f"      {k}: \"{v}\"" for k, v in opts.items()]
    v6 = f", ipv6_address: \"{ENDPOINT6}\"" if ipv6 else ""
    lines += ["containers:", "  c1:", f"    networks: {{dummy: {{ipv4_address: 192.168.0.2{v6}}}}}"]
    if not g.flag("internal"):      # internal networks publish nothing (one golden per icc/hairpin)
        # moby's test binds each family's loopback: a dual-stack lab publishes on both
        ports = ['"8080:80"'] if not g.flag("bindlh") else ['"127.0.0.1:8080:80"'] + (['"[::1]:8080:80"'] if ipv6 else [])
        lines.append(f"    ports: [{', '.join(ports)}]")
    return "\n".join(lines) + "\n"


OTHER_BRIDGE = re.compile(r"\b(docker0|br-(?!dummy\b)[\w-]+)\b")


def about_bridge(rule: str) -> bool:
    """Whether a rule belongs in the comparison: not about another bridge (docker0), and not
    the controller's DOCKER-USER jump, which the driver's unit tests do not run."""
    return not OTHER_BRIDGE.search(rule) and "DOCKER-USER" not in rule and "172.17.0.0/16" not in rule


# What moby's unit test feeds the iptabler that a daemon never does: on a routed network the
# port mapper drops a binding's host side before the firewaller sees it (bridge driver,
# attemptBindHostPorts in 28 / portmappers/routed in 29: "Host port ignored, because NAT is
# disabled"; host address 0.0.0.0), while TestIptabler passes host port 8080 straight through.
# A daemon therefore writes, for such a binding, no DNAT, no hairpin MASQUERADE and no raw
# DROP of the loopback binding; only its ACCEPT.
ROUTED_PORT_MAPPER_DROPS = (
    ("nat", "DOCKER", re.compile(r"-j DNAT ")),
    ("nat", "POSTROUTING", re.compile(r"^-s (\S+)/\d+ -d \1/\d+ .*-j MASQUERADE$")),
    ("raw", "PREROUTING", re.compile(r" ! -i lo .*-j DROP$")),
)


def daemon_view(g: Golden, rules: Ruleset) -> tuple[Ruleset, int]:
    """The golden's rules as a daemon writes that configuration, and how many rules of the
    golden that leaves out (only for gwm=routed network goldens, see above)."""
    if g.step != "network" or g.param("gwm", "nat") != "routed":
        return rules, 0
    dropped = 0
    tables = []
    for t in rules.tables:
        chains = []
        for c in t.chains:
            keep = tuple(r for r in c.rules if not any(
                t.name == table and c.name == chain and rx.search(r) for table, chain, rx in ROUTED_PORT_MAPPER_DROPS))
            dropped += len(c.rules) - len(keep)
            chains.append(Chain(c.name, c.policy, keep))
        tables.append(Table(t.name, tuple(chains)))
    return Ruleset(tuple(tables)), dropped
