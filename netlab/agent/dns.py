"""Docker's embedded DNS server, served by the lab's agent: for each container namespace that
has one, a UDP and a TCP socket on 127.0.0.11 at the planned ports (the namespace's nat rules
send :53 there), opened after entering the namespace, so one process serves every container
and nothing outside that namespace can reach them. Also the stand-in upstream server in
`outside`. A changed plan swaps the name tables in place; sockets stay open unless their
ports or namespace changed."""
from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from dataclasses import dataclass, field

from ..errors import KernelError
from ..kernel import netns
from ..plan.dns import DNS_PORT, RESOLVER_IP
from ..plan.items import DnsNames, Resolver, StandinDNS
from ..plan.plan import Plan
from .dnsmsg import Decision, decide, failure, query_id, standin_answer, upstream_verdict
from .names import Table, View

FORWARD_TRY = 2.0         # seconds one upstream server gets
FORWARD_DEADLINE = 4.0    # for all of them: below glibc's 5 s, so the client's first try gets a reply
MAX_FORWARDS = 1024       # forwarded queries in flight per resolver, as Docker limits them
MAX_TCP = 128             # open TCP connections per server; more are closed at once
UDP_BUFFER = 4 << 20      # receive buffer: a burst of big datagrams must not push out the queries
SO_RCVBUFFORCE = 33       # <linux/socket.h>; above rmem_max, for root
TCP_IDLE = 10.0           # a TCP client that sends nothing for this long is dropped
CACHE = 4096              # decisions remembered per resolver (a stub asks the same few names)
ORDERS_UP_TO = 4          # names with this many addresses or fewer: each order encoded once (n!)


def _socket(ns: str, kind: int) -> socket.socket:
    with netns.entered(ns):
        sock = socket.socket(socket.AF_INET, kind)
    sock.setblocking(False)
    return sock


def _big_buffer(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, UDP_BUFFER)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER)


async def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    loop = asyncio.get_running_loop()
    buf = b""
    while len(buf) < n:
        chunk = await loop.sock_recv(sock, n - len(buf))
        if not chunk:
            raise ConnectionError("closed early")
        buf += chunk
    return buf


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, server: _Server):
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        try:
            self.server.on_datagram(self.transport, data, addr)
        except Exception:       # a packet must never take the server down
            self.server.count("errors")

    def error_received(self, exc):
        pass                    # an ICMP error for an earlier reply: the client went away


@dataclass(kw_only=True)
class _Server:
    """UDP and TCP DNS sockets on one address of one namespace."""

    netns: str
    address: str
    udp_port: int
    tcp_port: int
    opened: float = 0.0
    inode: int | None = None
    counters: dict[str, int] = field(default_factory=dict)
    _udp: asyncio.DatagramTransport | None = None
    _tcp: asyncio.AbstractServer | None = None
    _tcp_clients: int = 0

    def count(self, what: str) -> None:
        self.counters[what] = self.counters.get(what, 0) + 1

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self.inode = netns.inode(self.netns)
        udp = _socket(self.netns, socket.SOCK_DGRAM)
        try:
            tcp = _socket(self.netns, socket.SOCK_STREAM)
        except BaseException:
            udp.close()
            raise
        try:
            _big_buffer(udp)
            udp.bind((self.address, self.udp_port))
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((self.address, self.tcp_port))
            self._udp, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self), sock=udp)
            self._tcp = await asyncio.start_server(self._tcp_client, sock=tcp, backlog=MAX_TCP)
        except BaseException:
            udp.close()
            tcp.close()
            raise
        self.opened = time.time()

    def same_sockets(self, netns_name: str, address: str, udp_port: int, tcp_port: int) -> bool:
        """Still right for this spec: a namespace recreated under the same name (drift repair)
        holds none of the old sockets, so its inode is compared too."""
        return ((self.netns, self.address, self.udp_port, self.tcp_port) == (netns_name, address, udp_port, tcp_port)
                and netns.inode(self.netns) == self.inode)

    def on_datagram(self, transport, data: bytes, addr) -> None:
        raise NotImplementedError

    async def answer_stream(self, data: bytes) -> bytes | None:
        raise NotImplementedError

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._tcp_clients >= MAX_TCP:
            writer.close()
            return
        self._tcp_clients += 1
        try:
            while True:
                size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), TCP_IDLE), "big")
                data = await asyncio.wait_for(reader.readexactly(size), TCP_IDLE)
                reply = await self.answer_stream(data)
                if reply is None:
                    break       # junk on a stream: the framing cannot be trusted any more
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except Exception:
            self.count("errors")
        finally:
            self._tcp_clients -= 1
            with contextlib.suppress(Exception):
                writer.close()

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        self._udp = self._tcp = None


