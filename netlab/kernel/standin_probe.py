"""What a stand-in listener says: a TCP connection's whole answer, read from inside a lab
namespace (UDP's echo is probe.udp_echo)."""
from __future__ import annotations

import socket

from . import netns


def tcp_answer(ns: str, address: str, port: int, timeout: float = 2.0) -> bytes | None:
    """The bytes the far end writes before closing, None when no connection is made or it
    does not close within `timeout`."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with netns.entered(ns):
        sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        return data
    except OSError:
        return None
    finally:
        sock.close()
