"""A small DNS client: one query to the nameserver of /etc/resolv.conf (or a given server),
over UDP or TCP, from the current namespace or from a lab namespace.

`python -m netlab.kernel.dnsquery NAME [-t TYPE] [--tcp] [--server IP]`, run through
`netlab exec LAB CONTAINER -- ...`, asks as a container's own resolver library would: it
prints `RCODE` and one `TYPE VALUE TTL` line per answer; exit 0 with answers, 1 when the
reply is empty or an error, 2 when nothing answered."""
from __future__ import annotations

import argparse
import socket
import sys

from dnslib import QTYPE, RCODE, DNSError, DNSRecord

from . import netns


def nameserver(resolv_conf: str = "/etc/resolv.conf") -> str:
    try:
        with open(resolv_conf) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    return parts[1]
    except OSError:
        pass
    return "127.0.0.1"


def _socket(kind: int, ns: str | None) -> socket.socket:
    if ns is None:
        return socket.socket(socket.AF_INET, kind)
    with netns.entered(ns):
        return socket.socket(socket.AF_INET, kind)


def ask(server: str, name: str, qtype: str = "A", tcp: bool = False, timeout: float = 2.0,
        ns: str | None = None, port: int = 53) -> DNSRecord | None:
    """The reply, or None when none came within `timeout`."""
    query = DNSRecord.question(name, qtype)
    sock = _socket(socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM, ns)
    try:
        sock.settimeout(timeout)
        sock.connect((server, port))
        data = query.pack()
        if tcp:
            sock.sendall(len(data).to_bytes(2, "big") + data)
            size = int.from_bytes(_read(sock, 2), "big")
            return DNSRecord.parse(_read(sock, size))
        sock.send(data)
        while True:
            reply = sock.recv(65535)
            if reply[:2] == data[:2]:
                return DNSRecord.parse(reply)
    except (OSError, ValueError, EOFError, DNSError):
        return None
    finally:
        sock.close()


def _read(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m netlab.kernel.dnsquery", description=__doc__.split("\n\n")[0])
    p.add_argument("name")
    p.add_argument("-t", "--type", default="A", help="query type (A, AAAA, PTR, MX, ...)")
    p.add_argument("--tcp", action="store_true")
    p.add_argument("--server", help="default: the first nameserver of /etc/resolv.conf")
    p.add_argument("--timeout", type=float, default=2.0)
    args = p.parse_args(argv)
    if args.type.upper() not in QTYPE.reverse:
        p.error(f"unknown query type {args.type!r}")
    try:
        DNSRecord.question(args.name, args.type.upper()).pack()
    except (DNSError, UnicodeError) as e:
        p.error(f"{args.name[:70]!r} is not a name a query can carry ({e})")
    reply = ask(args.server or nameserver(), args.name, args.type.upper(), args.tcp, args.timeout)
    if reply is None:
        print("no answer")
        return 2
    print(RCODE.get(reply.header.rcode))
    for rr in reply.rr:
        print(f"{QTYPE.get(rr.rtype)} {rr.rdata} {rr.ttl}")
    return 0 if reply.header.rcode == RCODE.NOERROR and reply.rr else 1


if __name__ == "__main__":
    sys.exit(main())
