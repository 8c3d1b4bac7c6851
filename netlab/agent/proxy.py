"""docker-proxy, in-process: for each published port, a listener on the host's address that
forwards to the container. It is what answers `curl 127.0.0.1:8080` on a Docker host (the nat
OUTPUT jump skips loopback) and container -> its own published port (the DNAT has `! -i br`)."""
from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass, field

from ..kernel import netns
from ..plan.items import Proxy
from ..plan.plan import Plan

UDP_IDLE = 90.0               # docker-proxy's UDP connection tracking timeout
IP_PKTINFO = 8                # <linux/in.h>; Python's socket module lacks the IPv4 one
PKTINFO = struct.Struct("i4s4s")   # struct in_pktinfo: ifindex, spec_dst, addr
PKTINFO6 = struct.Struct("16sI")     # struct in6_pktinfo: addr, ifindex


def _socket(ns: str, kind: int, ip: str) -> socket.socket:
    """A socket of `ip`'s family: a binding on an IPv6 host address listens on AF_INET6,
    and forwards to a container's IPv4 address over AF_INET (docker-proxy's IPv6-to-IPv4)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with netns.entered(ns):
        sock = socket.socket(family, kind)
    if family == socket.AF_INET6:
        # as docker-proxy's: [::]:8080 is IPv6's alone, 0.0.0.0:8080 is bound apart
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.setblocking(False)
    return sock


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


@dataclass
class _Listener:
    item: Proxy
    sock: socket.socket
    server: object = None

    async def close(self) -> None:
        if isinstance(self.server, asyncio.AbstractServer):
            self.server.close()
        elif isinstance(self.server, asyncio.DatagramTransport):
            self.server.close()
        elif isinstance(self.server, _UDPRelayFromDestination):
            self.server.stop()
            for transport, timer in self.server.flows.values():
                timer.cancel()
                transport.close()
        with contextlib.suppress(OSError):
            self.sock.close()


class _UDPRelay(asyncio.DatagramProtocol):
    """One outgoing socket per client, as docker-proxy keeps its UDP 'connections'."""

    def __init__(self, item: Proxy):
        self.item = item
        self.flows: dict[tuple, tuple[asyncio.DatagramTransport, asyncio.TimerHandle]] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, client):
        asyncio.ensure_future(self._forward(data, client))

    def reply(self, data: bytes, client, local: bytes | None) -> None:
        assert self.transport is not None
        self.transport.sendto(data, client)

    async def _forward(self, data: bytes, client, local: bytes | None = None) -> None:
        loop = asyncio.get_running_loop()
        flow = self.flows.get(client)
        if flow is None:
            sock = _socket(self.item.netns, socket.SOCK_DGRAM, self.item.container_ip)
            sock.connect((self.item.container_ip, self.item.container_port))
            relay = self

            class Back(asyncio.DatagramProtocol):
                def datagram_received(self, reply, _addr):
                    relay.reply(reply, client, local)
                    relay._touch(client)

            transport, _ = await loop.create_datagram_endpoint(Back, sock=sock)
            flow = (transport, loop.call_later(UDP_IDLE, self._expire, client))
            self.flows[client] = flow
        flow[0].sendto(data)
        self._touch(client)

    def _touch(self, client) -> None:
        transport, timer = self.flows[client]
        timer.cancel()
        self.flows[client] = (transport, asyncio.get_running_loop().call_later(UDP_IDLE, self._expire, client))

    def _expire(self, client) -> None:
        transport, _ = self.flows.pop(client, (None, None))
        if transport is not None:
            transport.close()


class _UDPRelayFromDestination(_UDPRelay):
    """28.0's docker-proxy: each reply leaves from the address its client wrote to, read
    with IP_PKTINFO (IPV6_PKTINFO), so a client on a connected socket (a container writing to
    the host's address) accepts it. asyncio's datagram transport hides ancillary data: the
    listening socket is read directly."""

    def start(self, sock: socket.socket) -> None:
        self.v6 = sock.family == socket.AF_INET6
        if self.v6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        self.sock = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)

    def stop(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self.sock.fileno())

    def _readable(self) -> None:
        try:
            data, anc, _, client = self.sock.recvmsg(65535, socket.CMSG_SPACE(PKTINFO.size))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        if self.v6:
            local = next((d[:16] for level, kind, d in anc
                          if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO), None)
        else:
            local = next((PKTINFO.unpack(d[:PKTINFO.size])[2] for level, kind, d in anc
                          if level == socket.IPPROTO_IP and kind == IP_PKTINFO), None)
        asyncio.ensure_future(self._forward(data, client, local))

    def reply(self, data: bytes, client, local: bytes | None) -> None:
        if not local:
            cmsg = []
        elif self.v6:
            cmsg = [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, PKTINFO6.pack(local, 0))]
        else:
            cmsg = [(socket.IPPROTO_IP, IP_PKTINFO, PKTINFO.pack(0, local, bytes(4)))]
        with contextlib.suppress(OSError):
            self.sock.sendmsg([data], cmsg, 0, client)


@dataclass
class Proxies:
    listeners: dict[tuple, _Listener] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    async def apply(self, plan: Plan) -> None:
        want = {p.key: p for p in plan.of(Proxy)}
        for key in list(self.listeners):
            if want.get(key) != self.listeners[key].item:
                await self.listeners.pop(key).close()
        self.errors.clear()
        for key, item in want.items():
            if key in self.listeners:
                continue
            try:
                self.listeners[key] = await self._open(item)
            except OSError as e:
                self.errors[item.label] = f"cannot listen on {item.label} in {item.netns}: {e.strerror}"

    async def _open(self, item: Proxy) -> _Listener:
        loop = asyncio.get_running_loop()
        kind = socket.SOCK_STREAM if item.proto == "tcp" else socket.SOCK_DGRAM
        sock = _socket(item.netns, kind, item.host_ip)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((item.host_ip, item.host_port))
        listener = _Listener(item, sock)
        if item.mode == "hold":
            if kind == socket.SOCK_STREAM:
                # as dockerd's dummy proxy (net.Listen: the somaxconn backlog): a connection
                # nothing DNATs away completes its handshake, however many come at once
                sock.listen(socket.SOMAXCONN)
            return listener
        if kind == socket.SOCK_STREAM:
            listener.server = await asyncio.start_server(lambda r, w: self._serve(item, r, w), sock=sock)
        elif item.reply_from_destination:
            relay = _UDPRelayFromDestination(item)
            relay.start(sock)
            listener.server = relay
        else:
            listener.server, _ = await loop.create_datagram_endpoint(lambda: _UDPRelay(item), sock=sock)
        return listener

    async def _serve(self, item: Proxy, reader, writer) -> None:
        upstream = _socket(item.netns, socket.SOCK_STREAM, item.container_ip)
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(
                upstream, (item.container_ip, item.container_port)), 5)
            up_reader, up_writer = await asyncio.open_connection(sock=upstream)
        except (TimeoutError, OSError):
            upstream.close()
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        for w in (writer, up_writer):
            with contextlib.suppress(Exception):
                w.close()

    async def close(self) -> None:
        for listener in self.listeners.values():
            await listener.close()
        self.listeners.clear()

    def status(self) -> dict:
        return {"proxies": [list(k) for k in self.listeners], "proxy_errors": self.errors}
