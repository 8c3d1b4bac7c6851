"""DST as a name, resolved as SRC would (trace/resolve.py): the lookup order over files and
nameservers, and the plan's answers — the default bridge (no embedded DNS), a user network
(127.0.0.11), a legacy link (/etc/hosts), an alias, a missing name, IPv6, an internal
network — in the trace, its report and its JSON."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from netlab.errors import TopologyError
from netlab.model import load_text
from netlab.trace.model import DnsQuery
from netlab.trace.predict import predict_trace
from netlab.trace.report import render
from netlab.trace.resolve import Conf, candidates, explain, from_hosts, lookup, parse_resolv

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LAB = """
name: fr
engine: "{engine}"
networks:
  mynet: {{subnet: 192.168.0.0/24}}
  dual: {{enable_ipv6: true, ipam: {{config: [{{subnet: 192.168.5.0/24}}, {{subnet: "2001:db8:5::/64"}}]}}}}
  inner: {{subnet: 192.168.9.0/24, internal: true}}
containers:
  tomcat01: {{}}
  tomcat02: {{}}
  l1: {{links: ["tomcat02:cat"]}}
  a1: {{networks: [mynet, dual]}}
  a2: {{networks: {{mynet: {{aliases: [db]}}}}}}
  a3: {{networks: [dual]}}
  i1: {{networks: [inner]}}
  i2: {{networks: [inner]}}
"""


def lab(engine: str = "28.5"):
    return load_text(LAB.format(engine=engine))


# ---- the order glibc asks in ---------------------------------------------------------
def test_resolv_conf_and_the_query_names():
    conf = parse_resolv("nameserver 127.0.0.11\nsearch example.org lab.test\noptions ndots:2 timeout:1\n")
    assert conf == Conf(("127.0.0.11",), ("example.org", "lab.test"), 2)
    assert candidates("web", conf) == ["web.example.org", "web.lab.test", "web"]       # fewer dots than ndots
    assert candidates("a.b.c", conf) == ["a.b.c", "a.b.c.example.org", "a.b.c.lab.test"]
    assert candidates("web.", conf) == ["web."]                                       # rooted: as given only
    assert parse_resolv("nameserver 1.1.1.1\n" * 5).nameservers == ("1.1.1.1",) * 3  # glibc's three


def test_hosts_file_by_family_and_without_case():
    text = "127.0.0.1\tlocalhost\n172.17.0.3\tcat tomcat02 # a link\n2001:db8::3\tTomcat02\n"
    assert from_hosts(text, "CAT", 4) == ("172.17.0.3",)
    assert from_hosts(text, "tomcat02", 6) == ("2001:db8::3",)
    assert from_hosts(text, "a link", 4) == ()


def test_nxdomain_moves_to_the_next_name_and_silence_to_the_next_server():
    asked = []

    def ask(server: str, qname: str, qtype: str) -> DnsQuery:
        asked.append((server, qname))
        if server == "10.0.0.1":
            return DnsQuery(qname=qname, qtype=qtype, server=server, rcode="timeout")
        if qname == "web.lab.test":
            return DnsQuery(qname=qname, qtype=qtype, server=server, rcode="NXDOMAIN")
        return DnsQuery(qname=qname, qtype=qtype, server=server, rcode="NOERROR", addresses=("10.1.1.1",))

    r = lookup(name="web", family=4, netns="ns", owner="a", hosts="", ask=ask, source="predicted", evidence="plan",
               resolv="nameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch lab.test\n")
    assert asked == [("10.0.0.1", "web.lab.test"), ("10.0.0.2", "web.lab.test"), ("10.0.0.1", "web"),
                     ("10.0.0.2", "web")]
    assert r.status == "resolved" and r.via == "dns" and r.addresses == ("10.1.1.1",)
    silent = lookup(name="web", family=4, netns="ns", owner="a", hosts=None, resolv="nameserver 10.0.0.1\n",
                    ask=ask, source="predicted", evidence="plan")
    assert silent.status == "timeout" and not silent.resolved


def test_a_silent_embedded_dns_points_at_the_agent():
    def ask(server: str, qname: str, qtype: str) -> DnsQuery:
        return DnsQuery(qname=qname, qtype=qtype, server=server, rcode="timeout")
    r = lookup(name="a2", family=4, netns="fr-a1", owner="a1", hosts="", resolv="nameserver 127.0.0.11\n",
               ask=ask, source="observed", evidence="query")
    assert r.status == "timeout"
    assert explain(lab(), r) == ("`a2` does not resolve from a1: 127.0.0.11 does not answer; the lab's agent serves "
                                 "it: `netlab verify` says whether the agent runs")


# ---- the plan's answers --------------------------------------------------------------
def test_default_bridge_does_not_resolve_and_no_probe_is_sent():
    t = predict_trace(lab(), "tomcat01", "tomcat02", by_name=True)
    assert t.outcome.status == "unresolved" and t.outcome.reason == "nxdomain"
    assert t.outcome.detail == ("`tomcat02` does not resolve from tomcat01: the default bridge has no embedded DNS; "
                                "use a user-defined network or a link; no probe sent")
    assert t.hops == () and t.rules == () and t.probe.dst == "0.0.0.0"
    (q,) = t.resolution.queries       # the host's resolver: the lab's stand-in upstream, from the container
    assert (q.server, q.rcode) == ("203.0.113.53", "NXDOMAIN") and "stand-in" in q.answered_by


def test_by_name_is_the_default():
    """The seed's lesson with no flag: tomcat01 cannot ping tomcat02 by name."""
    t = predict_trace(lab(), "tomcat01", "tomcat02")
    assert t.outcome.status == "unresolved" and t.hops == ()
    assert t == predict_trace(lab(), "tomcat01", "tomcat02", by_name=True)


