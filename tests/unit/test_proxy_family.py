"""docker-proxy's sockets take the family of the address they serve: a binding on [::1]
listens on AF_INET6 (IPv6 only, as 0.0.0.0 is bound apart) and forwards to an IPv4
container over AF_INET."""
from __future__ import annotations

import contextlib
import socket

import pytest

from netlab.agent import proxy


@pytest.fixture
def no_netns(monkeypatch):
    # the sockets are made, never bound: the test's own namespace stands in
    monkeypatch.setattr(proxy.netns, "entered", lambda name: contextlib.nullcontext())


@pytest.mark.parametrize("ip, family", [("::1", socket.AF_INET6), ("::", socket.AF_INET6),
                                        ("127.0.0.1", socket.AF_INET), ("0.0.0.0", socket.AF_INET)])
def test_socket_family_follows_the_address(no_netns, ip, family):
    with proxy._socket("host", socket.SOCK_STREAM, ip) as sock:
        assert sock.family == family
        if family == socket.AF_INET6:
            assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1


def test_pktinfo6_is_in6_pktinfo():
    # struct in6_pktinfo: a 16-byte address, then the interface index
    assert proxy.PKTINFO6.size == 20
    packed = proxy.PKTINFO6.pack(socket.inet_pton(socket.AF_INET6, "::1"), 0)
    assert packed[:16] == socket.inet_pton(socket.AF_INET6, "::1")
