"""What a container's settings make of its endpoints and host: the MAC each endpoint gets
(its own `mac_address`, or the container-wide one on the main network, as dockerd's
handleMACAddressBC moves it), no MAC twice on one network, and `host-gateway` in
`extra_hosts` resolved to the daemon's host gateway addresses."""
from __future__ import annotations

from collections.abc import Mapping

from ... import drivers
from ..context import Context
from ..hostvalues import HOST_GATEWAY
from ..specs import ContainerSpec, EndpointSpec
from ..topology import Container, Host, Segment

# API 1.44 (Docker 25.0) added EndpointSettings.MacAddress; older daemons ignore it
ENDPOINT_MAC_SINCE = "25.0"
# 28.0 keeps a list of host gateway IPs, docker0's IPv4 and IPv6 gateways (setHostGatewayIP);
# before, one address: docker0's IPv4 gateway
HOST_GATEWAY_IPS_SINCE = "28.0"


def given_mac(ctx: Context, s: ContainerSpec, ep: EndpointSpec, host: Host) -> str | None:
    """The MAC the file gives this endpoint, or None (the engine picks one)."""
    own = ep.mac
    if own is not None and not host.engine.knows(ENDPOINT_MAC_SINCE):
        ctx.err(f"{ep.path}.mac_address", f"a MAC address per network needs Docker {ENDPOINT_MAC_SINCE} "
                                          f"(API 1.44); the engine of host {host.name!r} ({host.engine.name}) "
                                          "ignores it: set the container's own `mac_address` instead")
        own = None
    wide = s.settings.mac if s.endpoints and ep is s.endpoints[0] else None
    if wide is not None and own is not None and wide != own:
        ctx.err(s.settings.mac_path, f"the container-wide MAC address must match the endpoint-specific MAC "
                                     f"address for the main network {ep.network!r} ({own}), or be left empty "
                                     "(Docker refuses it)")
    return own or wide


def check_duplicate_macs(ctx: Context, specs: Mapping[str, ContainerSpec], containers: list[Container],
                         segments: Mapping[str, Mapping[str, Segment]]) -> None:
    """Two endpoints of one network (on one host, or anywhere for a global-scope one) with one
    MAC: the bridge would forward to either. Reported at the MAC the file gave."""
    seen: dict[tuple[str, ...], dict[str, str]] = {}
    for c in containers:
        s = specs[c.name]
        for att in c.attachments:
            seg = segments.get(c.host, {}).get(att.network)
            if seg is None:
                continue
            key = (att.network,) if drivers.DRIVERS[seg.driver].global_scope else (att.network, c.host)
            owners = seen.setdefault(key, {})
            if att.mac in owners:
                path = _mac_path(s, att.network)
                if path:
                    ctx.err(path, f"MAC address {att.mac} is already taken by {owners[att.mac]!r} on network "
                                  f"{att.network!r}; give each endpoint its own")
            else:
                owners[att.mac] = c.name


def _mac_path(s: ContainerSpec, network: str) -> str | None:
    ep = next((e for e in s.endpoints if e.network == network), None)
    if ep is not None and ep.mac is not None:
        return f"{ep.path}.mac_address"
    if ep is not None and s.endpoints and ep is s.endpoints[0] and s.settings.mac is not None:
        return s.settings.mac_path
    return None


def resolved_extra_hosts(s: ContainerSpec, host: Host, segs: Mapping[str, Segment]) -> tuple[tuple[str, str], ...]:
    """`host-gateway` becomes docker0's gateway (and from 28.0 its IPv6 gateway too, one line
    each), as buildSandboxOptions expands it."""
    bridge = segs.get("bridge")
    gateways = [str(bridge.gateway)] if bridge is not None else []
    if bridge is not None and bridge.gateway6 is not None and host.engine.knows(HOST_GATEWAY_IPS_SINCE):
        gateways.append(str(bridge.gateway6))
    out: list[tuple[str, str]] = []
    for name, address in s.settings.extra_hosts:
        out += [(name, gw) for gw in gateways] if address == HOST_GATEWAY else [(name, address)]
    return tuple(out)
