"""A container's own settings in a live lab, seen from its namespace: the MAC its file gives,
/etc/hosts with the extra hosts and the domain name, resolv.conf with its own server and
search domain (as `ip netns exec` shows /etc/netns/<netns>/), and a name the lab does not
know forwarded to the container's own DNS server (a small UDP answerer at TEST-NET
192.0.2.53 in the lab's outside namespace) instead of the host's stand-in, which answers
NXDOMAIN to every name."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import needs_root

from netlab.model import naming

pytestmark = [needs_root, pytest.mark.root]

LAB = """
name: {lab}
engine: "28.5"
outside:
  addresses: [203.0.113.10, 192.0.2.53]
networks:
  back: {{subnet: 172.30.7.0/24}}
containers:
  ldap:
    hostname: ldap
    domainname: corp.example
    networks: [back]
  api:
    hostname: api01
    extra_hosts: ["metrics.example:192.0.2.10", "legacy-db=198.51.100.7"]
    dns: [192.0.2.53]
    dns_search: [corp.example]
    networks:
      back: {{mac_address: "02:42:ac:1e:07:99"}}
"""
ANSWER = "198.51.100.77"
# answers every A question with ANSWER, from the outside namespace
ANSWERER = textwrap.dedent(f"""
    import socket, sys
    from dnslib import A, QTYPE, RR, DNSRecord
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("192.0.2.53", 53))
    print("ready", flush=True)
    while True:
        data, peer = sock.recvfrom(4096)
        q = DNSRecord.parse(data)
        reply = q.reply()
        if q.q.qtype == QTYPE.A:
            reply.add_answer(RR(q.q.qname, QTYPE.A, rdata=A("{ANSWER}"), ttl=60))
        sock.sendto(reply.pack(), peer)
""")


def in_netns(ns: str, *cmd: str) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, check=True).stdout


def ask(lab: str, container: str, name: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "netlab", "exec", lab, container, "--", sys.executable, "-m",
                           "netlab.kernel.dnsquery", name], capture_output=True, text=True)
    return proc.stdout.split("\n")


@pytest.fixture
def answerer():
    """The container's own DNS server, started once the lab's outside namespace exists."""
    started: list[subprocess.Popen] = []

    def start(lab: str) -> None:
        proc = subprocess.Popen(["ip", "netns", "exec", naming.netns(lab, "outside"), sys.executable, "-c",
                                 ANSWERER], stdout=subprocess.PIPE, text=True)
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def test_mac_hosts_resolv_conf_and_the_containers_own_dns_server(make_lab, answerer):
    lab = "acset"
    make_lab(LAB.format(lab=lab))
    from netlab.app.lifecycle import snapshot_topology
    topo = snapshot_topology(lab)
    api_ns, ldap_ns = naming.netns(lab, "api"), naming.netns(lab, "ldap")

    assert "link/ether 02:42:ac:1e:07:99 " in in_netns(api_ns, "ip", "-o", "link", "show", "eth0")
    hosts = in_netns(api_ns, "cat", "/etc/hosts")
    assert hosts.endswith("ff02::2\tip6-allrouters\n192.0.2.10\tmetrics.example\n198.51.100.7\tlegacy-db\n"
                          "172.30.7.3\tapi01\n")
    assert in_netns(ldap_ns, "cat", "/etc/hosts").endswith("\n172.30.7.2\tldap.corp.example ldap\n")
    resolv = in_netns(api_ns, "cat", "/etc/resolv.conf")
    assert "nameserver 127.0.0.11\nsearch corp.example\noptions ndots:0\n" in resolv
    assert "# ExtServers: [192.0.2.53]\n# Overrides: [nameservers search]\n" in resolv
    assert topo.container("api").attachment("back").mac == "02:42:ac:1e:07:99"

    # the lab's own names still come from the embedded DNS
    assert ask(lab, "api", "ldap")[:2] == ["NOERROR", "A 172.30.7.2 600"]
    # an unknown name: api's resolver asks 192.0.2.53, ldap's the host's stand-in
    answerer(lab)
    assert ask(lab, "api", "www.example.org")[:2] == ["NOERROR", f"A {ANSWER} 60"]
    assert ask(lab, "ldap", "www.example.org")[0] == "NXDOMAIN"
