"""`expect`: the reachability a lab must show, checked against its names."""
from __future__ import annotations

from collections.abc import Collection

from ..context import Context, get, is_addr, listing, mapping
from ..context import number as decimal
from ..topology import Container, Expectation


def read_expect(ctx: Context, hosts: Collection[str], containers: list[Container]) -> list[Expectation]:
    names = {c.name for c in containers} | set(hosts) | {"outside"}
    out: list[Expectation] = []
    for i, e in enumerate(listing(ctx.data.get("expect"))):
        path = f"expect[{i}]"
        e = mapping(e)
        src, dst = e.get("from"), e.get("to")
        for key, value in (("from", src), ("to", dst)):
            if value is None:
                ctx.err(path, f"missing `{key}`: each expectation needs `from` and `to` (a container, "
                              "a host or `outside`; `to` may also be an address or HOST:PORT)")
        if isinstance(src, str) and src not in names:
            ctx.err(f"{path}.from", f"unknown container, host or outside {src!r}{ctx.suggest(src, names)}")
        proto = get(e, "proto", "icmp")
        if isinstance(proto, str) and proto not in ("icmp", "tcp", "udp"):
            ctx.err(f"{path}.proto", f"protocol {proto!r} is not one of icmp, tcp, udp")
        port = e.get("port")
        if isinstance(port, int) and not 1 <= port <= 65535:
            ctx.err(f"{path}.port", f"port {port} is out of range 1-65535")
        # by name: any name SRC's resolver may know (an alias, a link, one that does not exist)
        by_name = e.get("name", False) is True
        if isinstance(dst, str):
            target, sep, p = dst.rpartition(":") if ":" in dst else (dst, "", "")
            if sep:
                number = decimal(p)
                if number is None or not 1 <= number <= 65535:
                    ctx.err(f"{path}.to", f"port {p!r} in {dst!r} is not a number from 1 to 65535")
                elif proto == "icmp" and "proto" not in e:
                    proto = "tcp"
                if port is None and number is not None:
                    port = number
            if by_name and is_addr(target):
                ctx.err(f"{path}.name", f"`name: true` resolves a name, and {target!r} is an address")
            elif not by_name and target not in names and not is_addr(target):
                ctx.err(f"{path}.to", f"{target!r} is not a container, a host, `outside` or an "
                                      f"IPv4 address{ctx.suggest(target, names)}")
        if proto in ("tcp", "udp") and port is None:
            ctx.err(path, f"a {proto} expectation needs a port: `to: NAME:PORT` or `port:`")
        if isinstance(src, str) and isinstance(dst, str):
            out.append(Expectation(source=src, target=dst.rsplit(":", 1)[0] if ":" in dst else dst,
                                   ok=e.get("ok", True) is not False, proto=proto,
                                   port=port if isinstance(port, int) else None, line=ctx.src.line(path), name=by_name))
    return out
