"""Packets as bytes: AF_PACKET captures opened inside lab namespaces, the crafted probe,
dissection into PacketViews, and the pcapng file of a trace.

The only module of netlab that imports scapy, and only when a function here needs it
(its import costs a third of a second): `warm()` starts that import in the background
while the tracer sets everything else up."""
from __future__ import annotations

import ctypes
import importlib
import ipaddress
import mmap
import os
import socket
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ..kernel import netns
from .evidence import Frame
from .model import PacketView

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
_libc = ctypes.CDLL(None, use_errno=True)
_scapy_ready = threading.Event()
_scapy_error: list[BaseException] = []


def _import_scapy() -> None:
    try:
        for module in ("scapy.layers.inet", "scapy.layers.inet6", "scapy.layers.l2", "scapy.layers.vxlan",
                       "scapy.utils"):
            importlib.import_module(module)
    except BaseException as e:      # reported where scapy is needed
        _scapy_error.append(e)
    finally:
        _scapy_ready.set()


def warm() -> None:
    """Import scapy in a background thread (idempotent)."""
    if not getattr(warm, "started", False):
        warm.started = True
        threading.Thread(target=_import_scapy, name="scapy-import", daemon=True).start()


def _scapy():
    warm()
    _scapy_ready.wait()
    if _scapy_error:
        from ..errors import KernelError
        raise KernelError(f"scapy cannot be imported: {_scapy_error[0]} (pip install scapy)")
    import scapy.layers.inet as inet
    import scapy.layers.inet6 as inet6
    import scapy.layers.l2 as l2
    import scapy.layers.vxlan as vxlan
    return inet, inet6, l2, vxlan


class Capture:
    """One AF_PACKET socket per namespace, bound to no interface: it hears every interface
    there, and each frame says which. (A socket per interface costs an RCU grace period to
    bind and another to close, ~12 ms each.)

    Frames arrive through a TPACKET_V2 ring, because the ring stamps each frame when the
    tap sees it; a plain recvmsg stamps frames the kernel did not stamp on arrival (it
    turns timestamping on lazily, from a workqueue) with the time they are read, and the
    order of the hops would then be the order of reading."""

    def __init__(self) -> None:
        self.rings: dict[socket.socket, _Ring] = {}
        self.frames: list[Frame] = []

    @property
    def sockets(self):
        return self.rings

    def open(self, ns: str, names: dict[int, str], loopback: bool = False) -> None:
        """Listen on every interface of `ns` (lo too when asked); the socket stays there."""
        with netns.entered(ns):
            # protocol 0: no tap yet, so setting up the ring has no tap to tear down (each
            # tear-down waits for an RCU grace period); the bind below starts the one tap
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            self.rings[sock] = _Ring(sock, ns, names, loopback)
            _bind_all(sock)
        except OSError:
            self.rings.pop(sock, None)
            sock.close()
            raise

    def drain(self, sock: socket.socket) -> None:
        self.frames += self.rings[sock].read()

    def close(self) -> None:
        rings = list(self.rings.values())
        self.rings.clear()
        close_all([r.close for r in rings])


def close_all(closers) -> None:
    """Call every closer at once: closing a packet or netlink socket waits for an RCU grace
    period (~10 ms), in the kernel and without the GIL, so the waits overlap."""
    closers = list(closers)
    with ThreadPoolExecutor(max_workers=min(32, len(closers) or 1)) as pool:
        for future in [pool.submit(c) for c in closers]:
            future.result()