@dataclass(kw_only=True)
class ResolverServer(_Server):
    """One container's 127.0.0.11."""

    item: Resolver | None = None
    view: View = field(default_factory=View)
    _forwards: int = 0
    _pending: set = field(default_factory=set)    # forwards in flight: held, so none is collected
    # (tcp, message without its ID) -> decision, its reply without the ID: the hot path
    # skips decoding and encoding for a question already answered with the same names
    _cache: dict = field(default_factory=dict)

    @classmethod
    def make(cls, item: Resolver, tables) -> ResolverServer:
        server = cls(netns=item.netns, address=RESOLVER_IP, udp_port=item.udp_port, tcp_port=item.tcp_port)
        server.update(item, tables)
        return server

    def fits(self, item: Resolver) -> bool:
        return self.same_sockets(item.netns, RESOLVER_IP, item.udp_port, item.tcp_port)

    def update(self, item: Resolver, tables) -> None:
        self.item = item
        self.view = View.of(item, tables)
        self._cache.clear()

    def _decide(self, data: bytes, tcp: bool) -> Decision:
        key = (tcp, bytes(data[2:]))
        hit = self._cache.get(key)
        if isinstance(hit, dict):
            d = self._in_random_order(hit, data, tcp)
        elif hit is not None:
            d = Decision(data[:2] + hit.reply if hit.reply is not None else None, hit.forward, hit.outcome)
        else:
            d = decide(self.view, data, tcp, bool(self.item.upstreams), self.item.ndots_set)
            if len(self._cache) >= CACHE:
                self._cache.clear()
            if d.repeatable:
                self._cache[key] = Decision(d.reply[2:] if d.reply is not None else None, d.forward, d.outcome)
            elif d.outcome == "answered" and d.addresses <= ORDERS_UP_TO:
                self._cache[key] = {"n": d.addresses}
        self.count(d.outcome)
        return d

    def _in_random_order(self, orders: dict, data: bytes, tcp: bool) -> Decision:
        """A round-robin answer: an order drawn uniformly (as a Fisher-Yates shuffle would),
        its reply encoded the first time that order comes up."""
        perm = list(range(orders["n"]))
        random.shuffle(perm)
        perm = tuple(perm)
        tail = orders.get(perm)
        if tail is None:
            d = decide(self.view, data, tcp, bool(self.item.upstreams), self.item.ndots_set,
                       order=lambda ips: [ips[i] for i in perm])
            if d.reply is None or d.addresses != orders["n"]:
                return d        # the names changed under it; cleared on the next update anyway
            tail = orders[perm] = d.reply[2:]
        return Decision(data[:2] + tail, outcome="answered")

    def on_datagram(self, transport, data: bytes, addr) -> None:
        d = self._decide(data, tcp=False)
        if d.reply is not None:
            transport.sendto(d.reply, addr)
        elif d.forward:
            task = asyncio.ensure_future(self._forward_datagram(transport, data, addr))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await super().close()

    async def _forward_datagram(self, transport, data: bytes, addr) -> None:
        try:
            reply = await self.forward(data, socket.SOCK_DGRAM)
            if not transport.is_closing():
                transport.sendto(reply, addr)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.count("errors")

    async def answer_stream(self, data: bytes) -> bytes | None:
        d = self._decide(data, tcp=True)
        if d.forward:
            return await self.forward(data, socket.SOCK_STREAM)
        return d.reply

    async def forward(self, data: bytes, kind: int) -> bytes:
        """Ask the upstream servers in turn, each from the namespace the plan says (the
        container's, as Docker 20.10 does), over the client's protocol. The last usable reply wins; if none
        came, SERVFAIL (Docker would stay silent and leave the client to time out)."""
        loop = asyncio.get_running_loop()
        ident = query_id(data)
        last = None
        if self._forwards < MAX_FORWARDS:
            self._forwards += 1
            deadline = loop.time() + FORWARD_DEADLINE
            try:
                for server, where in self.item.upstreams:
                    left = deadline - loop.time()
                    if left <= 0:
                        break
                    try:
                        reply = await asyncio.wait_for(self._ask(where, server, data, kind, ident),
                                                       min(FORWARD_TRY, left))
                    except (TimeoutError, OSError, KernelError):
                        continue
                    last = reply
                    if upstream_verdict(reply, ident) == "use":
                        break
            finally:
                self._forwards -= 1
        return last if last is not None else failure(data)

    async def _ask(self, where: str, server: str, data: bytes, kind: int, ident: int) -> bytes:
        loop = asyncio.get_running_loop()
        sock = _socket(where, kind)
        try:
            await loop.sock_connect(sock, (server, DNS_PORT))
            if kind == socket.SOCK_STREAM:
                await loop.sock_sendall(sock, len(data).to_bytes(2, "big") + data)
                size = int.from_bytes(await _recv_exactly(sock, 2), "big")
                return await _recv_exactly(sock, size)
            await loop.sock_sendall(sock, data)
            while True:
                reply = await loop.sock_recv(sock, 65535)
                if upstream_verdict(reply, ident) != "ignore":
                    return reply
        finally:
            sock.close()


