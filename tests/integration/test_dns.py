"""Names as Docker gives them, asked from inside containers with the machine's own tools
(`getent hosts` through glibc and the container's resolv.conf) and with a Python resolver
query: the embedded DNS at 127.0.0.11 on user networks, aliases, round robin, `name.network`,
legacy links, nothing across networks or on the default bridge; and the resolver's life:
names added without restarting it, killed and brought back by `up`, unreachable from
outside its namespace."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import needs_root

pytestmark = [needs_root, pytest.mark.root]

NAMES = """
name: {lab}
networks:
  front: {{}}
  back: {{}}
containers:
  a1: {{networks: {{front: {{aliases: [web, shared]}}}}}}
  a2: {{networks: {{front: {{aliases: [shared]}}, back: {{}}}}, hostname: a2host}}
  b1: {{networks: [back]}}
  d1: {{}}
  d2: {{links: ["d1:dalias"]}}
  l1: {{networks: [front], links: ["a1:alink"]}}
  side: {{network_mode: "container:a1"}}
  h: {{network_mode: host}}
"""


def netlab(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "netlab", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"netlab {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc


def getent(lab: str, container: str, *names: str) -> dict[str, list[str]]:
    """name -> addresses `getent hosts` gives in the container ([] when it fails)."""
    script = "; ".join(f"echo \"== {n} $(getent hosts {n} | awk '{{print $1}}' | tr '\\n' ' ')\"" for n in names)
    out = netlab("exec", lab, container, "--", "sh", "-c", script).stdout
    found = {}
    for line in out.splitlines():
        if line.startswith("== "):
            name, *ips = line[3:].split()
            found[name] = ips
    return found


def dnsquery(lab: str, container: str, *args: str) -> tuple[int, list[str]]:
    proc = netlab("exec", lab, container, "--", sys.executable, "-m", "netlab.kernel.dnsquery", *args, check=False)
    return proc.returncode, proc.stdout.split("\n")


def agent_status(lab: str) -> dict:
    with open(f"/run/netlab/{lab}/agent.json") as f:
        return json.load(f)


def ip_of(lab: str, container: str, network: str) -> str:
    from netlab.app.lifecycle import snapshot_topology
    return str(snapshot_topology(lab).container(container).attachment(network).address.ip)


def test_names_resolve_where_docker_resolves_them(make_lab):
    lab = "dnres"
    make_lab(NAMES.format(lab=lab))
    a1, a2f, a2b, b1 = (ip_of(lab, "a1", "front"), ip_of(lab, "a2", "front"), ip_of(lab, "a2", "back"),
                        ip_of(lab, "b1", "back"))
    from netlab.app.lifecycle import snapshot_topology
    a2_id = snapshot_topology(lab).container("a2").short_id

    seen = getent(lab, "a1", "a2", "web", "shared", "A2HOST", a2_id, "a2.front", "l1", "b1", "a2.back",
                  "d1", "example.org")
    assert seen["a2"] == [a2f] and seen["a2.front"] == [a2f]
    assert seen["web"] == [a1]
    assert sorted(seen["shared"]) == sorted([a1, a2f])
    assert seen["A2HOST"] == [a2f] and seen[a2_id] == [a2f]          # hostname and short ID
    assert seen["l1"]
    for unknown in ("b1", "a2.back", "d1", "example.org"):           # other network, default bridge
        assert seen[unknown] == [], unknown

    seen = getent(lab, "b1", "a2", "a2.back", "a1", "web", "shared", "b1")
    assert seen["a2"] == [a2b] and seen["a2.back"] == [a2b] and seen["b1"] == [b1]
    assert seen["a1"] == seen["web"] == seen["shared"] == []

    # legacy links: /etc/hosts on the default bridge, a DNS alias on a user network
    assert getent(lab, "d2", "dalias", "d1") == {"dalias": [ip_of(lab, "d1", "bridge")],
                                                 "d1": [ip_of(lab, "d1", "bridge")]}
    assert getent(lab, "l1", "alink")["alink"] == [a1]
    assert getent(lab, "a2", "alink")["alink"] == []                  # only the linking container has it
    # the default bridge has no embedded DNS: no names at all, and the answer comes at once
    # (without one, glibc would wait 5 s a try, twice, for each name: 30 s for these three;
    # the bound is far from that and from the few ms it takes, as the machine may be loaded)
    start = time.monotonic()
    assert getent(lab, "d1", "d2", "a1", "web") == {"d2": [], "a1": [], "web": []}
    assert time.monotonic() - start < 20
    # container:<name> shares its owner's resolver
    assert getent(lab, "side", "a2", "web") == {"a2": [a2f], "web": [a1]}


def test_python_queries_see_dockers_answers(make_lab):
    lab = "dnpy"
    make_lab(NAMES.format(lab=lab))
    a1, a2 = ip_of(lab, "a1", "front"), ip_of(lab, "a2", "front")
    # round robin: 40 answers in one process; all in one order would be a 1 in 2^39 chance
    script = ("from netlab.kernel.dnsquery import ask, nameserver\n"
              "for _ in range(40): print(' '.join(str(rr.rdata) for rr in ask(nameserver(), 'shared').rr))")
    out = netlab("exec", lab, "a1", "--", sys.executable, "-c", script).stdout.splitlines()
    orders = {tuple(line.split()) for line in out}
    assert len(out) == 40 and orders == {(a1, a2), (a2, a1)}
    assert dnsquery(lab, "a1", "a2")[1][:2] == ["NOERROR", f"A {a2} 600"]
    assert dnsquery(lab, "a1", "--tcp", "a2")[1][:2] == ["NOERROR", f"A {a2} 600"]
    rc, out = dnsquery(lab, "a1", "-t", "AAAA", "a2")
    assert (rc, out[0], out[1]) == (1, "NOERROR", "")              # known name without IPv6
    ptr = ".".join(reversed(a2.split("."))) + ".in-addr.arpa"
    assert dnsquery(lab, "a1", "-t", "PTR", ptr)[1][:2] == ["NOERROR", "PTR a2.front. 600"]
    # unknown names go upstream (the stand-in in `outside`), which says NXDOMAIN at once
    assert dnsquery(lab, "a1", "--timeout", "1", "example.org")[:2] == (1, ["NXDOMAIN", ""])
    assert dnsquery(lab, "b1", "--timeout", "1", "a1")[:2] == (1, ["NXDOMAIN", ""])


def test_files_and_container_nat_rules(make_lab):
    lab = "dnfil"
    make_lab(NAMES.format(lab=lab))
    from netlab.app.lifecycle import snapshot_topology
    from netlab.plan.diff import canonical_iptables
    from netlab.plan.dns import resolver_ports, resolver_rules
    topo = snapshot_topology(lab)

    def etc(container: str, name: str) -> str:
        return netlab("exec", lab, container, "--", "cat", f"/etc/{name}").stdout

    assert etc("a1", "resolv.conf") == "nameserver 127.0.0.11\noptions ndots:0\n"
    assert etc("side", "resolv.conf") == etc("a1", "resolv.conf") and etc("side", "hosts") == etc("a1", "hosts")
    assert etc("d1", "resolv.conf") == "nameserver 203.0.113.53\n"   # the host's, without 127/8
    assert etc("h", "resolv.conf") == etc("node1", "resolv.conf") and etc("h", "hosts") == etc("node1", "hosts")
    a2 = topo.container("a2")
    assert etc("a2", "hosts").splitlines()[-2:] == [f"{ip_of(lab, 'a2', 'front')}\ta2host",
                                                    f"{ip_of(lab, 'a2', 'back')}\ta2host"]
    assert "alink" not in etc("l1", "hosts")                         # a user-network link is DNS only
    d1 = topo.container("d1")
    assert f"{ip_of(lab, 'd1', 'bridge')}\tdalias {d1.hostname} d1\n" in etc("d2", "hosts")
    for name in ("a1", "a2", "b1", "l1"):
        saved = netlab("exec", lab, name, "--", "iptables-save").stdout
        assert canonical_iptables(saved) == canonical_iptables(resolver_rules(*resolver_ports(lab, name)))
    for name in ("d1", "d2"):
        assert "DOCKER_OUTPUT" not in netlab("exec", lab, name, "--", "iptables-save").stdout
    assert a2.hostname == "a2host"


def test_a_new_container_is_named_without_restarting_the_resolvers(make_lab):
    lab = "dnupd"
    base = f"name: {lab}\nnetworks: {{front: {{}}}}\ncontainers:\n  a1: {{networks: [front]}}\n  a2: {{networks: [front]}}\n"
    path, _ = make_lab(base)
    before = agent_status(lab)
    assert getent(lab, "a1", "a3") == {"a3": []}
    with open(path, "a") as f:
        f.write("  a3: {networks: {front: {aliases: [newbie]}}}\n")
    out = netlab("up", path).stdout
    assert "DNS names of front@node1" in out
    a3 = ip_of(lab, "a3", "front")
    assert getent(lab, "a1", "a3", "newbie") == {"a3": [a3], "newbie": [a3]}
    assert getent(lab, "a3", "a1")["a1"] == [ip_of(lab, "a1", "front")]
    after = agent_status(lab)
    assert after["pid"] == before["pid"]
    for name in ("a1", "a2"):                  # their sockets were not reopened
        assert after["resolvers"][name]["opened"] == before["resolvers"][name]["opened"]
    assert "no changes" in netlab("up", path).stdout


def test_a_killed_resolver_is_reported_and_restarted(make_lab):
    lab = "dnkill"
    path, _ = make_lab(f"name: {lab}\nnetworks: {{n: {{}}}}\ncontainers:\n  a1: {{networks: [n]}}\n"
                       "  a2: {networks: [n]}\n")
    assert getent(lab, "a1", "a2")["a2"]
    with open(f"/run/netlab/{lab}/agent.pid") as f:
        os.kill(int(f.read()), signal.SIGKILL)
    time.sleep(0.2)
    assert getent(lab, "a1", "a2")["a2"] == []
    verify = netlab("verify", lab, check=False)
    assert verify.returncode == 1
    assert "agent is not running" in verify.stdout
    assert f"{lab}-a1: embedded DNS 127.0.0.11" in verify.stdout and "not served" in verify.stdout
    up = netlab("up", path).stdout
    assert f"create   {lab}-a1: embedded DNS" in up
    assert getent(lab, "a1", "a2")["a2"] == [ip_of(lab, "a2", "n")]
    verify = netlab("verify", lab, check=False)
    assert verify.returncode == 0, verify.stdout
    assert "had died; `netlab up` restarted it" in verify.stdout


def test_upstreams_that_do_not_answer_mean_servfail_not_silence(make_lab):
    lab = "dnup"
    # a loopback server is asked from the host (nothing listens there: refused at once); the
    # TEST-NET one is routed to `outside`, which drops it: a black hole, given up after 2 s
    make_lab(f"name: {lab}\nhosts:\n  node1:\n    daemon: {{dns: [127.0.0.1, 198.51.100.99]}}\n"
             "networks: {n: {}}\ncontainers:\n  a1: {networks: [n]}\n  a2: {networks: [n]}\n")
    for proto in ([], ["--tcp"]):
        # within 4.5 s: inside the first 5 s try of a glibc client
        assert dnsquery(lab, "a1", *proto, "--timeout", "4.5", "example.org")[:2] == (1, ["SERVFAIL", ""])
    assert dnsquery(lab, "a1", "a2")[0] == 0          # the lab's own names do not need them


def test_queries_from_outside_its_namespace_never_reach_it(make_lab):
    lab = "dnout"
    make_lab(f"name: {lab}\nnetworks: {{n: {{}}}}\ncontainers:\n  a1: {{networks: [n]}}\n  a2: {{networks: [n]}}\n")
    from netlab.kernel.dnsquery import ask
    from netlab.plan.dns import resolver_ports
    udp, tcp = resolver_ports(lab, "a1")
    a1 = ip_of(lab, "a1", "n")
    assert ask("127.0.0.11", "a2", ns=f"{lab}-a1") is not None
    for ns in (f"{lab}-node1", f"{lab}-a2", f"{lab}-outside"):
        for port in (53, udp):
            assert ask(a1, "a2", ns=ns, port=port, timeout=0.3) is None, (ns, port)
        assert ask(a1, "a2", ns=ns, port=tcp, tcp=True, timeout=0.3) is None
        assert ask("127.0.0.11", "a2", ns=ns, port=udp, timeout=0.3) is None
    # and the machine's own namespace holds none of its sockets
    with open("/proc/net/udp") as f:
        ours = {f"0B00007F:{udp:04X}"}
        assert not any(line.split()[1] in ours for line in f.readlines()[1:])
