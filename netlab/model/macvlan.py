"""What dockerd's macvlan driver refuses (20.10 drivers/macvlan), checked on the file: parent
interfaces, one network per parent, one container per passthru parent. Pure: (path, message)."""
from __future__ import annotations

from ipaddress import IPv4Address

from .topology import Container, Host, Segment, Underlay

Problem = tuple[str, str]


def split_parent(parent: str) -> tuple[str, int | None] | None:
    """`eth0` -> (eth0, None); `eth0.10` -> (eth0, 10): Docker makes that an 802.1q link.
    None when the part after the dot is not a VLAN id."""
    base, dot, vid = parent.rpartition(".")
    if not dot:
        return parent, None
    if not (vid.isascii() and vid.isdigit() and 1 <= int(vid) <= 4094) or not base:
        return None
    return base, int(vid)


def parent_problems(segments: dict[str, dict[str, Segment]]) -> list[Problem]:
    out: list[Problem] = []
    for host, segs in segments.items():
        present = {"eth0"} | {s.device for s in segs.values() if s.driver == "bridge"}
        users: dict[str, str] = {}
        for s in segs.values():
            if s.driver != "macvlan":
                continue
            path = f"networks.{s.network}.driver_opts.parent" if s.option("parent") else f"networks.{s.network}"
            parts = split_parent(s.device)
            if parts is None:
                out.append((path, f"invalid subinterface vlan name {s.device}, example formatting is eth0.10"))
                continue
            if parts[0] == "lo":
                out.append((path, "loopback interface is not a valid macvlan parent link"))
                continue
            if parts[0] not in present:
                out.append((path, f"parent interface {parts[0]!r} does not exist on host {host!r}: a lab "
                                  f"host has eth0 (its underlay NIC) and its bridges ({', '.join(sorted(present))}); "
                                  f"Docker says: -o parent interface does was not found on the host: {parts[0]}"))
                continue
            if s.macvlan_mode == "passthru" and wants_shim(s):
                out.append((f"networks.{s.network}.driver_opts.shim", "a shim is a second macvlan on "
                            f"{s.device}, and passthru mode allows only one"))
                continue
            if s.device in users:
                out.append((path, f"network {users[s.device]} is already using parent interface {s.device} "
                                  f"on host {host!r} (Docker allows one macvlan network per parent)"))
                continue
            users[s.device] = s.network
    return out


def endpoint_problems(containers: list[Container], segments: dict[str, dict[str, Segment]],
                      paths: dict[tuple[str, str], str]) -> list[Problem]:
    out: list[Problem] = []
    holder: dict[tuple[str, str], str] = {}          # passthru (host, network) -> container
    given: dict[tuple[str, str, IPv4Address], tuple[str, str]] = {}   # (network, parent, ip) -> (c, host)
    for c in containers:
        for a in c.attachments:
            seg = segments[c.host][a.network]
            if seg.driver != "macvlan":
                continue
            path = paths.get((c.name, a.network), f"containers.{c.name}")
            if seg.macvlan_mode == "passthru":
                first = holder.setdefault((c.host, a.network), c.name)
                if first != c.name:
                    out.append((path, f"network {a.network!r} is in passthru mode, which gives parent "
                                      f"{seg.device} to one container, and {first!r} has it on host "
                                      f"{c.host!r} (Docker: failed to create the macvlan port: invalid argument)"))
            key = (a.network, seg.device, a.address.ip)
            other = given.setdefault(key, (c.name, c.host))
            if other[1] != c.host:
                out.append((path, f"{a.address.ip} is also {other[0]!r}'s on host {other[1]!r}: macvlan "
                                  "addresses are managed per host, as in Docker, but the hosts share the "
                                  f"underlay behind {seg.device}; give each host its own network with a "
                                  "distinct ip_range, or set ipv4_address"))
    return out


def reserved(underlay: Underlay, hosts: list[Host]) -> list[IPv4Address]:
    """Addresses a macvlan network on the underlay must never hand out: they are the hosts'
    and the router's already (Docker's IPAM cannot know; a lab refuses to break that way)."""
    return [underlay.gateway] + [h.address for h in hosts]


def wants_shim(seg: Segment) -> bool:
    return seg.option("shim") in ("1", "t", "T", "TRUE", "true", "True")
