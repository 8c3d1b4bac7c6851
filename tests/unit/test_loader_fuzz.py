"""Fuzzing the pure loader: whatever the bytes, `load_text` returns a Topology or raises a
TopologyError whose every diagnostic has a line and a message, and never anything else.

NETLAB_FUZZ_EXAMPLES sets the number of examples (500 by default, about half a minute on
two cores); a bench run can ask for 20000."""
from __future__ import annotations

import copy
import os

import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from netlab.errors import TopologyError
from netlab.model import Topology, load_text, source
from netlab.model.context import Context, Stop
from netlab.model.resolve import run
from netlab.model.schema import check_shape
from netlab.model.source import parse_text

EXAMPLES = int(os.environ.get("NETLAB_FUZZ_EXAMPLES", "500"))
# `make test` runs the same 500 examples each time, so a red run is reproducible and CI does
# not turn red by chance; a long run (bench/fuzz.py sets NETLAB_FUZZ_EXAMPLES) explores anew
EXPLORE = "NETLAB_FUZZ_EXAMPLES" in os.environ

FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not EXPLORE,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.large_base_example])

# Valid labs that between them use every key of the schema: the seeds the mutations start from.
BASES = [
    {"name": "demo", "outside": {"addresses": ["203.0.113.10"]},
     "networks": {"mynet": {"subnet": "192.168.0.0/16", "gateway": "192.168.0.1"}},
     "containers": {"web": {"ports": ["8080:80"], "command": "python3 -m http.server 80"},
                    "a1": {"networks": ["mynet"]}, "a2": {"networks": ["mynet"]}, "solo": {}},
     "expect": [{"from": "a1", "to": "a2", "ok": True},
                {"from": "outside", "to": "node1:8080", "proto": "tcp", "ok": True}]},
    {"name": "multi", "underlay": {"subnet": "10.10.101.0/24", "gateway": "10.10.101.254", "mtu": 1500},
     "hosts": {"node1": {"address": "10.10.101.105",
                         "daemon": {"bip": "172.30.0.1/16", "fixed-cidr": "172.30.5.0/24", "icc": False,
                                    "ip-masq": True, "iptables": True, "ip-forward": True,
                                    "userland-proxy": False, "mtu": 1400, "ip": "127.0.0.1",
                                    "default-address-pools": [{"base": "10.200.0.0/16", "size": 24}],
                                    "dns": ["192.0.2.53"], "dns-search": ["lab"], "dns-opts": ["ndots:1"]}},
               "node2": {"address": "10.10.101.106"}},
     "networks": {"ov": {"driver": "overlay", "hosts": ["node1", "node2"]},
                  "mv": {"driver": "macvlan", "subnet": "10.10.101.0/24", "gateway": "10.10.101.254",
                         "ip_range": "10.10.101.128/26",
                         "driver_opts": {"parent": "eth0", "macvlan_mode": "bridge"}},
                  "br": {"subnet": "10.1.0.0/24", "ip_range": "10.1.0.128/25", "internal": True,
                         "driver_opts": {"com.docker.network.bridge.name": "br-lab",
                                         "com.docker.network.bridge.enable_icc": "false",
                                         "com.docker.network.driver.mtu": "1400",
                                         "com.docker.network.container_iface_prefix": "net"}}},
     "containers": {"a": {"host": "node1", "networks": {"ov": {"aliases": ["alpha"]},
                                                        "br": {"ipv4_address": "10.1.0.10"}}},
                    "b": {"host": "node2", "networks": ["ov"], "ports": ["127.0.0.1::53/udp", "9000-9002:9000-9002"],
                          "publish_all": True, "expose": [81, "82/udp"], "hostname": "bee"},
                    "c": {"host": "node1", "network_mode": "container:a"},
                    "d": {"host": "node1", "links": ["e:db"]},
                    "e": {"host": "node1", "network_mode": "bridge"},
                    "h": {"host": "node2", "network_mode": "host"},
                    "n": {"host": "node2", "network_mode": "none"}},
     "expect": [{"from": "a", "to": "b", "ok": True}, {"from": "d", "to": "10.10.101.106", "port": 9000,
                                                        "proto": "udp", "ok": False}]},
    {"name": "dual", "engine": "28.5",
     "hosts": {"node1": {"daemon": {"ipv6": True, "fixed-cidr-v6": "2001:db8:1::/64", "ip6tables": True,
                                    "default-address-pools": [{"base": "10.201.0.0/16", "size": 24},
                                                              {"base": "fd00:ab::/48", "size": 64}]}}},
     "networks": {"d6": {"enable_ipv6": True, "ipam": {"config": [
                      {"subnet": "172.31.0.0/24", "gateway": "172.31.0.1"},
                      {"subnet": "2001:db8:2::/64", "gateway": "2001:db8:2::1", "ip_range": "2001:db8:2::/80"}]}},
                  "auto6": {"enable_ipv6": True}},
     "containers": {"a": {"networks": {"d6": {"ipv4_address": "172.31.0.9", "ipv6_address": "2001:db8:2::9"},
                                       "auto6": None}},
                    "b": {"networks": ["d6"]}, "c": {}},
     "expect": [{"from": "a", "to": "b", "ok": True}]},
]