def test_the_lab_view_still_traces_and_says_the_name_would_not_resolve():
    t = predict_trace(lab(), "tomcat01", "tomcat02", by_name=False)
    assert t.outcome.status == "delivered"
    assert t.resolution is not None and not t.resolution.resolved
    assert "--no-resolve" in t.notes[0] and "the default bridge has no embedded DNS" in t.notes[0]
    assert predict_trace(lab(), "a1", "a2", by_name=False).notes == ()     # a1 resolves a2 to the address traced


def test_user_network_resolves_through_the_embedded_dns():
    t = predict_trace(lab(), "a1", "a2", by_name=True)
    r = t.resolution
    assert r.resolved and r.via == "dns" and r.addresses == ("192.168.0.3",)
    assert [(q.server, q.rcode) for q in r.queries] == [("127.0.0.11", "NOERROR")]
    assert r.queries[0].answered_by == "the embedded DNS, network mynet"
    assert t.probe.dst == "192.168.0.3" and t.outcome.status == "delivered"


def test_a_link_resolves_from_etc_hosts():
    t = predict_trace(lab(), "l1", "cat", by_name=True)
    assert t.resolution.via == "hosts" and t.resolution.queries == ()
    assert t.probe.dst == str(lab().container("tomcat02").attachment("bridge").address.ip)
    assert t.outcome.status == "delivered"


def test_an_alias_resolves_on_its_network_only():
    t = predict_trace(lab(), "a1", "db:80", by_name=True)
    assert t.resolution.addresses == ("192.168.0.3",) and t.probe.dport == 80
    t = predict_trace(lab(), "a3", "db", by_name=True)       # a3 is not on mynet
    assert t.outcome.status == "unresolved" and t.resolution.status == "nxdomain"
    assert "the embedded DNS answers for a3's networks (dual), and db is a name on mynet" in t.outcome.detail
    t = predict_trace(lab(), "a1", "tomcat01", by_name=True)
    assert "tomcat01 is only on the default bridge" in t.outcome.detail


@pytest.mark.parametrize("engine", ["20.10", "28.5"])
def test_a_missing_name_is_nxdomain_from_the_upstream(engine):
    t = predict_trace(lab(engine), "a1", "nosuch", by_name=True)
    assert t.outcome.status == "unresolved" and t.outcome.reason == "nxdomain"
    (q,) = t.resolution.queries
    assert q.server == "127.0.0.11" and q.rcode == "NXDOMAIN"
    assert q.answered_by == "the stand-in upstream 203.0.113.53 in outside, asked by the embedded DNS"
    assert "no container, alias, link or /etc/hosts line has that name" in t.outcome.detail


@pytest.mark.parametrize("engine", ["20.10", "28.5"])
def test_an_internal_network_forwards_nowhere(engine):
    """20.10 forwards from the container's namespace, which has no route out; 26.0 and later
    forward nothing for a container without external access: SERVFAIL either way."""
    t = predict_trace(lab(engine), "i1", "nosuch", by_name=True)
    assert t.resolution.status == "servfail" and t.resolution.queries[0].rcode == "SERVFAIL"
    assert predict_trace(lab(engine), "i1", "i2", by_name=True).resolution.resolved


