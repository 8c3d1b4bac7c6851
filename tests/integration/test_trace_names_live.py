"""A trace by name (`--name`), live: DST resolved from SRC's namespace for real — its
/etc/hosts, then its nameserver — beside the plan's answer, and the probe sent to the answer
or not at all. The default bridge (no embedded DNS: the stand-in upstream says NXDOMAIN), a
user network (127.0.0.11), a legacy link (/etc/hosts), an alias, a missing name, IPv6
(AAAA); `verify` with `name: true`."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import needs_root

pytestmark = [needs_root, pytest.mark.root]

LAB = """
name: {name}
networks:
  mynet: {subnet: 192.168.70.0/24}
  dual:
    enable_ipv6: true
    ipam: {config: [{subnet: 192.168.71.0/24}, {subnet: "2001:db8:71::/64"}]}
containers:
  tomcat01: {}
  tomcat02: {}
  l1: {links: ["tomcat02:cat"]}
  a1: {networks: [mynet, dual]}
  a2: {networks: {mynet: {aliases: [db]}}}
  a3: {networks: [dual]}
expect:
  - {from: a1, to: db, name: true}
  - {from: tomcat01, to: tomcat02, name: true, ok: false}
  - {from: l1, to: cat, name: true}
  - {from: a1, to: nosuch, name: true, ok: false}
  - {from: tomcat01, to: tomcat02}