def _bind_all(sock: socket.socket) -> None:
    """bind() to every interface (ifindex 0) for ETH_P_ALL: Python's AF_PACKET address needs
    an interface name, so the sockaddr_ll is passed to libc directly."""
    addr = struct.pack("=HHiHBB8s", socket.AF_PACKET, socket.htons(ETH_P_ALL), 0, 0, 0, 0, b"")
    if _libc.bind(sock.fileno(), addr, len(addr)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


SOL_PACKET, PACKET_VERSION, PACKET_RX_RING, TPACKET_V2 = 263, 10, 5, 1
TP_STATUS_USER = 1
FRAME_SIZE, FRAMES = 2048, 256
_TP2 = struct.Struct("=IIIHHIIHH4x")        # tpacket2_hdr
_LL = struct.Struct("=HHiHBB8s")             # sockaddr_ll, right after the header


class _Ring:
    def __init__(self, sock: socket.socket, ns: str, names: dict[int, str], loopback: bool):
        self.sock, self.ns, self.names, self.loopback = sock, ns, names, loopback
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
        block = FRAME_SIZE * 8
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack("=IIII", block, FRAMES // 8, FRAME_SIZE, FRAMES))
        self.map = mmap.mmap(sock.fileno(), FRAME_SIZE * FRAMES, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self.next = 0

    def read(self) -> list[Frame]:
        out = []
        while True:
            base = self.next * FRAME_SIZE
            status, _, snaplen, mac, _, sec, nsec, _, _ = _TP2.unpack_from(self.map, base)
            if not status & TP_STATUS_USER:
                return out
            _, _, ifindex, _, pkttype, _, _ = _LL.unpack_from(self.map, base + 32)
            name = self.names.get(ifindex, str(ifindex))
            if name != "lo" or self.loopback:
                data = self.map[base + mac:base + mac + snaplen]
                out.append(Frame(self.ns, name, pkttype == PACKET_OUTGOING, sec * 1_000_000_000 + nsec, data))
            struct.pack_into("=I", self.map, base, 0)      # hand the slot back to the kernel
            self.next = (self.next + 1) % FRAMES

    def close(self) -> None:
        self.map.close()
        self.sock.close()


# ---- dissection ----------------------------------------------------------------------
PROTOS = {1: "icmp", 6: "tcp", 17: "udp"}
PROTOS6 = {58: "icmp6", 6: "tcp", 17: "udp"}
ECHO, ECHO6 = (0, 8), (128, 129)


def dissect(frame: Frame) -> PacketView | None:
    """An IPv4 or IPv6 frame as a PacketView; a VXLAN frame as its inner packet, with the
    outer header (either family, as the inner one) in `outer`."""
    inet, inet6, l2, vxlan = _scapy()
    pkt = l2.Ether(frame.data)
    ip = _first_ip(inet, inet6, pkt)
    if ip is None:
        return None
    view = _view(inet, inet6, ip, pkt)
    inner = pkt.getlayer(vxlan.VXLAN)
    if inner is not None:
        eth = inner.payload
        inner_ip = _first_ip(inet, inet6, eth)
        if inner_ip is not None:
            # an underlay copy: the inner packet's fields, wrapped by the outer header
            return replace(_view(inet, inet6, inner_ip, eth), outer=view, vni=inner.vni)
    return view


def _first_ip(inet, inet6, layer):
    """The first IPv4 or IPv6 header under `layer` (behind a VLAN tag too)."""
    while layer is not None and layer.name != "NoPayload":
        if isinstance(layer, (inet.IP, inet6.IPv6)):
            return layer
        layer = layer.payload
    return None


def _view(inet, inet6, ip, eth) -> PacketView:
    macs = dict(src_mac=getattr(eth, "src", None), dst_mac=getattr(eth, "dst", None))
    if isinstance(ip, inet6.IPv6):
        return _view6(inet6, ip, macs)
    proto = PROTOS.get(ip.proto, "other")
    fields = dict(src=ip.src, dst=ip.dst, proto=proto, ttl=ip.ttl, ip_id=ip.id, **macs)
    l4 = ip.payload
    if proto in ("tcp", "udp") and hasattr(l4, "sport"):
        fields.update(sport=l4.sport, dport=l4.dport)
        if proto == "tcp":
            fields["tcp_flags"] = str(l4.flags)
    elif proto == "icmp" and isinstance(l4, inet.ICMP):
        fields.update(icmp_type=l4.type, icmp_code=l4.code)
        if l4.type in ECHO:
            fields["icmp_id"] = l4.id
        quoted = l4.getlayer(inet.IPerror)
        if quoted is not None:
            fields["quoted"] = _quoted(inet, quoted)
    return PacketView(**fields)


def _view6(inet6, ip, macs: dict) -> PacketView:
    """IPv6: addresses compressed (as `str(IPv6Address)` writes them), the hop limit as
    `ttl`, no IP id; an ICMPv6 error's quoted header in `quoted`."""
    proto = PROTOS6.get(ip.nh, "other")
    fields = dict(src=_v6(ip.src), dst=_v6(ip.dst), proto=proto, ttl=ip.hlim, **macs)
    l4 = ip.payload
    if proto in ("tcp", "udp") and hasattr(l4, "sport"):
        fields.update(sport=l4.sport, dport=l4.dport)
        if proto == "tcp":
            fields["tcp_flags"] = str(l4.flags)
    elif proto == "icmp6" and hasattr(l4, "type"):
        fields.update(icmp_type=l4.type, icmp_code=l4.code)
        if l4.type in ECHO6:
            fields["icmp_id"] = l4.id
        quoted = l4.getlayer(inet6.IPerror6)
        if quoted is not None:
            fields["quoted"] = _quoted6(quoted)
    return PacketView(**fields)


def _v6(text: str) -> str:
    return str(ipaddress.IPv6Address(text))


def _quoted(inet, ip) -> PacketView:
    proto = PROTOS.get(ip.proto, "other")
    l4 = ip.payload
    fields = dict(src=ip.src, dst=ip.dst, proto=proto, ttl=ip.ttl, ip_id=ip.id)
    if proto in ("tcp", "udp") and hasattr(l4, "sport"):
        fields.update(sport=l4.sport, dport=l4.dport)
        if proto == "tcp" and hasattr(l4, "flags"):
            fields["tcp_flags"] = str(l4.flags)    # a quoted SYN is the probe's (Signature.leg)
    elif proto == "icmp" and hasattr(l4, "type"):
        fields.update(icmp_type=l4.type, icmp_code=l4.code, icmp_id=getattr(l4, "id", None))
    return PacketView(**fields)


def _quoted6(ip) -> PacketView:
    proto = PROTOS6.get(ip.nh, "other")
    l4 = ip.payload
    fields = dict(src=_v6(ip.src), dst=_v6(ip.dst), proto=proto, ttl=ip.hlim)
    if proto in ("tcp", "udp") and hasattr(l4, "sport"):
        fields.update(sport=l4.sport, dport=l4.dport)
        if proto == "tcp" and hasattr(l4, "flags"):
            fields["tcp_flags"] = str(l4.flags)
    elif proto == "icmp6" and hasattr(l4, "type"):
        fields.update(icmp_type=l4.type, icmp_code=l4.code, icmp_id=getattr(l4, "id", None))
    return PacketView(**fields)


# ---- the probe -----------------------------------------------------------------------
PAYLOAD = b"netlab-trace"


def craft(proto: str, src: str, dst: str, key: int, ip_id: int | None, dport: int | None,
          flow_label: int | None = None, ttl: int = 64) -> bytes:
    """The request as IP bytes: explicit addresses (scapy's own routing and source choice
    belong to the machine's namespace, not the lab's: tracing.md §7.6), the key, a marker.
    An IPv6 source or destination makes an IPv6 packet: ICMPv6 echo for icmp, the flow label
    as its mark (the IP id's counterpart), hop limit `ttl` as IPv4's TTL."""
    inet, inet6, _, _ = _scapy()
    if ":" in dst:
        ip6 = inet6.IPv6(src=src, dst=dst, fl=flow_label or 0, hlim=ttl)
        if proto in ("icmp", "icmp6"):
            return bytes(ip6 / inet6.ICMPv6EchoRequest(id=key, seq=1) / PAYLOAD)
        return bytes(ip6 / inet.UDP(sport=key, dport=dport) / PAYLOAD)
    ip = inet.IP(src=src, dst=dst, id=ip_id, ttl=ttl)
    if proto == "icmp":
        return bytes(ip / inet.ICMP(type=8, id=key, seq=1) / PAYLOAD)
    return bytes(ip / inet.UDP(sport=key, dport=dport) / PAYLOAD)


def raw_sender(ns: str, family: int = 4) -> socket.socket:
    """A raw socket in `ns` that sends whole IP packets as given: IP_HDRINCL for IPv4; for
    IPv6, IPPROTO_RAW implies the header is included (raw(7)), and the kernel still routes
    the packet by its destination in `ns`, and keeps its flow label."""
    with netns.entered(ns):
        return socket.socket(socket.AF_INET6 if family == 6 else socket.AF_INET, socket.SOCK_RAW,
                             socket.IPPROTO_RAW)


# ---- pcapng --------------------------------------------------------------------------
# Written here rather than by scapy's writer: that one opens every file with an unnamed
# interface #0 and stamps packets in microseconds. The format (draft-ietf-opsawg-pcapng):
# a section header, one interface description per `<netns>/<ifname>` with its link type
# and if_tsresol 9 (nanoseconds, the ring's own resolution), then one enhanced packet block
# per frame with its direction and its comment.
SHB, IDB, EPB = 0x0A0D0D0A, 0x00000001, 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_END, OPT_COMMENT = 0, 1
SHB_USERAPPL = 4
IF_NAME, IF_TSRESOL = 2, 9
EPB_FLAGS, INBOUND, OUTBOUND = 2, 0b01, 0b10
LINKTYPE_ETHERNET = 1       # every lab interface (veth, bridge, vxlan, macvlan, lo) frames as Ethernet
SNAPLEN = 262144            # tcpdump's: longer than any ring slot, so no copy is cut by it


def write_pcapng(path: str, frames: list[tuple[Frame, str]]) -> None:
    """Each (frame, comment) in the order given; one interface per `<netns>/<ifname>`, in
    the order of its first frame, named that way; a comment on every packet that has one."""
    with open(path, "wb") as f:
        f.write(pcapng(frames))


def pcapng(frames: list[tuple[Frame, str]]) -> bytes:
    out = [_block(SHB, struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1),
                  _options([(SHB_USERAPPL, b"netlab trace")]))]
    ids: dict[str, int] = {}
    for frame, _ in frames:
        if frame.node not in ids:
            ids[frame.node] = len(ids)
            out.append(_block(IDB, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, SNAPLEN),
                              _options([(IF_NAME, frame.node.encode()), (IF_TSRESOL, bytes([9]))])))
    for frame, comment in frames:
        ts = frame.time_ns
        head = struct.pack("<IIIII", ids[frame.node], ts >> 32, ts & 0xFFFFFFFF, len(frame.data), len(frame.data))
        options = [(EPB_FLAGS, struct.pack("<I", OUTBOUND if frame.outgoing else INBOUND))]
        if comment:
            options.insert(0, (OPT_COMMENT, comment.encode()))
        out.append(_block(EPB, head + _padded(frame.data), _options(options)))
    return b"".join(out)


def _block(kind: int, body: bytes, options: bytes) -> bytes:
    length = 12 + len(body) + len(options)
    return struct.pack("<II", kind, length) + body + options + struct.pack("<I", length)


def _options(options: list[tuple[int, bytes]]) -> bytes:
    return b"".join(struct.pack("<HH", code, len(value)) + _padded(value) for code, value in options) + \
        struct.pack("<HH", OPT_END, 0)


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)
