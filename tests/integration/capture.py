"""A packet capture on one interface of a namespace, for tests: an AF_PACKET socket opened
inside the namespace, frames decoded just enough to see VXLAN (outer and inner) and ICMP."""
from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass

from netlab.kernel import netns

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800


@dataclass(frozen=True)
class Packet:
    src: str
    dst: str
    proto: int                  # 1 icmp, 6 tcp, 17 udp
    dport: int | None = None
    icmp_type: int | None = None
    vni: int | None = None      # when this is VXLAN: the VNI and the frame inside
    inner: Packet | None = None


def decode_ip(buf: bytes) -> Packet | None:
    if len(buf) < 20 or buf[0] >> 4 != 4:
        return None
    ihl = (buf[0] & 0x0F) * 4
    proto = buf[9]
    src, dst = socket.inet_ntoa(buf[12:16]), socket.inet_ntoa(buf[16:20])
    body = buf[ihl:]
    if proto == 1 and body:
        return Packet(src, dst, proto, icmp_type=body[0])
    if proto in (6, 17) and len(body) >= 4:
        dport = struct.unpack("!H", body[2:4])[0]
        if proto == 17 and dport == 4789 and len(body) >= 16:
            vni = int.from_bytes(body[12:15], "big")
            return Packet(src, dst, proto, dport, vni=vni, inner=decode_ether(body[16:]))
        return Packet(src, dst, proto, dport)
    return Packet(src, dst, proto)


def decode_ether(frame: bytes) -> Packet | None:
    if len(frame) < 14 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    return decode_ip(frame[14:])


class Capture:
    """with Capture(ns, ifname) as cap: ...; then cap.packets (outgoing and incoming)."""

    def __init__(self, ns: str, ifname: str):
        with netns.entered(ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            self.sock.bind((ifname, 0))
        self.sock.settimeout(0.1)
        self.packets: list[Packet] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self.sock.recv(65535)
            except TimeoutError:
                continue
            p = decode_ether(frame)
            if p is not None:
                self.packets.append(p)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        time.sleep(0.2)
        self._stop.set()
        self._thread.join()
        self.sock.close()
