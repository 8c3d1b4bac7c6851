"""Names against a real Docker 20.10 (engine_oracle.py): the same networks,
containers, aliases and links built both ways, in the same order, then compared: each
container's resolv.conf and /etc/hosts (IDs and the host's own nameserver replaced by
placeholders), the nat table of each container namespace (the resolver's ports replaced),
and which names each container's DNS answers, with which addresses, A and PTR."""
from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import needs_root
from oracle import Oracle, unavailable

from netlab.kernel.dnsquery import ask, nameserver
from netlab.plan.diff import canonical_iptables

pytestmark = [needs_root, pytest.mark.root, pytest.mark.oracle,
              pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")]

LAB = """
name: dncmp
networks:
  front: {}
  back: {}
containers:
  a1: {networks: {front: {aliases: [web, shared]}}}
  a2: {networks: {front: {aliases: [shared]}, back: {}}, hostname: a2host}
  b1: {networks: [back]}
  d1: {}
  d2: {links: ["d1:dalias"]}
  l1: {networks: [front], links: ["a1:alink"]}
  side: {network_mode: "container:a1"}
  d3: {links: [d1, "d2:two"]}
"""
DOCKER = (
    "network create front",
    "network create back",
    "run -d --name a1 --network front --network-alias web --network-alias shared {image}",
    "run -d --name a2 --network front --network-alias shared -h a2host {image}",
    "network connect back a2",
    "run -d --name b1 --network back {image}",
    "run -d --name d1 {image}",
    "run -d --name d2 --link d1:dalias {image}",
    "run -d --name l1 --network front --link a1:alink {image}",
    "run -d --name side --network container:a1 {image}",
    "run -d --name d3 --link d1 --link d2:two {image}",
)
CONTAINERS = ("a1", "a2", "b1", "d1", "d2", "l1", "side", "d3")
OWN_NS = ("a1", "a2", "b1", "d1", "d2", "l1", "d3")  # side shares a1's
# (asking container, name); `@x` stands for container x's short ID
QUESTIONS = [
    ("a1", "a2"), ("a1", "web"), ("a1", "shared"), ("a1", "A2HOST"), ("a1", "@a2"), ("a1", "a2.front"),
    ("a1", "a2.back"), ("a1", "b1"), ("a1", "l1"), ("a1", "d1"), ("a1", "alink"), ("a1", "side"),
    ("a2", "a1"), ("a2", "b1"), ("a2", "b1.back"), ("a2", "alink"), ("a2", "@a1"),
    ("b1", "a1"), ("b1", "a2"), ("b1", "a2.back"), ("b1", "a2.front"), ("b1", "web"), ("b1", "b1"),
    ("b1", "a2host"),
    ("l1", "alink"), ("l1", "alink.front"), ("l1", "a1"), ("l1", "shared"),
    ("d1", "d2"), ("d1", "a1"), ("d2", "dalias"), ("d2", "d1"), ("d3", "two"), ("d3", "d1"),
    ("side", "a2"), ("side", "web"), ("side", "alink"),
]
PTRS = [("l1", "a2", "front"), ("b1", "a2", "back"), ("b1", "a1", "front"), ("a1", "b1", "back"),
        ("a2", "b1", "back")]


def arpa(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


class DockerSide:
    def __init__(self, docker: Oracle):
        self.docker = docker
        self.ids = {c: self.inspect(c, "{{.Id}}")[:12] for c in CONTAINERS}
        self.ips = {c: {net: self.inspect(c, "{{(index .NetworkSettings.Networks \"%s\").IPAddress}}" % net)
                        for net in ("front", "back", "bridge")
                        if net in self.inspect(c, "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}").split()}
                    for c in CONTAINERS}

    def inspect(self, c: str, fmt: str) -> str:
        return self.docker.docker(f"inspect -f '{fmt}' {c}").strip()

    def run(self, c: str, *argv: str) -> str:
        proc = subprocess.run(["docker", "exec", c, *argv], capture_output=True, text=True,
                              env=self.docker.env, timeout=60)
        return proc.stdout

    def file(self, c: str, name: str) -> str:
        return self.run(c, "cat", f"/etc/{name}")

    def iptables(self, c: str) -> str:
        pid = self.inspect(c, "{{.State.Pid}}")
        return subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "iptables-save"],
                              capture_output=True, text=True).stdout

    def lookup(self, c: str, name: str) -> set[str]:
        """Addresses busybox nslookup gets from the container's nameserver (DNS only)."""
        out = self.run(c, "nslookup", "-type=a", "-timeout=1", "-retry=1", name)
        return set(re.findall(r"^Name:\s*\S+\nAddress:\s*(\d+\.\d+\.\d+\.\d+)$", out, re.M)) | \
            set(re.findall(r"^Address:\s*(\d+\.\d+\.\d+\.\d+)$", out.split("answer:", 1)[-1], re.M)) \
            if "answer:" in out else set()

    def ptr(self, c: str, ip: str) -> str | None:
        out = self.run(c, "nslookup", "-type=ptr", "-timeout=1", "-retry=1", arpa(ip))
        m = re.search(r"name = (\S+)", out)
        return m.group(1).rstrip(".") if m else None


