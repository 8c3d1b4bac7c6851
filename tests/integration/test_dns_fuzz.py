"""The embedded DNS under junk: more than 10,000 malformed, truncated, mutated and oversized
packets at a container's 127.0.0.11 (through the nat rules and at its real ports), over UDP
and TCP, and some at the stand-in upstream; every so often a valid query, which must be
answered. Afterwards the same agent is still there and answers as before."""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import struct
import time

import pytest
from conftest import needs_root
from dnslib import QTYPE, RCODE, DNSRecord

from netlab.kernel import netns
from netlab.kernel.dnsquery import ask
from netlab.plan.dns import resolver_ports

pytestmark = [needs_root, pytest.mark.root]

LAB = "dnfuzz"
SEED = int(os.environ.get("NETLAB_FUZZ_SEED", "4004"))
NAMES = ["a2", "web", "shared", "a2.n", "nothing", "x" * 63, "2.0.18.172.in-addr.arpa", ".".join(["y" * 63] * 4)]
TYPES = ["A", "AAAA", "PTR", "MX", "SRV", "TXT", "ANY", "NS", "SOA"]


def valid(rng: random.Random) -> bytes:
    """A well-formed query, built by hand: dnslib will not encode the over-long names."""
    labels = rng.choice(NAMES).encode().split(b".")
    qname = b"".join(bytes([len(label)]) + label for label in labels) + b"\0"
    header = struct.pack("!6H", rng.randrange(65536), 0x0100, 1, 0, 0, 0)
    return header + qname + struct.pack("!HH", getattr(QTYPE, rng.choice(TYPES)), 1)


def mutated(rng: random.Random) -> bytes:
    data = bytearray(valid(rng))
    how = rng.randrange(6)
    if how == 0:                                    # flip bytes
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how == 1:                                  # truncate
        data = data[:rng.randrange(len(data))]
    elif how == 2:                                  # header counts that lie
        data[4:12] = struct.pack("!4H", *(rng.choice([0, 1, 2, 3, 255, 65535]) for _ in range(4)))
    elif how == 3:                                  # a compression pointer to itself, or beyond the end
        at = rng.randrange(12, len(data))
        data[at:at + 2] = struct.pack("!H", 0xC000 | rng.choice([at, 12, 0x3FFF]))
    elif how == 4:                                  # junk appended, EDNS-looking records
        data[10:12] = struct.pack("!H", rng.randint(1, 3))
        data += bytes([0, 0, 41, rng.randrange(256), rng.randrange(256)]) + os.urandom(rng.randint(0, 40))
    else:                                           # a label longer than 63, or a bit-label type
        data[12] = rng.choice([64, 0x40, 0x80, 0xFF])
    return bytes(data)


def junk(rng: random.Random) -> bytes:
    return rng.randbytes(rng.randint(0, 600))


