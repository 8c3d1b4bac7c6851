"""The embedded DNS of a container on internal networks only (measured on real 20.10, 26.1
and 28.5 engines: an unknown name from such a container is SERVFAIL at once on 26.1 and 28.5,
forwarded on 20.10): from 26.0 nothing is forwarded from the host's namespace for it."""
from __future__ import annotations

import pytest

from netlab.model import load_text
from netlab.plan.dns import external_access, upstreams

LAB = """
name: dint
{engine}
hosts:
  node1: {{daemon: {{dns: {dns}}}}}
networks:
  priv: {{internal: true}}
  pub: {{}}
containers:
  db: {{networks: [priv]}}
  app: {{networks: [priv, pub]}}
  web: {{networks: [pub]}}
"""


def lab(engine: str, dns: str = "[]"):
    return load_text(LAB.format(engine=f'engine: "{engine}"', dns=dns))


@pytest.mark.parametrize("engine", ["28.5", "29.7", "29.7-nftables"])
def test_internal_only_gets_no_upstream_from_the_host(engine):
    # from 28.0 the host's own servers are asked from the host's namespace: none is left
    topo = lab(engine)
    assert upstreams(topo, topo.container("db")) == ()
    for name in ("app", "web"):      # one endpoint outside the internal network is enough
        assert upstreams(topo, topo.container(name)) == (("203.0.113.53", topo.hosts[0].netns),)


def test_26_1_asks_from_the_container_and_20_10_from_anywhere():
    # 26.1 asks the host's (non-loopback) servers from the container's namespace, which has
    # no route out of an internal network: the forward fails at once, SERVFAIL as Docker's
    for engine in ("26.1", "20.10"):
        topo = lab(engine)
        db = topo.container("db")
        assert upstreams(topo, db) == (("203.0.113.53", db.netns),), engine
    topo = lab("20.10", "[127.0.0.53]")     # loopback, from the host: 20.10 still forwards it
    assert upstreams(topo, topo.container("db")) == (("127.0.0.53", topo.hosts[0].netns),)


def test_a_server_asked_from_the_container_stays():
    # 26.1's own file servers and daemon `dns` ones are asked from the container's namespace:
    # 26.1.3 relaxed the rule so that a DNS server inside the internal network still answers
    topo = lab("26.1", "[10.0.0.53]")
    db = topo.container("db")
    assert upstreams(topo, db) == (("10.0.0.53", db.netns),)
    topo = lab("28.5", "[127.0.0.53]")       # loopback: only the host reaches it
    assert upstreams(topo, topo.container("db")) == ()


def test_external_access():
    topo = lab("28.5")
    assert [external_access(topo, c) for c in topo.containers] == [False, True, True]
