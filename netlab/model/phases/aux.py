"""`ipam.config[].aux_addresses`: addresses of a subnet that IPAM reserves and never hands
out (libnetwork ipamAllocateVersion: after the gateway, each must lie in the subnet and be
free, else the network is not created)."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from ..context import Context, mapping
from ..ipam import first_host
from ..ipam6 import first_address

Subnet = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


def read_aux(ctx: Context, entry: dict[Any, Any], path: str, subnet: Subnet | None,
             gateway: Address | None, isolated: bool = False) -> tuple[tuple[str, Any], ...]:
    """(name, address) in file order. `gateway`: the one given, else the one IPAM picks
    (none on an isolated network)."""
    raw = mapping(entry.get("aux_addresses"))
    if not raw or subnet is None:
        return ()
    if gateway is None and not isolated:
        gateway = first_host(subnet) if isinstance(subnet, IPv4Network) else first_address(subnet)
    taken: dict[Address, str] = {}
    out: list[tuple[str, Any]] = []
    for name, value in raw.items():
        apath = f"{path}.aux_addresses.{name}"
        if not isinstance(value, str):
            continue        # the schema reported the type
        try:
            a = ip_address(value)
        except ValueError:
            ctx.err(apath, f"non parsable secondary ip address ({name}:{value}): not an IP address")
            continue
        problem = _refusal(a, subnet, gateway, taken)
        if problem:
            ctx.err(apath, f"auxiliary address ({name}:{value}) {problem}")
            continue
        taken[a] = str(name)
        out.append((str(name), a))
    return tuple(out)


def _refusal(a: Address, subnet: Subnet, gateway: Address | None, taken: dict[Address, str]) -> str | None:
    if a.version != subnet.version or a not in subnet:
        return f"must belong to the subnet {subnet} (Docker refuses it)"
    if a == gateway:
        return f"is the network's gateway {gateway}; pick another"
    if a == subnet.network_address and (subnet.version == 6 or subnet.prefixlen < 31):
        what = "first address, which Docker keeps back" if subnet.version == 6 else "network address"
        return f"is the subnet's {what}; pick another"
    if subnet.version == 4 and a == subnet.broadcast_address and subnet.prefixlen < 31:
        return "is the subnet's broadcast address; pick another"
    if a in taken:
        return f"is already aux address {taken[a]!r}; give each name its own address"
    return None