def oversized(rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return rng.randbytes(rng.randint(1500, 65507))
    return (valid(rng) + rng.randbytes(rng.randint(1500, 65000)))[:65507]


def answered(sock: socket.socket, name: str = "a2", tries: int = 5) -> bool:
    """A valid query gets its answer. UDP may drop it when a burst of 64 KiB junk has just
    filled a buffer, and a loaded machine may not run the agent for a while, so it is asked
    up to `tries` times (each waits for a second of silence), as a stub resolver would:
    what this test catches is a resolver that stopped, not a slow one. Replies to the junk
    sent before share the socket, and one in ~65,000 has our ID: only a reply to this very
    question (ID, name and type) counts."""
    for _ in range(tries):
        query = DNSRecord.question(name)
        sock.send(query.pack())
        while True:
            try:
                reply = sock.recv(65535)
            except TimeoutError:
                break
            if reply[:2] != query.pack()[:2]:
                continue
            try:
                r = DNSRecord.parse(reply)
            except Exception:       # noqa: BLE001 -- a reply to junk that happens to share the ID
                continue
            if (r.q.qname, r.q.qtype) != (query.q.qname, query.q.qtype):
                continue
            if r.header.rcode == RCODE.NOERROR and r.rr and r.rr[0].rtype == QTYPE.A:
                return True
    return False


def tcp_junk(ns: str, port: int, rng: random.Random) -> None:
    with netns.entered(ns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(0.1)
    try:
        sock.connect(("127.0.0.11", port))
        how = rng.randrange(4)
        if how == 0:                        # a length prefix that promises more than comes
            sock.sendall(struct.pack("!H", rng.randint(100, 65535)) + rng.randbytes(rng.randint(0, 90)))
        elif how == 1:                      # framed junk and mutated queries, pipelined
            for _ in range(rng.randint(1, 5)):
                body = rng.choice([junk, mutated])(rng)
                sock.sendall(struct.pack("!H", len(body)) + body)
        elif how == 2:                      # one odd byte and a half-close
            sock.sendall(b"\x01")
            sock.shutdown(socket.SHUT_WR)
        else:                               # a big framed message
            body = oversized(rng)[:65535]
            sock.sendall(struct.pack("!H", len(body)) + body)
        try:
            sock.recv(65535)
        except OSError:
            pass
    except OSError:
        pass
    finally:
        sock.close()


def test_junk_does_not_stop_the_resolver(make_lab):
    make_lab(f"name: {LAB}\nnetworks: {{n: {{}}}}\ncontainers:\n  a1: {{networks: [n]}}\n"
             "  a2: {networks: {n: {aliases: [web, shared]}}}\n")
    with open(f"/run/netlab/{LAB}/agent.pid") as f:
        agent = int(f.read())
    rng = random.Random(SEED)
    ns = f"{LAB}-a1"
    udp_port, tcp_port = resolver_ports(LAB, "a1")
    with netns.entered(ns):
        via_nat = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        direct = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        standin = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    via_nat.connect(("127.0.0.11", 53))
    direct.connect(("127.0.0.11", udp_port))
    standin.connect(("203.0.113.53", 53))
    for s in (via_nat, direct, standin):
        s.settimeout(1.0)
    sent = 0
    makers = [junk] * 3 + [mutated] * 6 + [oversized]
    try:
        for i in range(10_500):
            target = direct if i % 5 == 0 else via_nat
            try:
                target.send(rng.choice(makers)(rng))
                sent += 1
            except OSError:
                pass                        # e.g. ECONNREFUSED from an earlier ICMP error
            if i % 7 == 0:
                try:
                    standin.send(mutated(rng))
                    sent += 1
                except OSError:
                    pass
            if i % 25 == 24:
                # the socket is FIFO: an answer here means all before it has been read
                if not answered(via_nat):
                    _explain_silence(ns, agent, sent)
                _drain(direct)
                _drain(standin)
            if i % 40 == 0:
                tcp_junk(ns, 53, rng)
                tcp_junk(ns, tcp_port, rng)
                sent += 2
        assert sent >= 10_000
        for name in ("a2", "web", "shared"):
            assert answered(via_nat, name)
        assert answered(direct)
        assert ask("127.0.0.11", "a2", tcp=True, ns=ns).rr
        assert ask("203.0.113.53", "example.org", ns=ns).header.rcode == RCODE.NXDOMAIN
        with open(f"/run/netlab/{LAB}/agent.pid") as f:
            assert int(f.read()) == agent, "the agent was restarted"
        counts = _counts(agent, "a1")
        assert sum(counts.values()) >= 9000, counts       # they reached it (a few lost to full buffers)
        assert counts.get("rejected", 0) > 1000 and counts.get("answered", 0) > 400, counts
        assert counts.get("errors", 0) == 0, counts
        with open(f"/run/netlab/{LAB}/log/agent.log") as f:
            assert "Traceback" not in f.read()
    finally:
        for s in (via_nat, direct, standin):
            s.close()


def _counts(agent: int, container: str) -> dict[str, int]:
    """What the resolver has seen, by outcome: a reload makes the agent publish it."""
    path = f"/run/netlab/{LAB}/agent.json"
    with open(path) as f:
        before = json.load(f)["generation"]
    os.kill(agent, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(path) as f:
            status = json.load(f)
        if status["generation"] != before:
            return status["resolvers"][container]["counts"]
        time.sleep(0.05)
    raise AssertionError("the agent did not reload")


def _explain_silence(ns: str, agent: int, sent: int) -> None:
    """Fails with what was going on: whether the agent lives, whether a fresh socket gets an
    answer (then only the old flow was lost, e.g. its conntrack entry), and what it counted."""
    alive = os.path.exists(f"/proc/{agent}")
    with netns.entered(ns):
        fresh = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fresh.settimeout(2.0)
    fresh.connect(("127.0.0.11", 53))
    try:
        fresh_ok = answered(fresh)
    finally:
        fresh.close()
    counts = _counts(agent, "a1") if alive else None
    raise AssertionError(f"no answer after {sent} junk packets (seed {SEED}); agent alive: {alive}, "
                         f"a fresh socket answered: {fresh_ok}, resolver counts: {counts}")


def _drain(sock: socket.socket) -> None:
    sock.setblocking(False)
    try:
        while True:
            sock.recv(65535)
    except OSError:
        pass
    finally:
        sock.settimeout(1.0)