"""


# one lab per xdist worker: the module's tests may be split between workers
NAME = "fn" + os.environ.get("PYTEST_XDIST_WORKER", "main")[:6]


@pytest.fixture(scope="module")
def lab():
    import tempfile

    from netlab.app.lifecycle import down, up
    from netlab.app.state import load
    with tempfile.TemporaryDirectory() as d:
        path = f"{d}/{NAME}.yaml"
        with open(path, "w") as f:
            f.write(LAB.replace("{name}", NAME))
        up(path, say=lambda m: None)
        try:
            assert load(NAME) is not None
            yield NAME
        finally:
            down(NAME, say=lambda m: None)
    from conftest import leftovers
    assert not leftovers(NAME)


def by_name(lab: str, src: str, dst: str, **kw):
    from netlab.trace import trace
    t = trace(lab, src, dst, by_name=True, **kw)
    assert t.resolution is not None and t.resolution.source == "observed" and t.resolution.evidence == "query"
    assert t.predicted is not None and t.predicted.resolution is not None
    assert not t.differences, "\n".join(f"{d.what}: predicted {d.predicted} | observed {d.observed}"
                                        for d in t.differences)
    return t


def test_default_bridge_does_not_resolve_and_nothing_is_sent(lab, tmp_path):
    t = by_name(lab, "tomcat01", "tomcat02", pcap=str(tmp_path / "t.pcapng"))
    assert not (tmp_path / "t.pcapng").exists() and any("--pcap" in n for n in t.notes)
    assert t.outcome.status == "unresolved" and t.outcome.reason == "nxdomain"
    assert t.outcome.detail.startswith("`tomcat02` does not resolve from tomcat01: the default bridge has no "
                                       "embedded DNS; use a user-defined network or a link")
    assert t.hops == () and t.rules == () and t.nat == ()
    (q,) = t.resolution.queries          # asked for real: the stand-in upstream, across the lab
    assert (q.server, q.qname, q.rcode, q.addresses) == ("203.0.113.53", "tomcat02", "NXDOMAIN", ())
    # by name is the default: no flag, the same outcome
    from netlab.trace import trace
    assert trace(lab, "tomcat01", "tomcat02").outcome.status == "unresolved"
    # in the lab's own view (--no-resolve) the same DST is still traced, to its address
    plain = trace(lab, "tomcat01", "tomcat02", by_name=False)
    assert plain.outcome.status == "delivered" and plain.resolution.source == "predicted"
    assert any("--no-resolve" in n for n in plain.notes + plain.predicted.notes)


def test_user_network_resolves_through_the_embedded_dns(lab):
    t = by_name(lab, "a1", "a2")
    assert t.resolution.via == "dns" and t.resolution.addresses == ("192.168.70.3",)
    assert [(q.server, q.rcode) for q in t.resolution.queries] == [("127.0.0.11", "NOERROR")]
    assert t.probe.dst == "192.168.70.3" and t.outcome.status == "delivered"
    assert t.outcome.reply == "echo-reply"


def test_a_link_resolves_from_etc_hosts(lab):
    t = by_name(lab, "l1", "cat")
    assert t.resolution.via == "hosts" and t.resolution.queries == ()
    assert t.outcome.status == "delivered" and t.outcome.owner == "tomcat02"


def test_an_alias_resolves(lab):
    t = by_name(lab, "a1", "db")
    assert t.resolution.addresses == ("192.168.70.3",) and t.outcome.owner == "a2"


def test_a_missing_name_is_nxdomain(lab):
    t = by_name(lab, "a1", "nosuch")
    assert t.outcome.status == "unresolved" and t.resolution.status == "nxdomain"
    assert t.resolution.queries[0].server == "127.0.0.11" and t.resolution.queries[0].rcode == "NXDOMAIN"
    assert t.predicted.resolution.queries[0].answered_by.startswith("the stand-in upstream 203.0.113.53")


def test_ipv6_asks_aaaa(lab):
    t = by_name(lab, "a1", "a3", family=6)
    assert t.resolution.qtype == "AAAA" and t.resolution.addresses == ("2001:db8:71::3",)
    assert t.probe.dst == "2001:db8:71::3" and t.outcome.status == "delivered"
    t = by_name(lab, "a1", "a2", family=6)          # a2 has no IPv6: an empty answer
    assert t.outcome.status == "unresolved" and t.resolution.status == "no-address"


def test_verify_checks_the_name_and_the_path_apart(lab):
    from netlab.app.lifecycle import snapshot_topology
    from netlab.app.verify import check
    outcomes = check(snapshot_topology(lab))
    assert [o.ok for o in outcomes] == [True] * 5
    assert [o.resolved for o in outcomes] == [True, False, True, False, None]
    assert [o.seen for o in outcomes] == [True, False, True, False, True]
    assert outcomes[0].target == "192.168.70.3" and outcomes[1].target == ""
    proc = subprocess.run([sys.executable, "-m", "netlab", "verify", lab], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no name (nxdomain)" in proc.stdout and "5 passed, 0 failed" in proc.stdout


def test_cli_names_the_step(lab):
    proc = subprocess.run([sys.executable, "-m", "netlab", "trace", lab, "tomcat01", "tomcat02"],  # by name, no flag
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "name: `tomcat02` does not resolve from tomcat01" in proc.stdout
    assert "dns A tomcat02? to 203.0.113.53: NXDOMAIN" in proc.stdout
    assert "outcome: unresolved (nxdomain)" in proc.stdout and "request:" not in proc.stdout


def test_engine_20_10_forwards_from_the_container(make_lab):
    """20.10's embedded DNS asks the upstream from the container's own namespace (28.0 from
    the host's): the missing name's NXDOMAIN comes back all the same, and the default
    bridge's container asks the stand-in itself."""
    name = "f2" + os.environ.get("PYTEST_XDIST_WORKER", "main")[:6]
    make_lab(LAB.replace("{name}", name).replace("networks:\n  mynet", 'engine: "20.10"\nnetworks:\n  mynet', 1))
    t = by_name(name, "a1", "nosuch")
    assert t.outcome.status == "unresolved" and t.resolution.queries[0].rcode == "NXDOMAIN"
    assert by_name(name, "tomcat01", "tomcat02").resolution.queries[0].server == "203.0.113.53"
    t = by_name(name, "a1", "db")
    assert t.outcome.status == "delivered" and t.predicted.engines[0].engine == "20.10"