# what a name or value may turn into: shell metacharacters, unicode, YAML look-alikes
NASTY = st.sampled_from([
    "", " ", "-", "a b", "$(reboot)", "`id`", "a;rm -rf /", "x|y", "a&&b", "<x>", "'", '"', "\\",
    "\n", "\t", "*", "?", "~", "!", "#", "%", "@", "a:b", "container:", "container:a", "a/b", "..",
    "é", "名前", "ﬁ", "\u200b", "\U0001f600", "Ａ", "²", "٣", "null", "~", "yes", "on", "0x1F", "1e3",
    "22:22", "0b_", "._", "2001-13-45", "2001-01-01", "00080", "9" * 30, "a" * 300, "<<", "&a", "*a",
    "eth0", "docker0", "lo", "bridge", "host", "none", "outside", "node1",
])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                    st.text(max_size=30), NASTY)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.one_of(st.text(max_size=8), NASTY),
                                                                       inner, max_size=4)),
                      max_leaves=12)


def _paths(node, prefix=()):
    """Every (path to a container, key) in a document of dicts and lists."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((prefix, k))
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((prefix, i))
            out += _paths(v, prefix + (i,))
    return out


def _at(doc, path):
    for k in path:
        doc = doc[k]
    return doc


@st.composite
def mutated(draw):
    """A valid lab with keys dropped, renamed, added or retyped, then dumped as YAML and
    possibly damaged as text (lines doubled, so keys appear twice; lines cut; bytes spliced)."""
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 6))):
        paths = _paths(doc)
        if not paths:
            break
        parent_path, key = draw(st.sampled_from(paths))
        parent = _at(doc, parent_path)
        op = draw(st.sampled_from(["drop", "retype", "rename", "add", "name"]))
        if op == "drop":
            del parent[key]
        elif op == "retype":
            parent[key] = draw(VALUES)
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.one_of(NASTY, st.text(max_size=12)))] = parent.pop(key)
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.one_of(NASTY, st.text(max_size=12)))] = draw(VALUES)
        elif op == "name":
            parent[key] = draw(NASTY)
    text = yaml.safe_dump(doc, default_flow_style=draw(st.sampled_from([False, None, True])),
                          allow_unicode=draw(st.booleans()), sort_keys=False, width=10**6)
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["double", "cut", "splice"]))
        if op == "double":
            lines.insert(i, lines[i])
        elif op == "cut":
            del lines[i]
        else:
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.one_of(NASTY, st.text(max_size=5))) + lines[i][j:]
    return "".join(lines)


@st.composite
def deep(draw):
    n = draw(st.integers(1, 3000))
    kind = draw(st.sampled_from(["flow-list", "flow-map", "block", "alias", "merge"]))
    if kind == "flow-list":
        return "name: deep\ncontainers: " + "[" * n + "]" * n + "\n"
    if kind == "flow-map":
        return "name: deep\ncontainers: " + "{a: " * n + "1" + "}" * n + "\n"
    if kind == "block":
        return "name: deep\nhosts:\n" + "".join("  " * (i + 1) + "a:\n" for i in range(min(n, 400)))
    if kind == "alias":   # the billion laughs: each level refers to the previous one k times
        k, levels = draw(st.integers(2, 10)), draw(st.integers(1, 12))
        lines = ["name: lol", 'l0: &l0 ["lol"]']
        lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * k) + "]" for i in range(1, levels + 1)]
        return "\n".join(lines) + "\n"
    k, levels = draw(st.integers(2, 10)), draw(st.integers(1, 12))
    lines = ["name: merge", "b0: &b0 {x: 1}"]
    lines += [f"b{i}: &b{i} {{<<: [" + ", ".join([f"*b{i - 1}"] * k) + "]}" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


PORT = st.integers(-5, 70000)


@st.composite
def port_spec(draw):
    a, c = draw(PORT), draw(PORT)
    # ranges mostly short (reversed, off by one, ...); HUGE below brings the long ones
    b, d = (x + draw(st.sampled_from([0, 1, 2, 20, -1, -30, 70000])) for x in (a, c))
    proto = draw(st.sampled_from(["", "/tcp", "/udp", "/sctp", "/icmp", "/TCP", "/"]))
    ip = draw(st.sampled_from(["", "127.0.0.1:", "0.0.0.0:", "10.10.101.105:", "999.0.0.1:"]))
    return draw(st.sampled_from([
        f"{a}", f"{a}-{b}", f"{a}:{c}", f"{a}-{b}:{c}-{d}", f"{a}-{b}:{c}", f"{ip}{a}:{c}{proto}",
        f"{ip}:{c}{proto}", f"{a}{proto}", f"{a}-{b}:{c}-{d}{proto}",
    ]))


# whole-range specs: 65,535 bindings take about a second, so one now and then
HUGE = st.sampled_from(["1-65535", "1-65535:1-65535", "32768-60999", "1-65535:80", "1024-65535/udp"])


@st.composite
def many_ports(draw):
    n = draw(st.integers(1, 40))
    containers = {}
    for i in range(n):
        c = {"ports": draw(st.lists(port_spec(), max_size=4))}
        if draw(st.booleans()):
            c["expose"] = draw(st.lists(st.one_of(port_spec(), PORT), max_size=3))
            c["publish_all"] = True
        containers[f"c{i}"] = c
    if draw(st.integers(0, 15)) == 0:
        c = containers[f"c{draw(st.integers(0, n - 1))}"]
        c.setdefault(draw(st.sampled_from(["ports", "expose"])), []).append(draw(HUGE))
        c["publish_all"] = draw(st.booleans())
    return yaml.safe_dump({"name": "ports", "containers": containers})


@st.composite
def many_containers(draw):
    n = draw(st.sampled_from([50, 200, 1000, 2000]))
    nets = draw(st.integers(0, 40))
    rnd = draw(st.randoms(use_true_random=False))   # one draw per lab, not one per container
    lines = ["name: many", "networks:"] + [f"  n{j}: {{}}" for j in range(nets)] + ["containers:"]
    for i in range(n):
        kind = rnd.choice(["plain", "net", "share", "ports", "bad"]) if i < 200 else "plain"
        if kind == "net" and nets:
            lines.append(f"  c{i}: {{networks: [n{i % nets}]}}")
        elif kind == "share" and i:
            lines.append(f"  c{i}: {{network_mode: 'container:c{rnd.randrange(i)}'}}")
        elif kind == "ports":
            lines.append(f"  c{i}: {{ports: ['{8000 + i}:80', '80']}}")
        elif kind == "bad":
            lines.append(f"  c{i}: {{networks: [nope{i}], links: [x{i}]}}")
        else:
            lines.append(f"  c{i}: {{}}")
    return "\n".join(lines) + "\n"


# addresses as a user might write them in an IPv6 key: right, of the other family, cut short,
# out of range, with odd prefixes
V6ADDR = st.one_of(st.ip_addresses(v=6).map(str), st.ip_addresses(v=4).map(str),
                   st.sampled_from(["::", "::1", "fe80::1%eth0", "2001:db8::g", "2001:db8:::1", "[2001:db8::1]",
                                    "2001:db8:2::", "2001:db8:2::ffff", "::ffff:10.0.0.1", "fd00::/8", ""]))
V6NET = st.one_of(st.builds(lambda a, n: f"{a}/{n}", V6ADDR, st.integers(-1, 140)), V6ADDR,
                  st.sampled_from(["2001:db8:2::/64", "2001:db8::/32", "::/0", "fd00::/8", "2001:db8:2::1/64"]),
                  st.builds(lambda x, n: f"2001:db8:{x:x}::/{n}", st.integers(0, 0xffff), st.sampled_from([
                      48, 64, 64, 80, 96, 120, 126, 127, 128])))


@st.composite
def ipv6_lab(draw):
    """Dual-stack labs built from fuzzed IPv6 values: each key gets one of them or nothing."""
    def maybe(strategy):
        return draw(st.one_of(st.none(), strategy))
    daemon = {k: v for k, v in (("ipv6", maybe(st.booleans())), ("fixed-cidr-v6", maybe(V6NET))) if v is not None}
    pools = draw(st.lists(st.fixed_dictionaries({"base": V6NET, "size": st.integers(0, 130)}), max_size=2))
    if pools:
        daemon["default-address-pools"] = pools
    networks = {}
    for i in range(draw(st.integers(1, 4))):
        entries = draw(st.lists(st.one_of(
            st.fixed_dictionaries({"subnet": V6NET}, optional={"gateway": V6ADDR, "ip_range": V6NET}),
            st.fixed_dictionaries({}, optional={"subnet": V6NET, "gateway": V6ADDR, "ip_range": V6NET})),
            max_size=2))
        net = {"enable_ipv6": draw(st.sampled_from([True, True, True, False]))}
        if entries:
            net["ipam"] = {"config": entries}
        if draw(st.booleans()):
            net["driver"] = draw(st.sampled_from(["bridge", "macvlan", "overlay"]))
        networks[f"n{i}"] = net
    containers = {f"c{j}": {"networks": {n: ({"ipv6_address": draw(V6ADDR)} if draw(st.booleans()) else None)
                                          for n in draw(st.lists(st.sampled_from([*networks, "bridge"]),
                                                                 min_size=1, max_size=3, unique=True))}}
                  for j in range(draw(st.integers(0, 4)))}
    doc = {"name": "v6", "engine": draw(st.sampled_from(["28.5", "29.7", "20.10", "26.1"])),
           "hosts": {"node1": {"daemon": daemon}, **({"node2": None} if draw(st.integers(0, 5)) == 5 else {})},
           "networks": networks, "containers": containers}
    return yaml.safe_dump(doc, sort_keys=False)


TEXTS = st.one_of(
    mutated(), mutated(), mutated(), mutated(), ipv6_lab(), ipv6_lab(),
    deep(), many_ports(), many_containers(),
    st.binary(max_size=300),
    st.text(max_size=300),
    st.text(alphabet="{}[]:,-&*!|>'\"%@`#? \n\tabc019", max_size=200),
)


def check(text: str | bytes) -> Topology | TopologyError:
    try:
        topo = load_text(text, "fuzz.yaml")
    except TopologyError as e:
        assert e.diagnostics, "a TopologyError with nothing in it"
        for d in e.diagnostics:
            assert isinstance(d.line, int) and d.line >= 1, f"no line: {d}"
            assert d.message.strip(), f"no message: {d}"
            assert "\n" not in d.message, f"a message over several lines: {d}"
        return e
    assert isinstance(topo, Topology)
    return topo


def check_resolver_survives(text: str | bytes) -> None:
    """Stricter than the contract: even with shape errors, the semantic pass must not crash.
    `resolve` hides such a crash behind the shape errors, but the errors the pass would have
    found after it are then lost, and every error of a file is to be reported at once."""
    try:
        src = parse_text(text, "fuzz.yaml")
    except TopologyError:
        return
    if not isinstance(src.data, dict) or not (src.problems or check_shape(src)):
        return                  # without shape errors, load_text already let a crash through
    try:
        run(Context(src))
    except Stop:
        pass


def check_fast_yaml_agrees(text: str | bytes) -> None:
    """libyaml's parser is used when it succeeds: what it composes must be what PyYAML's pure
    loader composes (same tags, values and lines), or files would mean different things.
    (libyaml accepts a little more, such as a tab after a value; then there is nothing to compare.)"""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return
    if not source.fits_fast_path(text):
        return
    try:
        fast = yaml.compose(text, Loader=source._FastLoader)
    except Exception:           # noqa: BLE001 -- the pure loader takes over then
        return
    try:
        pure = yaml.compose(text, Loader=source._Loader)
    except Exception:           # noqa: BLE001
        return
    assert same_tree(fast, pure)


def same_tree(a, b) -> bool:
    """Node by node; an alias shares its node, so each pair is compared once (an alias bomb
    is a small graph but an exponential tree)."""
    todo, done = [(a, b)], set()
    while todo:
        x, y = todo.pop()
        if (id(x), id(y)) in done:
            continue
        done.add((id(x), id(y)))
        if x is None or y is None:
            if x is not y:
                return False
            continue
        if type(x) is not type(y) or x.tag != y.tag:
            return False
        # an empty value after an explicit `?` key is placed on the next token's line by
        # libyaml and on the key's by PyYAML: the one place their lines may differ
        if x.start_mark.line != y.start_mark.line and not (isinstance(x, yaml.ScalarNode) and x.value == ""):
            return False
        if isinstance(x, yaml.ScalarNode):
            if x.value != y.value:
                return False
            continue
        if len(x.value) != len(y.value):
            return False
        if isinstance(x, yaml.MappingNode):
            todo += [pair for (k1, v1), (k2, v2) in zip(x.value, y.value) for pair in ((k1, k2), (v1, v2))]
        else:
            todo += list(zip(x.value, y.value))
    return True


def _never_crashes(text):
    check(text)
    check_resolver_survives(text)
    check_fast_yaml_agrees(text)


# The examples are run as CHUNKS tests of their own, each from its own fixed seed, so that
# pytest-xdist spreads them over its workers instead of one worker taking minutes.
CHUNKS = 4
CHUNK = settings(FUZZ, max_examples=max(1, EXAMPLES // CHUNKS), derandomize=False)


def _chunk(n: int):
    test = CHUNK(given(TEXTS)(_never_crashes))
    return test if EXPLORE else seed(n)(test)


test_loader_never_crashes_0 = _chunk(0)
test_loader_never_crashes_1 = _chunk(1)
test_loader_never_crashes_2 = _chunk(2)
test_loader_never_crashes_3 = _chunk(3)


def test_fast_yaml_agrees_on_the_example_labs():
    examples = [os.path.join(root, f) for top in ("topologies", "notebooks", "tests")
                for root, _, files in os.walk(os.path.join(os.path.dirname(__file__), "..", "..", top))
                for f in files if f.endswith(".yaml")]
    assert len(examples) > 20
    for path in examples:
        with open(path, "rb") as f:
            check_fast_yaml_agrees(f.read())


def test_the_dual_stack_base_is_valid():
    topo = load_text(yaml.safe_dump(BASES[2], sort_keys=False))
    assert topo.container("a").attachment("d6").address6 is not None


def test_ten_thousand_containers_load():
    # how the time scales with N is measured by bench/load.py, not asserted here
    lines = ["name: big", "networks:", "  n1: {subnet: 10.128.0.0/16}", "containers:"]
    for i in range(10_000):
        lines.append(f"  c{i}: {{networks: [n1], ports: ['{10000 + i}:80', '80']}}" if i % 2 else f"  c{i}: {{}}")
    topo = load_text("\n".join(lines) + "\n", "big.yaml")
    assert len(topo.containers) == 10_000
    assert topo.container("c9999").attachment("n1").address.ip.exploded == "10.128.19.137"


def test_ten_thousand_bad_references_are_all_reported():
    lines = ["name: big", "containers:"]
    lines += [f"  c{i}: {{networks: [nope], links: [x{i}]}}" for i in range(10_000)]
    with pytest.raises(TopologyError) as err:
        load_text("\n".join(lines) + "\n", "big.yaml")
    assert len(err.value.diagnostics) == 20_000


def test_exhausted_address_pools_are_each_reported():
    # every automatic subnet would overlap `big`: each of 200 networks is told so, without
    # each one scanning the pool's 65,536 candidates again
    text = ("name: pools\nhosts:\n  node1:\n    daemon:\n"
            "      bip: 172.17.0.1/16\n      default-address-pools: [{base: 11.0.0.0/8, size: 24}]\n"
            "networks:\n  big: {subnet: 11.0.0.0/8}\n" + "".join(f"  n{i}: {{}}\n" for i in range(200)))
    with pytest.raises(TopologyError) as err:
        load_text(text, "pools.yaml")
    assert len(err.value.diagnostics) == 200
    assert "no free address pool left" in err.value.diagnostics[0].message