def test_ipv6_names_ask_aaaa():
    t = predict_trace(lab(), "a1", "a3", by_name=True, family=6)
    assert t.resolution.qtype == "AAAA" and t.resolution.addresses[0].startswith("2001:db8:5::")
    assert t.probe.dst == t.resolution.addresses[0] and t.outcome.status == "delivered"
    t = predict_trace(lab(), "a1", "a2", by_name=True, family=6)     # a2 has no IPv6: an empty answer
    assert t.outcome.status == "unresolved" and t.resolution.status == "no-address"
    assert t.probe.dst == "::"


def test_a_host_does_not_know_the_containers_names():
    t = predict_trace(lab(), "node1", "a1", by_name=True)
    assert t.outcome.status == "unresolved" and "does not know the containers' names" in t.outcome.detail
    assert t.resolution.queries[0].server == "203.0.113.53"


def test_a_host_and_outside_are_the_labs_names():
    assert predict_trace(lab(), "a1", "outside").resolution is None
    assert predict_trace(lab(), "a1", "node1").resolution is None
    assert predict_trace(lab(), "a1", "node1", by_name=False).resolution is None
    assert predict_trace(lab(), "a1", "outside:80", by_name=True).outcome.status != "unresolved"
    assert predict_trace(lab(), "a1", "192.168.0.3", by_name=True).resolution is None
    t = predict_trace(lab(), "outside", "a1", by_name=True)       # outside has no files of its own
    assert t.resolution is None and t.outcome.status != "unresolved"


# ---- how it is told --------------------------------------------------------------------
def test_report_and_json():
    text = render(predict_trace(lab(), "tomcat01", "tomcat02", by_name=True))
    assert "name: `tomcat02` does not resolve from tomcat01" in text
    assert "dns A tomcat02? to 203.0.113.53: NXDOMAIN" in text
    assert "outcome: unresolved (nxdomain)" in text and "request:" not in text
    d = predict_trace(lab(), "a1", "a2", by_name=True).to_dict()
    doc = open(f"{TOP}/docs/trace-json.md").read()
    for key in (*d["resolution"], *d["resolution"]["queries"][0]):
        assert f"`{key}`" in doc, f"{key} is not documented in docs/trace-json.md"
    assert d["resolution"]["status"] == "resolved" and "`unresolved`" in doc


def test_cli_by_name_predict(tmp_path):
    f = tmp_path / "lab.yaml"
    f.write_text(LAB.format(engine="28.5"))
    proc = subprocess.run([sys.executable, "-m", "netlab", "trace", str(f), "tomcat01", "tomcat02", "--name",
                           "--predict", "--json"], capture_output=True, text=True, cwd=TOP)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outcome"]["status"] == "unresolved"
    for flags in ((), ("--no-resolve",)):       # the default is by name; --no-resolve, the lab's view
        proc = subprocess.run([sys.executable, "-m", "netlab", "trace", str(f), "tomcat01", "tomcat02", *flags,
                               "--predict", "--json"], capture_output=True, text=True, cwd=TOP)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["outcome"]["status"] == ("delivered" if flags else "unresolved")


# ---- expect: name: true ----------------------------------------------------------------
def test_expect_by_name():
    topo = load_text(LAB.format(engine="28.5") + "expect:\n  - {from: a1, to: db, name: true}\n"
                     "  - {from: tomcat01, to: tomcat02, name: true, ok: false}\n  - {from: a1, to: a2}\n")
    assert [(e.target, e.name, e.ok) for e in topo.expect] == [("db", True, True), ("tomcat02", True, False),
                                                               ("a2", False, True)]
    with pytest.raises(TopologyError, match=r"expect\[0\]\.name.*address"):
        load_text(LAB.format(engine="28.5") + "expect:\n  - {from: a1, to: 192.168.0.3, name: true}\n")


def test_html_shows_the_step_and_the_picture_the_outcome():
    from netlab.graph import trace_html, trace_svg
    html = trace_html(predict_trace(lab(), "a1", "db", by_name=True), None)
    assert "<h3>Name</h3>" in html and "<code>127.0.0.11</code>" in html
    assert html.index("<h3>Name</h3>") < html.index("<h3>Hops</h3>")
    unresolved = predict_trace(lab(), "tomcat01", "tomcat02", by_name=True)
    assert "the default bridge has no embedded DNS" in trace_html(unresolved, None)
    assert "unresolved" in trace_svg(unresolved, None)
