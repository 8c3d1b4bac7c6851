"""Stand-in listeners, served by the lab's agent: images do not run in a lab, so each port a
container's image would listen on (every `expose`d or published container port) is
answered here, in the container's namespace, on all IPv4 and all IPv6 addresses. TCP
accepts, writes the container's name and a newline, and closes; UDP echoes each datagram
from the address it was sent to. A port something else in the namespace already holds (the
container's own command) is reported, not fought over. A reload reconciles port by port:
listeners stay open unless their port left the plan or their namespace was made anew."""
from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from dataclasses import dataclass, field

from ..errors import KernelError
from ..kernel import netns
from ..plan.items import Standin
from ..plan.plan import Plan
from .proxy import IP_PKTINFO, PKTINFO, PKTINFO6

LINGER = 5.0            # a client may keep its end open this long after the name was written
BURST = 64              # datagrams echoed per wake-up, so one busy port cannot starve the rest
FAMILIES = {4: (socket.AF_INET, "0.0.0.0"), 6: (socket.AF_INET6, "::")}


def _socket(ns: str, proto: str, family: int) -> socket.socket:
    af, _ = FAMILIES[family]
    with netns.entered(ns):
        sock = socket.socket(af, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    try:
        if family == 6:
            # the IPv4 port is a socket of its own: either family's bind may fail alone
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if proto == "udp":
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        elif proto == "udp":
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        if proto == "tcp":
            # a reload rebinds past connections in TIME_WAIT; not on UDP, where it would let
            # two sockets share the port and hide one the container's command holds
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def _answer(name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The name, then our FIN; the connection closes once the client closes its end (or
    LINGER passes), so no unread byte of the client's turns our close into a RST."""
    try:
        writer.write(f"{name}\n".encode())
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(LINGER):
            while await reader.read(65536):
                pass
    except (TimeoutError, ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@dataclass(kw_only=True)
class _Listener:
    netns: str
    inode: int | None
    sock: socket.socket
    server: asyncio.AbstractServer | None = None
    reading: bool = False

    def echo(self) -> None:
        """Each datagram back to its sender, from the address it was sent to (read with
        IP_PKTINFO / IPV6_PKTINFO): a reply from another of the container's addresses would
        miss a connected client and the conntrack entry of a published port's DNAT."""
        v6 = self.sock.family == socket.AF_INET6
        for _ in range(BURST):
            try:
                data, anc, _, client = self.sock.recvmsg(65535, socket.CMSG_SPACE(PKTINFO.size))
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue        # an ICMP error for an earlier echo: that client went away
            cmsg = []
            for level, kind, d in anc:
                if v6 and (level, kind) == (socket.IPPROTO_IPV6, socket.IPV6_PKTINFO):
                    cmsg = [(level, kind, PKTINFO6.pack(d[:16], 0))]
                elif not v6 and (level, kind) == (socket.IPPROTO_IP, IP_PKTINFO):
                    cmsg = [(level, kind, PKTINFO.pack(0, PKTINFO.unpack(d[:PKTINFO.size])[2], bytes(4)))]
            with contextlib.suppress(OSError):
                self.sock.sendmsg([data], cmsg, 0, client)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        if self.reading:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self.sock.fileno())
        with contextlib.suppress(OSError):
            self.sock.close()


async def _open(item: Standin, proto: str, port: int, family: int) -> _Listener:
    inode = netns.inode(item.netns)
    sock = _socket(item.netns, proto, family)
    listener = _Listener(netns=item.netns, inode=inode, sock=sock)
    try:
        sock.bind((FAMILIES[family][1], port))
        if proto == "tcp":
            listener.server = await asyncio.start_server(
                lambda r, w: _answer(item.container, r, w), sock=sock, backlog=socket.SOMAXCONN)
        else:
            asyncio.get_running_loop().add_reader(sock.fileno(), listener.echo)
            listener.reading = True
    except BaseException:
        await listener.close()
        raise
    return listener


def _label(port: int, proto: str) -> str:
    return f"{port}/{proto}"


@dataclass
class Standins:
    items: dict[tuple, Standin] = field(default_factory=dict)
    # (container, proto, port, family) -> its open socket
    listeners: dict[tuple[str, str, int, int], _Listener] = field(default_factory=dict)
    # the same keys -> (errno, why) for a port that could not be opened at the last reload
    failed: dict[tuple[str, str, int, int], tuple[int, str]] = field(default_factory=dict)

    async def apply(self, plan: Plan) -> None:
        want = {(item.container, proto, port, family): item
                for item in plan.of(Standin) for port, proto in item.ports for family in FAMILIES}
        for key, listener in list(self.listeners.items()):
            item = want.get(key)
            if item is None or item.netns != listener.netns or netns.inode(item.netns) != listener.inode:
                await self.listeners.pop(key).close()
        self.failed.clear()
        for key, item in want.items():
            if key in self.listeners:
                continue
            _, proto, port, family = key
            try:
                self.listeners[key] = await _open(item, proto, port, family)
            except (OSError, KernelError) as e:
                code = e.errno if isinstance(e, OSError) and e.errno else 0
                self.failed[key] = (code, e.strerror if isinstance(e, OSError) and e.strerror else str(e))
        self.items = {item.key: item for item in plan.of(Standin)}

    async def close(self) -> None:
        for listener in self.listeners.values():
            await listener.close()
        self.listeners.clear()

    def status(self) -> dict:
        """Per container, each port's state: `listening` (both families), `taken` when
        something in the namespace holds it already (the container's own command, say),
        else why it could not be opened; an error that is not `taken` is also in
        `standin_errors`, for `verify` to call a problem."""
        ports: dict[str, dict] = {}
        errors: dict[str, str] = {}
        for item in self.items.values():
            states = {}
            for port, proto in item.ports:
                why = {f"IPv{family}": self.failed[(item.container, proto, port, family)]
                       for family in FAMILIES if (item.container, proto, port, family) in self.failed}
                if not why:
                    states[_label(port, proto)] = "listening"
                elif all(code == errno.EADDRINUSE for code, _ in why.values()):
                    states[_label(port, proto)] = f"taken ({', '.join(why)}): something in the netns listens there"
                else:
                    text = "; ".join(f"{fam}: {reason}" for fam, (_, reason) in why.items())
                    states[_label(port, proto)] = f"not listening ({text})"
                    errors[f"{item.container} {_label(port, proto)}"] = \
                        f"cannot listen on {_label(port, proto)} in {item.netns}: {text}"
            ports[item.container] = {"netns": item.netns, "ports": states}
        return {"standins": [[list(k), item.digest] for k, item in self.items.items()],
                "standin_ports": ports, "standin_errors": errors}
