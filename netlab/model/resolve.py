"""From a parsed lab file to a Topology: defaults, references, IPAM and ports, with every
problem collected (file, line, key path) before anything is returned."""
from __future__ import annotations

import difflib
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from ..errors import Diagnostic, TopologyError
from . import gwbridge, macvlan, naming
from ..engine import DEFAULT as DEFAULT_ENGINE
from .ipam import AddressAllocator, SubnetAllocator, first_host, global_pools, local_pools
from .topology import (Attachment, Container, Daemon, Expectation, Host, Link, Pool, PortBinding, Segment, Topology, Underlay)
from .ports import PortSpecError, daemon_order, parse_expose, parse_port
from .schema import check_shape
from .source import Source

DRIVERS = ("bridge", "macvlan", "overlay")
BUILTIN_NETWORKS = ("bridge", "host", "none")
TEST_NETS = tuple(IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
ANY = IPv4Address("0.0.0.0")
EPHEMERAL = (32768, 60999)          # net.ipv4.ip_local_port_range of a fresh namespace
MACVLAN_MODES = ("bridge", "vepa", "private", "passthru")
BRIDGE_OPTS = (
    "com.docker.network.bridge.name",
    "com.docker.network.bridge.enable_icc",
    "com.docker.network.bridge.enable_ip_masquerade",
    "com.docker.network.bridge.host_binding_ipv4",
    "com.docker.network.driver.mtu",
    "com.docker.network.bridge.inhibit_ipv4",
    "com.docker.network.host_ipv4",
    "com.docker.network.container_iface_prefix",
)
DRIVER_OPTS = {
    "bridge": BRIDGE_OPTS,
    "macvlan": ("parent", "macvlan_mode", "shim", "com.docker.network.driver.mtu"),
    "overlay": ("com.docker.network.driver.mtu", "com.docker.network.driver.overlay.vxlanid_list"),
}
DOCKER_NAME_RULE = "must be letters, digits, '_', '.' or '-', starting with a letter or digit"
TRUE = ("1", "t", "T", "TRUE", "true", "True")       # Go's strconv.ParseBool
FALSE = ("0", "f", "F", "FALSE", "false", "False")


def load_text(text: str | bytes, file: str = "<string>") -> Topology:
    from .source import parse_text
    return resolve(parse_text(text, file))


def load_file(path: str) -> Topology:
    from .source import parse_file
    return resolve(parse_file(path))


def resolve(src: Source) -> Topology:
    shape = src.problems + check_shape(src)
    if shape and not isinstance(src.data, dict):
        raise TopologyError(shape)
    r = _Resolver(src)
    try:
        topo = r.run()
    except _Stop:
        topo = None
    except Exception:
        if not shape:
            raise
        topo = None  # a wrong shape confused a later check; the shape errors say why
    if shape or r.diags:
        raise TopologyError(shape + r.diags)
    assert topo is not None
    return topo


class _Stop(Exception):
    """Later checks depend on this one; stop and report what was found."""


SUGGEST_BUDGET = 200_000   # names looked at per file for did-you-mean hints
MAX_LISTED = 12            # names listed when there is no close match


def _suggest(name: str, known, budget: list[int] | None = None) -> str:
    """'; did you mean X?' or a few known names. `budget` bounds the work for one file: a hint
    costs a pass over the names, and 10,000 bad references to 10,000 containers must not take
    minutes; once it is spent, messages go without hints."""
    if budget is not None:
        if budget[0] < len(known):
            return ""
        budget[0] -= len(known)
    known = sorted(str(k) for k in known)  # sorted: the message must not depend on set order
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if len(known) > MAX_LISTED:
        return f"; known: {', '.join(known[:MAX_LISTED])} and {len(known) - MAX_LISTED} more"
    return f"; known: {', '.join(known)}" if known else ""


def _number(text: str) -> int | None:
    """A decimal number in ASCII digits, or None: "²".isdigit() is true but int() refuses it,
    and int() of thousands of digits raises."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _get(mapping: dict, key: str, default):
    """mapping[key], or `default` when the key is missing or null (`key:` with no value)."""
    value = mapping.get(key)
    return default if value is None else value


def _portlike(value) -> bool:
    """A value ports.py can parse: a string or an integer, and `true` is not 1 here."""
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _listing(value) -> list:
    return value if isinstance(value, list) else []


class _Resolver:
    def __init__(self, src: Source):
        self.src = src
        self.data = _mapping(src.data)
        self.diags: list[Diagnostic] = []
        self.budget = [SUGGEST_BUDGET]

    def err(self, path: str, message: str) -> None:
        self.diags.append(self.src.diag(path, message))

    def suggest(self, name, known) -> str:
        return _suggest(name, known, self.budget)

    # ---- small parsers that report instead of raising --------------------------------
    def net(self, value, path: str) -> IPv4Network | None:
        if not isinstance(value, str):
            return None
        if "/" not in value and self._is_addr(value):   # IPv4Network would read it as a /32
            self.err(path, f"{value!r} has no prefix length; write a CIDR such as {value}/24")
            return None
        try:
            return IPv4Network(value)
        except ValueError:
            try:
                iface = IPv4Interface(value)
            except ValueError:
                self.err(path, f"{value!r} is not an IPv4 CIDR such as 192.168.0.0/16")
                return None
            self.err(path, f"{value!r} has host bits set; the network is {iface.network}")
            return None

    def addr(self, value, path: str) -> IPv4Address | None:
        if not isinstance(value, str):
            return None
        try:
            return IPv4Address(value)
        except ValueError:
            self.err(path, f"{value!r} is not an IPv4 address")
            return None

    def flag(self, value, path: str, default: bool) -> bool:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value)
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        self.err(path, f"{text!r} is not a boolean; use \"true\" or \"false\"")
        return default

    # ---- the passes --------------------------------------------------------------------
    def run(self) -> Topology:
        name = self.data.get("name")
        if name is None:
            self.err("name", "missing: every lab needs a `name:` of 1-8 characters [a-z0-9], "
                             "such as `name: demo`")
            name = "lab"
        elif isinstance(name, str) and not naming.LAB_NAME.fullmatch(name):
            self.err("name", f"{name!r} is not a valid lab name: use 1-8 characters of [a-z0-9] "
                             "(it prefixes every namespace the lab makes)")
        self.lab = name if isinstance(name, str) else "lab"
        self.underlay = self.read_underlay()
        self.outside = self.read_outside()
        self.hosts = self.read_hosts()
        self.networks = self.read_networks()
        self.containers_raw = _mapping(self.data.get("containers"))
        self.check_names()
        specs = self.read_containers()
        segments = self.allocate_subnets()
        for path, message in macvlan.parent_problems(segments):
            self.err(path, message)
        containers = self.attach(specs, segments)
        paths = {(name, net): ep.get("_path", s["path"]) for name, s in specs.items() for net, ep in s["nets"]}
        for path, message in macvlan.endpoint_problems(containers, segments, paths):
            self.err(path, message)
        expect = self.read_expect(containers)
        if self.diags:
            raise _Stop
        return Topology(
            name=self.lab,
            file=self.src.file,
            underlay=self.underlay,
            outside_netns=naming.netns(self.lab, "outside"),
            outside_addresses=self.outside,
            hosts=tuple(self.hosts.values()),
            segments=tuple(s for per_host in segments.values() for s in per_host.values()),
            containers=tuple(containers),
            expect=tuple(expect),
            network_order=tuple(self.networks),
        )

    def read_underlay(self) -> Underlay:
        raw = _mapping(self.data.get("underlay"))
        subnet = self.net(raw.get("subnet"), "underlay.subnet") or Underlay.subnet
        gateway = Underlay.gateway if "gateway" not in raw else self.addr(raw["gateway"], "underlay.gateway")
        if "subnet" in raw and "gateway" not in raw:
            gateway = IPv4Address(int(subnet.broadcast_address) - 1)
        if gateway is not None and gateway not in subnet:
            self.err("underlay.gateway" if "gateway" in raw else "underlay.subnet",
                     f"gateway {gateway} is outside the underlay subnet {subnet}")
        mtu = raw.get("mtu", 1500)
        if isinstance(mtu, int) and not 1280 <= mtu <= 9000:
            self.err("underlay.mtu", f"MTU {mtu} is out of range 1280-9000")
        return Underlay(subnet, gateway or Underlay.gateway, mtu if isinstance(mtu, int) else 1500)

    def read_outside(self) -> tuple[IPv4Address, ...]:
        raw = _mapping(self.data.get("outside"))
        if "addresses" not in raw:
            return (IPv4Address("203.0.113.10"),)
        out = []
        for i, value in enumerate(_listing(raw.get("addresses"))):
            path = f"outside.addresses[{i}]"
            a = self.addr(value, path)
            if a is None:
                continue
            if a in out:
                self.err(path, f"{a} is listed twice")
                continue
            if not any(a in n for n in TEST_NETS):
                self.err(path, f"{a} is not a TEST-NET address; stand-in internet hosts must be in "
                               "192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24 so that lab traffic "
                               "can never be mistaken for (or leak to) real hosts")
                continue
            out.append(a)
        return tuple(out)

    def read_daemon(self, raw: dict, path: str) -> Daemon:
        d = Daemon()
        bip = None
        if isinstance(raw.get("bip"), str):
            try:
                bip = IPv4Interface(raw["bip"])
                if bip.network.prefixlen >= 31 or bip.ip in (bip.network.network_address,
                                                              bip.network.broadcast_address):
                    self.err(f"{path}.bip", f"{raw['bip']!r} must be a gateway address with its "
                                            "prefix, such as 172.17.0.1/16")
                    bip = None
            except ValueError:
                self.err(f"{path}.bip", f"{raw['bip']!r} is not an address with prefix such as 172.17.0.1/16")
        fixed = self.net(raw.get("fixed-cidr"), f"{path}.fixed-cidr")
        if fixed is not None and (bip is not None or "bip" not in raw):  # else: bip's error says it
            base = bip.network if bip else IPv4Network("172.17.0.0/16")
            if not fixed.subnet_of(base):
                self.err(f"{path}.fixed-cidr", f"{fixed} is not inside the default bridge subnet {base}")
        pools = []
        for i, p in enumerate(_listing(raw.get("default-address-pools"))):
            ppath = f"{path}.default-address-pools[{i}]"
            p = _mapping(p)
            base = self.net(p.get("base"), f"{ppath}.base")
            size = p.get("size")
            if "base" not in p or "size" not in p:
                self.err(ppath, "a pool needs both `base` (a CIDR) and `size` (a prefix length)")
            elif base is not None and isinstance(size, int):
                if not base.prefixlen <= size <= 30:
                    self.err(f"{ppath}.size", f"size {size} must be between the base prefix "
                                              f"/{base.prefixlen} and /30")
                else:
                    pools.append(Pool(base, size))
        mtu = raw.get("mtu", 1500)
        if isinstance(mtu, int) and not (mtu == 0 or 68 <= mtu <= 65535):
            self.err(f"{path}.mtu", f"MTU {mtu} is out of range 68-65535")
        ip = self.addr(raw.get("ip"), f"{path}.ip") if "ip" in raw else None
        bools = {k: raw.get(k) for k in ("icc", "ip-masq", "iptables", "ip-forward", "userland-proxy")}
        return Daemon(
            bip=bip, fixed_cidr=fixed,
            icc=bools["icc"] if isinstance(bools["icc"], bool) else d.icc,
            ip_masq=bools["ip-masq"] if isinstance(bools["ip-masq"], bool) else d.ip_masq,
            iptables=bools["iptables"] if isinstance(bools["iptables"], bool) else d.iptables,
            ip_forward=bools["ip-forward"] if isinstance(bools["ip-forward"], bool) else d.ip_forward,
            userland_proxy=(bools["userland-proxy"] if isinstance(bools["userland-proxy"], bool)
                            else d.userland_proxy),
            mtu=(mtu or 1500) if isinstance(mtu, int) else 1500,
            ip=ip or d.ip,
            default_address_pools=tuple(pools),
            dns=tuple(x for x in _listing(raw.get("dns")) if isinstance(x, str)),
            dns_search=tuple(x for x in _listing(raw.get("dns-search")) if isinstance(x, str)),
            dns_opts=tuple(x for x in _listing(raw.get("dns-opts")) if isinstance(x, str)),
        )

    def read_hosts(self) -> dict[str, Host]:
        raw = self.data.get("hosts")
        # not a mapping (the schema said so): go on with the default host, not with none
        raw = raw if isinstance(raw, dict) else {"node1": None}
        if not raw and isinstance(self.data.get("hosts"), dict):
            self.err("hosts", "no hosts: list at least one, or leave `hosts:` out for node1")
        hosts: dict[str, Host] = {}
        taken = {self.underlay.gateway}
        wanted: dict[str, IPv4Address | None] = {}
        for name, spec in raw.items():
            path = f"hosts.{name}"
            if not naming.HOST_NAME.fullmatch(str(name)) or len(str(name)) > naming.MAX_HOST_NAME:
                self.err(path, f"host name {name!r} must be 1-{naming.MAX_HOST_NAME} characters of "
                               f"[a-z0-9-] starting with a letter or digit (it names the underlay "
                               f"port {naming.underlay_port(str(name))!r}, and interface names are "
                               f"limited to {naming.IFNAMSIZ} characters)")
            spec = _mapping(spec)
            a = self.addr(spec.get("address"), f"{path}.address") if "address" in spec else None
            if a is not None:
                if a not in self.underlay.subnet or a in (self.underlay.subnet.network_address,
                                                          self.underlay.subnet.broadcast_address):
                    self.err(f"{path}.address", f"{a} is not a usable address of the underlay "
                                                f"subnet {self.underlay.subnet}")
                elif a in taken:
                    owner = "the underlay gateway" if a == self.underlay.gateway else \
                        f"host {next(n for n, x in wanted.items() if x == a)!r}"
                    self.err(f"{path}.address", f"{a} is already used by {owner}; give each host its own address")
                taken.add(a)
            wanted[name] = a
        base = int(self.underlay.subnet.network_address) + 105
        for name, a in wanted.items():
            if a is None:
                cand = base
                while IPv4Address(cand) in taken and cand < int(self.underlay.subnet.broadcast_address):
                    cand += 1
                a = IPv4Address(cand)
                if a not in self.underlay.subnet or a == self.underlay.subnet.broadcast_address:
                    self.err(f"hosts.{name}", f"no free underlay address left in {self.underlay.subnet}; "
                                              "give the host an `address:`")
                taken.add(a)
            daemon = self.read_daemon(_mapping(_mapping(raw[name]).get("daemon")), f"hosts.{name}.daemon")
            hosts[name] = Host(str(name), naming.netns(self.lab, str(name)), a, daemon)
        return hosts

    def read_networks(self) -> dict[str, dict]:
        """Networks as validated dicts; subnets are allocated per host later, in file order."""
        out: dict[str, dict] = {}
        for name, spec in _mapping(self.data.get("networks")).items():
            path = f"networks.{name}"
            spec = _mapping(spec)
            if name in BUILTIN_NETWORKS:
                how = "configure the default bridge through a host's `daemon:`" if name == "bridge" else \
                    f"use `network_mode: {name}` on a container, and another name for a network"
                self.err(path, f"{name!r} is one of Docker's built-in networks (bridge, host, none); {how}")
                continue
            if not naming.DOCKER_NAME.fullmatch(str(name)):
                self.err(path, f"network name {name!r} {DOCKER_NAME_RULE}")
            driver = _get(spec, "driver", "bridge")
            if not isinstance(driver, str):
                driver = "bridge"   # the schema reported the type
            elif driver not in DRIVERS:
                self.err(f"{path}.driver", f"unknown driver {driver!r}{self.suggest(driver, DRIVERS)}")
                driver = "bridge"
            subnet = self.net(spec.get("subnet"), f"{path}.subnet")
            gateway = self.addr(spec.get("gateway"), f"{path}.gateway")
            ip_range = self.net(spec.get("ip_range"), f"{path}.ip_range")
            if "subnet" not in spec:
                for key in ("gateway", "ip_range"):
                    if key in spec:
                        self.err(f"{path}.{key}", f"`{key}` needs an explicit `subnet` (as "
                                                  f"`docker network create --{key.replace('_', '-')}` does)")
            if subnet is not None:
                if gateway is not None and (gateway not in subnet or gateway in (
                        subnet.network_address, subnet.broadcast_address)):
                    self.err(f"{path}.gateway", f"gateway {gateway} is not a usable address of subnet {subnet}; "
                                                f"use one inside it, such as {first_host(subnet)}")
                if ip_range is not None and not ip_range.subnet_of(subnet):
                    self.err(f"{path}.ip_range", f"ip_range {ip_range} is not inside subnet {subnet}")
            opts = {}
            for key, value in _mapping(spec.get("driver_opts")).items():
                opath = f"{path}.driver_opts.{key}"
                known = DRIVER_OPTS[driver]
                if key not in known:
                    other = next((d for d, keys in DRIVER_OPTS.items() if key in keys), None)
                    self.err(opath, f"option {key!r} is for the {other} driver, not {driver}; the {driver} "
                                    f"driver takes {', '.join(known)}" if other else
                             f"unknown option {key!r} for the {driver} driver{self.suggest(key, known)}")
                    continue
                opts[key] = str(value).lower() if isinstance(value, bool) else str(value)
            self.check_options(driver, opts, path)
            listed = _listing(spec.get("hosts"))
            for i, h in enumerate(listed):
                if isinstance(h, str) and h not in self.hosts:
                    self.err(f"{path}.hosts[{i}]", f"unknown host {h!r}{self.suggest(h, self.hosts)}")
            hosts = [h for h in listed if isinstance(h, str)] or None   # others: the schema said
            out[str(name)] = dict(driver=driver, subnet=subnet, gateway=gateway, ip_range=ip_range,
                                  internal=spec.get("internal") is True, options=opts, hosts=hosts,
                                  explicit_hosts=hosts is not None)
        return out

    def check_options(self, driver: str, opts: dict, path: str) -> None:
        """Report bad option values and drop them: segment() then reads only valid ones."""
        p = f"{path}.driver_opts."
        bad = []
        for key in ("com.docker.network.bridge.enable_icc", "com.docker.network.bridge.enable_ip_masquerade",
                    "com.docker.network.bridge.inhibit_ipv4", "shim"):
            if key in opts and opts[key] not in TRUE + FALSE:
                self.flag(opts[key], p + key, True)
                bad.append(key)
        if "com.docker.network.driver.mtu" in opts:
            v = _number(opts["com.docker.network.driver.mtu"])
            if v is None or not 68 <= v <= 65535:
                self.err(p + "com.docker.network.driver.mtu",
                         f"MTU {opts['com.docker.network.driver.mtu']!r} must be a number from 68 to 65535")
                bad.append("com.docker.network.driver.mtu")
        for key in ("com.docker.network.bridge.host_binding_ipv4", "com.docker.network.host_ipv4"):
            if key in opts and self.addr(opts[key], p + key) is None:
                bad.append(key)
        for key in ("com.docker.network.bridge.name", "parent"):
            name = opts.get(key)
            if name is None:
                continue
            if not naming.IFNAME.fullmatch(name) or len(name) > naming.IFNAMSIZ or name in (".", ".."):
                what = "bridge name" if key != "parent" else "parent interface"
                self.err(p + key, f"{what} {name!r} is not a Linux interface name (1-{naming.IFNAMSIZ} "
                                  "characters, no spaces, '/' or ':')")
                bad.append(key)
            elif key != "parent" and name in ("docker0", "eth0", "lo"):
                self.err(p + key, f"bridge name {name!r} is already used on every host; choose another")
                bad.append(key)
        prefix = opts.get("com.docker.network.container_iface_prefix")
        if prefix is not None and (not naming.IFNAME.fullmatch(prefix) or len(prefix) > naming.IFNAMSIZ - 2):
            self.err(p + "com.docker.network.container_iface_prefix",
                     f"prefix {prefix!r} must be 1-{naming.IFNAMSIZ - 2} characters, no spaces, '/' or ':' "
                     f"(the interface number follows it, within {naming.IFNAMSIZ} characters)")
            bad.append("com.docker.network.container_iface_prefix")
        mode = opts.get("macvlan_mode")
        if mode is not None and mode not in MACVLAN_MODES:
            self.err(p + "macvlan_mode", f"macvlan mode {mode!r} is not one of {', '.join(MACVLAN_MODES)}")
            bad.append("macvlan_mode")
        for key in bad:
            opts.pop(key, None)

    def check_names(self) -> None:
        """Hosts, containers and `outside` share one namespace prefix, so their names must differ."""
        owners: dict[str, str] = {"outside": "the lab's outside namespace"}
        for h in self.hosts:
            owners.setdefault(h, f"host {h!r}")
        for name in self.containers_raw:
            path = f"containers.{name}"
            if not naming.DOCKER_NAME.fullmatch(str(name)) or len(str(name)) > naming.MAX_CONTAINER_NAME:
                self.err(path, f"container name {name!r} {DOCKER_NAME_RULE}, "
                               f"at most {naming.MAX_CONTAINER_NAME} characters")
            if name in owners:
                self.err(path, f"name {name!r} is already taken by {owners[name]}; hosts, containers "
                               "and `outside` need distinct names (each gets namespace "
                               f"{naming.netns(self.lab, str(name))!r})")
        if "outside" in self.hosts:
            self.err("hosts.outside", "`outside` is the lab's stand-in internet; choose another host name")

    # ---- containers ------------------------------------------------------------------------
    def read_containers(self) -> dict[str, dict]:
        specs: dict[str, dict] = {}
        only_host = next(iter(self.hosts)) if len(self.hosts) == 1 else None
        for name, spec in self.containers_raw.items():
            path = f"containers.{name}"
            spec = _mapping(spec)
            host = _get(spec, "host", only_host)
            if not isinstance(host, (str, type(None))):
                host = None         # the schema reported the type
            elif host is None:
                if self.hosts:      # none at all is reported once, at `hosts`
                    self.err(path, f"which host? this lab has {len(self.hosts)}: set `host:` to one of "
                                   f"{', '.join(self.hosts)}")
            elif host not in self.hosts:
                self.err(f"{path}.host", f"unknown host {host!r}{self.suggest(host, self.hosts)}")
                host = None
            mode = _get(spec, "network_mode", "bridge")
            shares = None
            if isinstance(mode, str) and mode.startswith("container:"):
                shares = mode.split(":", 1)[1]
                mode = "container"
                if shares not in self.containers_raw:
                    self.err(f"{path}.network_mode", f"unknown container {shares!r}"
                                                     f"{self.suggest(shares, self.containers_raw)}")
                    shares = None
                elif shares == name:
                    self.err(f"{path}.network_mode", "a container cannot share its own namespace")
                    shares = None
            elif not isinstance(mode, str):
                mode = "bridge"     # the schema reported the type
            elif mode not in ("bridge", "host", "none"):
                self.err(f"{path}.network_mode", f"{mode!r} is not a network mode; use bridge, host, "
                                                 "none or container:<name> (user networks go under `networks:`)")
                mode = "bridge"
            nets = self.read_endpoints(spec, path, mode, host)
            if mode == "container":
                for key in ("ports", "hostname", "links", "publish_all"):
                    if spec.get(key):
                        owner = f" ({shares!r})" if shares else ""
                        self.err(f"{path}.{key}", f"`{key}` cannot be combined with `network_mode: "
                                                  f"container:...`; set it on the container that owns "
                                                  f"the namespace{owner}")
            specs[str(name)] = dict(spec=spec, host=host, mode=mode, shares=shares, nets=nets, path=path)
        self.check_sharing(specs)
        self.check_links(specs)
        return specs

    def read_endpoints(self, spec: dict, path: str, mode: str, host) -> list[tuple[str, dict]]:
        raw = spec.get("networks")
        if raw is not None and "network_mode" in spec:
            self.err(f"{path}.networks", "`networks` and `network_mode` cannot be combined; list "
                                         "`bridge` under `networks` to join the default bridge too")
            return []
        if mode != "bridge":
            return []
        if raw is None:
            return [("bridge", {})]
        items = [(n, {}) for n in raw] if isinstance(raw, list) else \
            [(n, _mapping(v)) for n, v in _mapping(raw).items()]
        if not items and isinstance(raw, (list, dict)):
            self.err(f"{path}.networks", "an empty list; leave `networks` out to use the default bridge, "
                                         "or use `network_mode: none`")
        seen = set()
        out = []
        for i, (net, ep) in enumerate(items):
            npath = f"{path}.networks[{i}]" if isinstance(raw, list) else f"{path}.networks.{net}"
            if not isinstance(net, str):
                continue
            if net in seen:
                self.err(npath, f"network {net!r} is listed twice")
                continue
            seen.add(net)
            if net in ("host", "none"):
                self.err(npath, f"{net!r} is a network mode, not a network to join: use `network_mode: {net}`")
                continue
            if net != "bridge" and net not in self.networks:
                self.err(npath, f"unknown network {net!r}{self.suggest(net, list(self.networks) + ['bridge'])}")
                continue
            if net != "bridge" and host is not None:
                hosts = self.networks[net]["hosts"]
                if self.networks[net]["explicit_hosts"] and host not in hosts:
                    self.err(npath, f"network {net!r} does not span host {host!r} (its hosts: {', '.join(hosts)})")
            if net == "bridge":
                for key in ("ipv4_address", "aliases"):
                    if key in ep:
                        what = "user specified IP address" if key == "ipv4_address" else "network-scoped alias"
                        self.err(f"{npath}.{key}", f"{what} is supported only for user-defined networks "
                                                   "(Docker refuses it on the default bridge)")
            elif "ipv4_address" in ep:
                if self.networks[net]["subnet"] is None and self.networks[net]["driver"] != "overlay":
                    self.err(f"{npath}.ipv4_address", "a user specified IP address needs a network with an "
                                                      "explicit `subnet` (Docker 20.10 refuses it otherwise)")
            for j, alias in enumerate(_listing(ep.get("aliases"))):
                if isinstance(alias, str) and not naming.DOCKER_NAME.fullmatch(alias):
                    self.err(f"{npath}.aliases[{j}]", f"alias {alias!r} {DOCKER_NAME_RULE}")
            out.append((net, ep | {"_path": npath}))
        return out

    def check_sharing(self, specs: dict) -> None:
        for name, s in specs.items():
            seen = [name]
            cur = s
            while cur["mode"] == "container" and cur["shares"]:
                nxt = cur["shares"]
                if nxt in seen:
                    cycle = " -> ".join(seen[seen.index(nxt):] + [nxt])
                    self.err(f"{s['path']}.network_mode", f"container: references form a cycle: {cycle}")
                    s["shares"] = None
                    break
                seen.append(nxt)
                cur = specs[nxt]
            if s["mode"] == "container" and s["shares"] and s["host"] and \
                    specs[s["shares"]]["host"] and specs[s["shares"]]["host"] != s["host"]:
                self.err(f"{s['path']}.network_mode", f"{s['shares']!r} runs on host "
                                                      f"{specs[s['shares']]['host']!r}, not {s['host']!r}")

    def check_links(self, specs: dict) -> None:
        for name, s in specs.items():
            for i, link in enumerate(_listing(s["spec"].get("links"))):
                lpath = f"{s['path']}.links[{i}]"
                if not isinstance(link, str):
                    continue
                target, _, alias = link.partition(":")
                if target not in specs:
                    self.err(lpath, f"unknown container {target!r}{self.suggest(target, specs)}")
                    continue
                if alias and not naming.DOCKER_NAME.fullmatch(alias):
                    self.err(lpath, f"alias {alias!r} {DOCKER_NAME_RULE}")
                t = specs[target]
                if t["host"] != s["host"]:
                    self.err(lpath, f"{target!r} runs on another host; links work within one host only")
                elif s["mode"] == "bridge" and "bridge" in dict(s["nets"]) and "bridge" not in dict(t["nets"]):
                    self.err(lpath, f"cannot link to {target!r}: it is not on the default bridge")
                elif target == name:
                    self.err(lpath, "a container cannot link to itself")

    # ---- IPAM ----------------------------------------------------------------------------
    def hosts_of(self, net: str, specs_hosts: dict[str, set]) -> list[str]:
        n = self.networks[net]
        if n["explicit_hosts"]:
            return [h for h in self.hosts if h in n["hosts"]]
        if n["driver"] == "overlay":
            return list(self.hosts)
        used = specs_hosts.get(net, set())
        return [h for h in self.hosts if h in used] or list(self.hosts)

    def allocate_subnets(self) -> dict[str, dict[str, Segment]]:
        users: dict[str, set] = {}
        for name, raw in self.containers_raw.items():
            raw = _mapping(raw)
            nets = raw.get("networks")
            names = nets if isinstance(nets, list) else list(_mapping(nets))
            for n in names:
                if isinstance(n, str):
                    host = _get(raw, "host", next(iter(self.hosts), None))
                    users.setdefault(n, set()).add(host if isinstance(host, str) else None)
        segments: dict[str, dict[str, Segment]] = {h: {} for h in self.hosts}
        overlay_alloc = SubnetAllocator(global_pools(DEFAULT_ENGINE))
        explicit_overlay = [n["subnet"] for n in self.networks.values()
                            if n["driver"] == "overlay" and n["subnet"] is not None]
        for s in explicit_overlay:
            overlay_alloc.claim(s)
        overlay_subnets: dict[str, IPv4Network] = {}
        vni = 4096
        vnis: dict[str, int] = {}
        for net, n in self.networks.items():
            if n["driver"] == "overlay":
                vnis[net] = vni
                vni += 1
                subnet = n["subnet"] or overlay_alloc.auto()
                overlay_subnets[net] = subnet
        for hname, host in self.hosts.items():
            d = host.daemon
            pools = d.default_address_pools or local_pools(host.engine)
            alloc = SubnetAllocator(pools, reserved=(self.underlay.subnet,))
            path = f"hosts.{hname}.daemon"
            owner: dict[IPv4Network, str] = {}
            # explicit subnets first, so automatic ones step around them
            if d.bip is not None:
                bridge_net = d.bip.network
                alloc.claim(bridge_net)
            else:
                bridge_net = alloc.auto()
            if bridge_net is None:
                self.err(path, "no free address pool for the default bridge; set `bip`")
                raise _Stop
            owner[bridge_net] = "the default bridge"
            if bridge_net.overlaps(self.underlay.subnet):
                self.err(f"{path}.bip", f"default bridge subnet {bridge_net} overlaps the underlay "
                                        f"{self.underlay.subnet}")
            mine = [net for net in self.networks if hname in self.hosts_of(net, users)]
            for net in mine:
                n = self.networks[net]
                sub = overlay_subnets.get(net) if n["driver"] == "overlay" else n["subnet"]
                if sub is None or n["driver"] == "overlay" and n["subnet"] is None:
                    continue
                # a macvlan network on the underlay's own subnet is the usual way to put
                # containers on the LAN behind their parent
                on_underlay = sub.overlaps(self.underlay.subnet) and n["driver"] != "macvlan"
                clash = alloc.overlaps(sub) or (sub if on_underlay else None)
                if clash is not None:
                    other = owner.get(clash, f"the underlay {self.underlay.subnet}")
                    self.err(f"networks.{net}.subnet", f"subnet {sub} overlaps {other} ({clash}) on host {hname!r}")
                else:
                    alloc.claim(sub)
                    owner[sub] = f"network {net!r}"
            gw = d.bip.ip if d.bip else first_host(bridge_net)
            segments[hname]["bridge"] = Segment(
                network="bridge", host=hname, driver="bridge", subnet=bridge_net, gateway=gw,
                ip_range=d.fixed_cidr, device="docker0", internal=False, icc=d.icc,
                masquerade=d.ip_masq, mtu=d.mtu, host_binding_ipv4=d.ip, is_default=True,
                network_id=naming.network_id(self.lab, "bridge"))
            for net in mine:
                n = self.networks[net]
                if n["driver"] == "overlay" and naming.GWBRIDGE not in segments[hname] \
                        and naming.GWBRIDGE not in self.networks:
                    # the host joins the swarm before its first overlay network, and joining
                    # makes docker_gwbridge from the next free local pool
                    gwb = alloc.auto()
                    if gwb is None:
                        self.err(f"networks.{net}", f"no free address pool left on host {hname!r} "
                                                    f"for {naming.GWBRIDGE}")
                    else:
                        segments[hname][naming.GWBRIDGE] = gwbridge.segment(self.lab, hname, gwb)
                if n["driver"] == "overlay":
                    sub = overlay_subnets[net]
                    if n["subnet"] is None and sub is not None and alloc.overlaps(sub):
                        self.err(f"networks.{net}", f"automatic overlay subnet {sub} overlaps a local "
                                                    f"network on host {hname!r}; give it a `subnet`")
                else:
                    sub = n["subnet"] or alloc.auto()
                    if n["subnet"] is None and sub is not None:
                        owner[sub] = f"network {net!r}"
                if sub is None:
                    self.err(f"networks.{net}", f"no free address pool left on host {hname!r}; give it a `subnet`")
                    continue
                segments[hname][net] = self.segment(net, n, hname, sub, vnis.get(net, 0))
        return segments

    def segment(self, net: str, n: dict, host: str, subnet: IPv4Network, vni: int) -> Segment:
        o = n["options"]
        mtu_opt = _number(o.get("com.docker.network.driver.mtu", ""))
        default_mtu = self.hosts[host].engine.overlay_mtu if n["driver"] == "overlay" else 1500
        mtu = mtu_opt if mtu_opt is not None else default_mtu
        if n["driver"] == "overlay" and mtu_opt is not None:
            mtu = mtu_opt - 50
        if n["driver"] == "bridge":
            device = o.get("com.docker.network.bridge.name") or naming.user_bridge(self.lab, net)
        elif n["driver"] == "macvlan":
            device = o.get("parent", "eth0")
        else:
            device = "br0"
        hb = o.get("com.docker.network.bridge.host_binding_ipv4")
        host_ipv4 = o.get("com.docker.network.host_ipv4")
        return Segment(
            network=net, host=host, driver=n["driver"], subnet=subnet,
            gateway=n["gateway"] or first_host(subnet), ip_range=n["ip_range"], device=device,
            internal=n["internal"],
            icc=o.get("com.docker.network.bridge.enable_icc", "true") in TRUE,
            masquerade=o.get("com.docker.network.bridge.enable_ip_masquerade", "true") in TRUE,
            mtu=mtu, host_binding_ipv4=IPv4Address(hb) if hb else IPv4Address("0.0.0.0"),
            is_default=False, options=tuple(sorted(o.items())),
            network_id=naming.network_id(self.lab, net), vni=vni,
            macvlan_mode=o.get("macvlan_mode", "bridge") if n["driver"] == "macvlan" else "",
            host_ipv4=IPv4Address(host_ipv4) if host_ipv4 else None)

    def attach(self, specs: dict, segments: dict[str, dict[str, Segment]]) -> list[Container]:
        allocators: dict[tuple, AddressAllocator] = {}

        def allocator(seg: Segment) -> AddressAllocator:
            key = (seg.network,) if seg.driver == "overlay" else (seg.network, seg.host)
            if key not in allocators:
                allocators[key] = AddressAllocator(seg.subnet, seg.ip_range, seg.gateway)
                if seg.driver == "macvlan":
                    for a in macvlan.reserved(self.underlay, list(self.hosts.values())):
                        allocators[key].reserve(a)
            return allocators[key]

        # static addresses are reserved before any automatic one (see README: IPAM)
        static: dict[tuple, str] = {}       # (allocator, address) -> the container that asked
        for name, s in specs.items():
            for net, ep in s["nets"]:
                seg = segments.get(s["host"], {}).get(net)
                a = self.addr(ep.get("ipv4_address"), f"{ep['_path']}.ipv4_address") \
                    if seg is not None and "ipv4_address" in ep else None
                if a is None:
                    continue
                if a not in seg.subnet:
                    self.err(f"{ep['_path']}.ipv4_address", f"{a} is outside the subnet {seg.subnet} of {net!r}; "
                                                           "pick an address inside it")
                elif a in (seg.subnet.network_address, seg.subnet.broadcast_address):
                    self.err(f"{ep['_path']}.ipv4_address", f"{a} is the network or broadcast address of "
                                                           f"the subnet {seg.subnet} of {net!r}; pick another")
                elif not allocator(seg).reserve(a):
                    what = "the gateway" if a == seg.gateway else \
                        f"container {static.get((id(allocator(seg)), a), '?')!r}"
                    self.err(f"{ep['_path']}.ipv4_address", f"{a} is already used by {what} on {net!r}; "
                                                           "pick another")
                else:
                    static[(id(allocator(seg)), a)] = name
        ports = _PortAllocator(self)
        containers = []
        for name, s in specs.items():
            if s["host"] is None:
                continue
            host = self.hosts[s["host"]]
            atts = []
            prefix_n = 0
            for net, ep in s["nets"]:
                seg = segments[s["host"]].get(net)
                if seg is None:
                    continue
                if "ipv4_address" in ep:
                    a = IPv4Address(ep["ipv4_address"]) if self._is_addr(ep["ipv4_address"]) else None
                else:
                    a = allocator(seg).next()
                    if a is None:
                        self.err(ep["_path"], f"network {net!r} has no free address left in "
                                              f"{seg.ip_range or seg.subnet} on host {s['host']!r}")
                if a is None:
                    continue
                prefix = seg.option("com.docker.network.container_iface_prefix", "eth")
                ifname = f"{prefix}{prefix_n}"
                prefix_n += 1
                aliases = tuple(x for x in _listing(ep.get("aliases")) if isinstance(x, str))
                has_gateway = not (seg.driver == "macvlan" and seg.internal) and seg.driver != "overlay"
                atts.append(Attachment(
                    network=net, ifname=ifname, address=IPv4Interface(f"{a}/{seg.subnet.prefixlen}"),
                    gateway=seg.gateway if has_gateway else None, mac=naming.mac_for(a),
                    host_ifname=naming.host_veth(self.lab, name, net), device=seg.device,
                    mtu=seg.mtu, aliases=aliases, driver=seg.driver))
            gwb = segments[s["host"]].get(naming.GWBRIDGE)
            if gwb is not None and gwbridge.needed(atts, segments[s["host"]]):
                a = allocator(gwb).next()
                if a is None:
                    self.err(s["path"], f"{naming.GWBRIDGE} has no free address left on host {s['host']!r}")
                else:
                    atts.append(gwbridge.attachment(self.lab, name, gwb, a, f"eth{prefix_n}"))
            gw = _gateway_endpoint(atts, segments[s["host"]])
            spec = s["spec"]
            cid = naming.container_id(self.lab, name)
            hostname = spec.get("hostname") if isinstance(spec.get("hostname"), str) else cid[:12]
            exposed: list[tuple[int, str]] = []
            for i, e in enumerate(_listing(spec.get("expose"))):
                if not _portlike(e):
                    continue        # the schema reported the type
                try:
                    exposed += parse_expose(e)
                except PortSpecError as err:
                    self.err(f"{s['path']}.expose[{i}]", str(err))
            bindings, exposed = ports.bind(name, s, host, segments[s["host"]].get(gw) if gw else None,
                                           exposed, spec.get("publish_all") is True)
            links = []
            for link in _listing(spec.get("links")):
                if isinstance(link, str) and link.partition(":")[0] in specs:
                    target, _, alias = link.partition(":")
                    links.append(Link(target, alias or target))
            command = spec.get("command") if isinstance(spec.get("command"), str) else None
            containers.append(Container(
                name=name, host=s["host"], mode=s["mode"], netns=self.netns_of(name, specs),
                id=cid, hostname=hostname, attachments=tuple(atts), gateway_network=gw,
                shares=s["shares"], ports=tuple(bindings),
                exposed=tuple(exposed), links=tuple(links), command=command))
        return containers

    @staticmethod
    def _is_addr(value) -> bool:
        try:
            IPv4Address(value)
            return True
        except ValueError:
            return False

    def netns_of(self, name: str, specs: dict) -> str:
        s = specs[name]
        seen = set()
        while s["mode"] == "container" and s["shares"] and name not in seen:
            seen.add(name)
            name = s["shares"]
            s = specs[name]
        if s["mode"] == "host":
            return self.hosts[s["host"]].netns if s["host"] else ""
        return naming.netns(self.lab, name)

    # ---- expect ---------------------------------------------------------------------------
    def read_expect(self, containers: list[Container]) -> list[Expectation]:
        names = {c.name for c in containers} | set(self.hosts) | {"outside"}
        out = []
        for i, e in enumerate(_listing(self.data.get("expect"))):
            path = f"expect[{i}]"
            e = _mapping(e)
            src, dst = e.get("from"), e.get("to")
            for key, value in (("from", src), ("to", dst)):
                if value is None:
                    self.err(path, f"missing `{key}`: each expectation needs `from` and `to` (a container, "
                                   "a host or `outside`; `to` may also be an address or HOST:PORT)")
            if isinstance(src, str) and src not in names:
                self.err(f"{path}.from", f"unknown container, host or outside {src!r}{self.suggest(src, names)}")
            proto = _get(e, "proto", "icmp")
            if isinstance(proto, str) and proto not in ("icmp", "tcp", "udp"):
                self.err(f"{path}.proto", f"protocol {proto!r} is not one of icmp, tcp, udp")
            port = e.get("port")
            if isinstance(port, int) and not 1 <= port <= 65535:
                self.err(f"{path}.port", f"port {port} is out of range 1-65535")
            if isinstance(dst, str):
                target, sep, p = dst.rpartition(":") if ":" in dst else (dst, "", "")
                if sep:
                    number = _number(p)
                    if number is None or not 1 <= number <= 65535:
                        self.err(f"{path}.to", f"port {p!r} in {dst!r} is not a number from 1 to 65535")
                    elif proto == "icmp" and "proto" not in e:
                        proto = "tcp"
                    if port is None and number is not None:
                        port = number
                if target not in names and not self._is_addr(target):
                    self.err(f"{path}.to", f"{target!r} is not a container, a host, `outside` or an "
                                           f"IPv4 address{self.suggest(target, names)}")
            if proto in ("tcp", "udp") and port is None:
                self.err(path, f"a {proto} expectation needs a port: `to: NAME:PORT` or `port:`")
            if isinstance(src, str) and isinstance(dst, str):
                out.append(Expectation(src, dst.rsplit(":", 1)[0] if ":" in dst else dst,
                                       e.get("ok", True) is not False, proto,
                                       port if isinstance(port, int) else None, self.src.line(path)))
        return out


def _gateway_endpoint(atts: list[Attachment], segs: dict[str, Segment]) -> str | None:
    """libnetwork's (*endpoint).Less: docker_gwbridge last, non-internal first, then by network name."""
    ranked = sorted(atts, key=lambda a: (a.network == naming.GWBRIDGE, segs[a.network].internal, a.network))
    return next((a.network for a in ranked if a.gateway is not None), None)


class _PortAllocator:
    """Host ports of one lab: explicit bindings checked for clashes, ephemeral ones handed out
    from the start of ip_local_port_range per (host, host IP, protocol), as portallocator does."""

    def __init__(self, r: _Resolver):
        self.r = r
        self.owner: dict[tuple, str] = {}
        # (host, port, proto) -> host IPs bound: 0.0.0.0 clashes with every IP, and a scan of
        # `owner` per lookup made 10,000 published ports take minutes
        self.ips: dict[tuple, list[IPv4Address]] = {}
        self.last: dict[tuple, int] = {}
        self.full: set[tuple] = set()       # (host, ip, proto) with no ephemeral port left
        self.failed: set = set()            # what was reported already: one error per spec

    def taken(self, host: str, ip: IPv4Address, port: int, proto: str) -> str | None:
        ips = self.ips.get((host, port, proto))
        if not ips:
            return None
        for other in (ip, ANY) if ip != ANY else ips[:1]:
            if (host, other, port, proto) in self.owner:
                return self.owner[(host, other, port, proto)]
        return None

    def bind(self, name: str, s: dict, host: Host, seg: Segment | None, exposed,
             publish_all) -> tuple[list[PortBinding], list[tuple[int, str]]]:
        """The container's bindings and exposed ports, both in the order dockerd processes
        them (ports.daemon_order): ephemeral host ports are handed out in that order."""
        wanted = []     # ((port, proto), host port as requested, (path, ip, host ports to try))
        for i, spec in enumerate(_listing(s["spec"].get("ports"))):
            path = f"{s['path']}.ports[{i}]"
            if not _portlike(spec):
                continue            # the schema reported the type
            try:
                req = parse_port(spec)
            except PortSpecError as e:
                self.r.err(path, str(e))
                continue
            ip = req.host_ip or (seg.host_binding_ipv4 if seg else None)
            cports = range(req.container_range[0], req.container_range[1] + 1)
            if req.host_range is None:
                wanted += [((cp, req.proto), 0, (path, ip, None)) for cp in cports]
            elif len(cports) == 1:
                lo, hi = req.host_range
                wanted.append(((cports[0], req.proto), lo, (path, ip, range(lo, hi + 1))))
            else:
                wanted += [((cp, req.proto), hp, (path, ip, range(hp, hp + 1)))
                           for hp, cp in zip(range(req.host_range[0], req.host_range[1] + 1), cports)]
        order = daemon_order(exposed, wanted)
        out: list[PortBinding] = []
        if seg is None or seg.internal or seg.driver != "bridge" and seg.driver != "overlay":
            return out, [port for port, _ in order]   # no gateway endpoint, or an internal one: Docker maps nothing
        for (cp, proto), requested in order:
            if not requested and publish_all:
                requested = [(None, seg.host_binding_ipv4, None)]
            for path, ip, tries in requested:
                b = self.allocate(name, host, path, ip, tries, cp, proto)
                if b is not None:
                    out.append(b)
        return out, [port for port, _ in order]

    def allocate(self, name: str, host: Host, path, ip, tries, cp: int, proto: str) -> PortBinding | None:
        if path in self.failed:
            return None             # reported once; the rest of a failed range adds nothing
        if tries is None:
            return PortBinding(ip, self.ephemeral(host.name, ip, proto, name), cp, proto)
        if len(tries) > 1:
            free = next((p for p in tries if not self.taken(host.name, ip, p, proto)), None)
            if free is None:
                self.r.err(path, f"every host port in {tries[0]}-{tries[-1]}/{proto} "
                                 f"on {ip} is already allocated; widen the range")
                return None
            tries = range(free, free + 1)
        who = self.taken(host.name, ip, tries[0], proto)
        if who:
            if path not in self.failed:
                self.failed.add(path)
                self.r.err(path, f"Bind for {ip}:{tries[0]}/{proto} failed: port is already "
                                 f"allocated to {who} on host {host.name!r}; publish another host port")
            return None
        self.claim(host.name, ip, tries[0], proto, f"container {name!r} ({path})")
        return PortBinding(ip, tries[0], cp, proto)

    def claim(self, host: str, ip, port: int, proto: str, who: str) -> None:
        self.owner[(host, ip, port, proto)] = who
        self.ips.setdefault((host, port, proto), []).append(ip)

    def ephemeral(self, host: str, ip, proto: str, who: str) -> int:
        key = (host, ip, proto)
        lo, hi = EPHEMERAL
        if key not in self.full:   # nothing is freed while loading: once full, always full
            start = self.last.get(key, lo - 1) + 1
            for step in range(hi - lo + 1):
                p = lo + (start - lo + step) % (hi - lo + 1)
                if not self.taken(host, ip, p, proto):
                    self.last[key] = p
                    self.claim(host, ip, p, proto, f"container {who!r}")
                    return p
            self.full.add(key)
        if (key, who) not in self.failed:
            self.failed.add((key, who))
            self.r.err(f"containers.{who}", f"no ephemeral host port left on {ip}/{proto} "
                                            f"(range {lo}-{hi} on host {host!r}); publish fewer ports")
        return 0