@dataclass(kw_only=True)
class StandinServer(_Server):
    """The hosts' upstream DNS server in `outside`."""

    item: StandinDNS | None = None

    @classmethod
    def make(cls, item: StandinDNS, tables) -> StandinServer:
        server = cls(netns=item.netns, address=item.address, udp_port=DNS_PORT, tcp_port=DNS_PORT)
        server.item = item
        return server

    def fits(self, item: StandinDNS) -> bool:
        return self.same_sockets(item.netns, item.address, DNS_PORT, DNS_PORT)

    def update(self, item: StandinDNS, tables) -> None:
        self.item = item

    def on_datagram(self, transport, data: bytes, addr) -> None:
        reply = standin_answer(data)
        if reply is not None:
            transport.sendto(reply, addr)

    async def answer_stream(self, data: bytes) -> bytes | None:
        return standin_answer(data)


SERVERS = {Resolver: ResolverServer, StandinDNS: StandinServer}


@dataclass
class Dns:
    servers: dict[tuple, _Server] = field(default_factory=dict)
    names: dict[tuple, str] = field(default_factory=dict)      # DnsNames key -> digest loaded
    errors: dict[str, str] = field(default_factory=dict)

    async def apply(self, plan: Plan) -> None:
        tables = {t.scope: Table.of(t) for t in plan.of(DnsNames)}
        self.names = {t.key: t.digest for t in plan.of(DnsNames)}
        want = {i.key: i for kind in SERVERS for i in plan.of(kind)}
        for key in list(self.servers):
            item = want.get(key)
            if item is None or not self.servers[key].fits(item):
                await self.servers.pop(key).close()
        self.errors.clear()
        for key, item in want.items():
            if key in self.servers:
                self.servers[key].update(item, tables)
                continue
            server = SERVERS[type(item)].make(item, tables)
            try:
                await server.open()
            except (OSError, KernelError) as e:
                await server.close()
                why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
                self.errors[item.netns] = f"cannot serve DNS on {server.address} in {item.netns}: {why}"
                continue
            self.servers[key] = server

    async def close(self) -> None:
        for server in self.servers.values():
            await server.close()
        self.servers.clear()

    def status(self) -> dict:
        served = [[list(k), s.item.digest] for k, s in self.servers.items()]
        served += [[list(k), d] for k, d in self.names.items()]
        resolvers = {s.item.container: {"netns": s.netns, "udp": s.udp_port, "tcp": s.tcp_port,
                                        "opened": s.opened, "counts": dict(s.counters)}
                     for s in self.servers.values() if isinstance(s, ResolverServer)}
        return {"dns": served, "dns_errors": self.errors, "resolvers": resolvers}
