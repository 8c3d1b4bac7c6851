"""Who listens where, as far as the plan tells: docker-proxy ports, the embedded DNS, the
stand-in DNS, a container's stand-in listeners (every exposed or published port, both
families), and the port of a container's `command:` when it names one. The predictor
uses it to say whether a TCP SYN gets a SYN-ACK or a RST, and a UDP datagram an answer or
an ICMP port-unreachable.

Per address family too: `python3 -m http.server 80` binds 0.0.0.0 (the first address
getaddrinfo gives for a passive socket here), so an IPv6 SYN to it gets a RST; with
`--bind ::` it serves both families (its DualStackServer clears IPV6_V6ONLY)."""
from __future__ import annotations

from ..plan.command_ports import command_families, command_ports
from ..plan.plan import Plan
from ..plan.served import Process, Proxy, Resolver, Standin, StandinDNS


def listens(plan: Plan, ns: str, proto: str, address: str, port: int | None) -> bool | None:
    """True or False when the plan says, None when a command there is opaque. `address`
    (IPv4 or IPv6 text) gives the family: docker-proxy's wildcard is 0.0.0.0 or ::."""
    family = 6 if ":" in address else 4
    wildcard = "::" if family == 6 else "0.0.0.0"
    unknown = False
    for item in plan.items:
        if getattr(item, "netns", None) != ns:
            continue
        if isinstance(item, Proxy) and item.proto == proto and item.host_port == port \
                and item.host_ip in (wildcard, address):
            return True
        if isinstance(item, Resolver) and address == "127.0.0.11" and port in (item.udp_port, item.tcp_port, 53):
            return True
        if isinstance(item, StandinDNS) and proto == "udp" and port == 53 and item.address == address:
            return True
        if isinstance(item, Standin) and (port, proto) in item.ports:
            return True
        if isinstance(item, Process):
            ports = command_ports(item.command)
            if ports is None:
                unknown = True
            elif (proto, port) in ports and family in command_families(item.command):
                return True
    return None if unknown else False


def standin_notes(plan: Plan, ns: str, proto: str, port: int | None) -> list[str]:
    """Delivered to a stand-in port: say who answers there, since no image runs."""
    for item in plan.of(Standin):
        if item.netns == ns and (port, proto) in item.ports:
            what = "writes its name and closes" if proto == "tcp" else "echoes the datagram"
            return [f"{port}/{proto} of {item.container} is its stand-in listener (the lab's agent, "
                    f"as the image does not run): it {what}"]
    return []
