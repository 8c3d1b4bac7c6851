"""Reachability probes run from inside a lab namespace: ICMP echo and TCP connect.

Each probe runs in its own thread, which enters the source namespace, so many probes
can wait on their timeouts at once."""
from __future__ import annotations

import os
import random
import select
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor

from . import netns


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(ns: str, address: str, timeout: float = 1.0, tries: int = 2) -> bool:
    """One ICMP echo per try; true on the matching echo reply."""
    with netns.entered(ns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        ident = random.randrange(1, 0xFFFF)
        for seq in range(1, tries + 1):
            payload = b"netlab-verify" + os.urandom(4)
            header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
            try:
                sock.sendto(packet, (address, 0))
            except OSError:
                return False            # no route: unreachable right away
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                ready, _, _ = select.select([sock], [], [], left)
                if not ready:
                    break
                data = sock.recv(2048)
                ihl = (data[0] & 0x0F) * 4
                icmp_type, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                if icmp_type == 0 and rid == ident and 1 <= rseq <= seq:
                    return True     # a late reply to an earlier try counts: the path works
        return False
    finally:
        sock.close()


def tcp_connect(ns: str, address: str, port: int, timeout: float = 1.5, settle: float = 3.0) -> bool:
    """True when a TCP handshake completes (to an IPv4 or IPv6 address). A refusal (RST) is
    retried for `settle` seconds:
    right after `up` a container's server may still be starting; a drop just times out."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    deadline = time.monotonic() + settle
    while True:
        with netns.entered(ns):
            sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect((address, port))
            return True
        except ConnectionRefusedError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        except OSError:
            return False
        finally:
            sock.close()


def run_all(probes: list[tuple]) -> list[bool]:
    """probes: (fn, args...) tuples, run concurrently; results in the same order."""
    if not probes:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(probes))) as pool:
        futures = [pool.submit(fn, *args) for fn, *args in probes]
        return [f.result() for f in futures]


def udp_echo(ns: str, address: str, port: int, timeout: float = 1.0, tries: int = 2) -> bool:
    """True when a datagram sent to address:port comes back (the far end must echo); an
    ICMP port unreachable or silence is false. Connected: the answer must come from the
    address it was sent to."""
    with netns.entered(ns):
        sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
        for _ in range(tries):
            try:
                sock.send(b"netlab-probe")
                if sock.recv(2048) == b"netlab-probe":
                    return True
            except ConnectionRefusedError:
                return False
            except (TimeoutError, OSError):
                continue
        return False
    finally:
        sock.close()
