"""Fuzzing the Compose path: Compose files mutated over the specification's own keys (every
key the schema gives a service, a network, an endpoint or a port, with values of any shape)
and damaged as text. Whatever comes in, loading returns a lab or raises a TopologyError whose
every diagnostic has a line and a message: never a traceback.

NETLAB_FUZZ_EXAMPLES sets the number of examples (300 by default), as for the lab loader."""
from __future__ import annotations

import copy
import json
import os

import yaml
from compose_files import MACVLAN, NGINX_FLASK_MYSQL, REPLICAS, WORDPRESS_MYSQL
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from netlab.compose import load_source
from netlab.compose.load import load_compose
from netlab.compose.validate import SCHEMA
from netlab.errors import TopologyError
from netlab.model.source import parse_text

EXAMPLES = int(os.environ.get("NETLAB_FUZZ_EXAMPLES", "300"))
EXPLORE = "NETLAB_FUZZ_EXAMPLES" in os.environ
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not EXPLORE,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.large_base_example])

BASES = [yaml.safe_load(t) for t in (NGINX_FLASK_MYSQL, WORDPRESS_MYSQL, MACVLAN, REPLICAS)]
_SPEC = json.loads(SCHEMA.read_text())
_DEFS = _SPEC["definitions"]
SERVICE_KEYS = sorted(_DEFS["service"]["properties"])
NETWORK_KEYS = sorted(_DEFS["network"]["properties"])
ENDPOINT_KEYS = ["aliases", "ipv4_address", "ipv6_address", "priority", "mac_address", "interface_name"]
PORT_KEYS = ["target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"]

NASTY = st.sampled_from([
    "", " ", "-", "a b", "$(reboot)", "a;rm -rf /", "service:", "service:db", "service:ghost", "container:",
    "container:demo-db-1", "host", "none", "bridge", "default", "db", "backend", "frontnet", "é", "名前",
    "\u200b", "null", "yes", "22:22", "8080:80", "127.0.0.1:53:53/udp", "[::1]:80:80", "1-65535",
    "10.0.0.1/24", "172.28.0.0/24", "10.10.101.50", "macvlan", "overlay", "weave", "eth0", "a" * 300,
    "9" * 30, "x-netlab", "0", "-1", "3", "999",
    "${", "${X", "${X:?gone}", "${X:-8080}:80", "$$", "$X", "${1}", "${X:-${Y:-${Z}}}", "${X+}",
])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False),
                    st.text(max_size=20), NASTY)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.one_of(st.text(max_size=8), NASTY),
                                                                       inner, max_size=4)),
                      max_leaves=10)


@st.composite
def mutated(draw):
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    services = doc.setdefault("services", {})
    networks = doc.get("networks") if isinstance(doc.get("networks"), dict) else {}
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["service", "network", "endpoint", "port", "drop", "top", "xnetlab"]))
        svc = draw(st.sampled_from(sorted(services))) if services else None
        if op == "service" and svc:
            services[svc] = services[svc] if isinstance(services[svc], dict) else {}
            services[svc][draw(st.sampled_from(SERVICE_KEYS))] = draw(VALUES)
        elif op == "network" and networks:
            net = draw(st.sampled_from(sorted(networks)))
            networks[net] = networks[net] if isinstance(networks[net], dict) else {}
            networks[net][draw(st.sampled_from(NETWORK_KEYS))] = draw(VALUES)
        elif op == "endpoint" and svc and networks:
            net = draw(st.sampled_from(sorted(networks)))
            spec = services[svc] if isinstance(services[svc], dict) else {}
            spec["networks"] = {net: {draw(st.sampled_from(ENDPOINT_KEYS)): draw(VALUES)}}
            services[svc] = spec
        elif op == "port" and svc and isinstance(services[svc], dict):
            services[svc]["ports"] = [{k: draw(VALUES) for k in draw(st.lists(st.sampled_from(PORT_KEYS),
                                                                              max_size=4))}]
        elif op == "drop" and svc:
            del services[svc]
        elif op == "top":
            doc[draw(st.sampled_from(["name", "networks", "services", "version", "volumes", "include"]))] = \
                draw(VALUES)
        elif op == "xnetlab":
            doc["x-netlab"] = {draw(st.sampled_from(["engine", "hosts", "outside", "underlay", "expect", "bogus"])):
                               draw(VALUES)}
    text = yaml.safe_dump(doc, default_flow_style=draw(st.sampled_from([False, None])),
                          allow_unicode=draw(st.booleans()), sort_keys=False, width=10**6)
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 2))):
        if lines:
            i = draw(st.integers(0, len(lines) - 1))
            if draw(st.booleans()):
                lines.insert(i, lines[i])
            else:
                del lines[i]
    return "".join(lines)


def _never_crashes(text):
    try:
        src = parse_text(text, "/srv/fuzz/compose.yaml")
    except TopologyError as e:
        assert e.diagnostics
        return
    try:
        lab = load_source(src, env={})
    except TopologyError as e:
        assert e.diagnostics
        for d in e.diagnostics:
            assert d.line >= 1 and d.message and d.file == "/srv/fuzz/compose.yaml", d
        return
    assert lab.topology.containers is not None


CHUNKS = 4
CHUNK = settings(FUZZ, max_examples=max(1, EXAMPLES // CHUNKS), derandomize=False)


def _chunk(n: int):
    test = CHUNK(given(mutated())(_never_crashes))
    return test if EXPLORE else seed(n)(test)


test_compose_never_crashes_0 = _chunk(0)
test_compose_never_crashes_1 = _chunk(1)
test_compose_never_crashes_2 = _chunk(2)
test_compose_never_crashes_3 = _chunk(3)


def test_the_bases_load():
    for base in BASES:
        _never_crashes(yaml.safe_dump(base))
        assert load_source(parse_text(yaml.safe_dump(base), "/srv/fuzz/compose.yaml"), env={}).topology.containers


def _merged_never_crash(first, second):
    """Two mutated files merged (`-f A -f B`): a lab, or located errors naming one of them."""
    try:
        a, b = parse_text(first, "/srv/fuzz/a.yaml"), parse_text(second, "/srv/fuzz/b.yaml")
    except TopologyError:
        return
    if not (isinstance(a.data, dict) and "services" in a.data and isinstance(b.data, dict) and "services" in b.data):
        return
    try:
        load_compose(a, env={}, others=[b])
    except TopologyError as e:
        assert e.diagnostics
        for d in e.diagnostics:
            assert d.line >= 1 and d.message and d.file in ("/srv/fuzz/a.yaml", "/srv/fuzz/b.yaml"), d


_MERGED = settings(FUZZ, max_examples=max(1, EXAMPLES // 4), derandomize=False)
test_merged_files_never_crash = _MERGED(given(mutated(), mutated())(_merged_never_crash))
if not EXPLORE:
    test_merged_files_never_crash = seed(4)(test_merged_files_never_crash)