class LabSide:
    def __init__(self, lab: str):
        from netlab.app.lifecycle import snapshot_topology
        self.topo = snapshot_topology(lab)
        self.ids = {c.name: c.short_id for c in self.topo.containers}
        self.ips = {c.name: {a.network: str(a.address.ip) for a in c.attachments} for c in self.topo.containers}
        self.ips["side"] = {}

    def netns(self, c: str) -> str:
        return self.topo.container(c).netns

    def file(self, c: str, name: str) -> str:
        with open(f"/etc/netns/{self.netns(c)}/{name}") as f:
            return f.read()

    def iptables(self, c: str) -> str:
        return subprocess.run(["ip", "netns", "exec", self.netns(c), "iptables-save"],
                              capture_output=True, text=True).stdout

    def _ask(self, c: str, name: str, qtype: str):
        server = nameserver(f"/etc/netns/{self.netns(c)}/resolv.conf")
        return ask(server, name, qtype, ns=self.netns(c), timeout=2.0)

    def lookup(self, c: str, name: str) -> set[str]:
        reply = self._ask(c, name, "A")
        return {str(rr.rdata) for rr in reply.rr} if reply else set()

    def ptr(self, c: str, ip: str) -> str | None:
        reply = self._ask(c, arpa(ip), "PTR")
        return str(reply.rr[0].rdata).rstrip(".") if reply and reply.rr else None


def placeholders(text: str, side, host_dns: str) -> str:
    for c, short in side.ids.items():
        text = text.replace(short, f"<id {c}>")
    return text.replace(f"nameserver {host_dns}\n", "nameserver <host's>\n")


def nat_shape(text: str) -> str:
    """filter and nat as iptables-save shows them, the resolver's random ports blanked."""
    text = re.sub(r"127\.0\.0\.11:\d+", "127.0.0.11:<port>", canonical_iptables(text))
    return re.sub(r"--sport \d+", "--sport <port>", text)


def test_names_files_and_nat_rules_match_docker(make_lab):
    make_lab(LAB)
    lab = LabSide("dncmp")
    with Oracle("nld-names") as docker:
        for command in DOCKER:
            docker.docker(command)
        real = DockerSide(docker)
        assert real.ips == {c: ips for c, ips in lab.ips.items()}, "the same addresses on both sides"
        host_dns = nameserver()
        for c in CONTAINERS:
            assert placeholders(lab.file(c, "resolv.conf"), lab, "203.0.113.53") == \
                placeholders(real.file(c, "resolv.conf"), real, host_dns), c
            ours, theirs = (placeholders(side.file(c, "hosts"), side, "").splitlines() for side in (lab, real))
            # dockerd writes link lines in Go map order, which is random: compared as a set
            assert ours[-1] == theirs[-1] and sorted(ours) == sorted(theirs), c
        for c in OWN_NS:
            assert nat_shape(lab.iptables(c)) == nat_shape(real.iptables(c)), c

        def both(question):
            c, name = question
            pick = lambda side: f"{side.ids[name[1:]]}" if name.startswith("@") else name
            return real.lookup(c, pick(real)), lab.lookup(c, pick(lab))

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = dict(zip(QUESTIONS, pool.map(both, QUESTIONS)))
            ptrs = dict(zip(PTRS, pool.map(lambda p: (real.ptr(p[0], real.ips[p[1]][p[2]]),
                                                      lab.ptr(p[0], lab.ips[p[1]][p[2]])), PTRS)))
    wrong = {q: a for q, a in answers.items() if a[0] != a[1]}
    assert not wrong, f"(docker, netlab) differ: {wrong}"
    assert any(a[0] for a in answers.values()) and any(not a[0] for a in answers.values())
    wrong = {q: a for q, a in ptrs.items() if a[0] != a[1]}
    assert not wrong, f"PTR (docker, netlab) differ: {wrong}"
    assert ptrs[("l1", "a2", "front")] == ("a2.front", "a2.front")
