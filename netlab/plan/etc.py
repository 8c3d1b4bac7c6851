"""/etc/hosts and /etc/resolv.conf as dockerd writes them for a container or a host."""
from __future__ import annotations

from ..model.topology import Container, Host, Topology

HOSTS_HEADER = ("127.0.0.1\tlocalhost\n"
                "::1\tlocalhost ip6-localhost ip6-loopback\n"
                "fe00::0\tip6-localnet\n"
                "ff00::0\tip6-mcastprefix\n"
                "ff02::1\tip6-allnodes\n"
                "ff02::2\tip6-allrouters\n")
GOOGLE_DNS = ("8.8.8.8", "8.8.4.4")      # FilterResolvDNS's fallback when nothing is left
# The lab hosts' upstream DNS server: a TEST-NET address in `outside`. Without one, Docker's
# fallback 8.8.8.8 is unreachable in a lab and every lookup (even Python's getfqdn() in
# http.server) would hang for seconds; an address that answers, or refuses at once, does not.
STANDIN_DNS = "203.0.113.53"


def container_hosts(topo: Topology, c: Container) -> str:
    lines = [HOSTS_HEADER]
    for link in c.links:
        child = topo.container(link.name)
        att = child.attachment("bridge")
        if att is None:
            continue   # a link on a user network is only a DNS alias
        names = [link.alias, child.hostname] + ([child.name] if child.name != link.alias else [])
        lines.append(f"{att.address.ip}\t{' '.join(names)}\n")
    for att in c.attachments:
        lines.append(f"{att.address.ip}\t{c.hostname}\n")
    return "".join(lines)


def uses_embedded_dns(c: Container) -> bool:
    """Docker starts its resolver for every endpoint not on the default bridge."""
    return any(a.network != "bridge" for a in c.attachments)


def container_resolv(topo: Topology, c: Container) -> str:
    d = topo.host(c.host).daemon
    if uses_embedded_dns(c):
        opts = list(d.dns_opts)
        if not any(o.startswith("ndots:") for o in opts):
            opts.append("ndots:0")
        search = f"search {' '.join(d.dns_search)}\n" if d.dns_search else ""
        return f"{search}nameserver 127.0.0.11\noptions {' '.join(opts)}\n"
    servers = d.dns or host_nameservers(topo) or GOOGLE_DNS
    out = f"search {' '.join(d.dns_search)}\n" if d.dns_search else ""
    out += "".join(f"nameserver {s}\n" for s in servers)
    if d.dns_opts:
        out += f"options {' '.join(d.dns_opts)}\n"
    return out


def host_hosts(topo: Topology, h: Host) -> str:
    return HOSTS_HEADER + f"{h.address}\t{h.name}\n"


def host_nameservers(topo: Topology) -> tuple[str, ...]:
    return (STANDIN_DNS,)


def host_resolv(topo: Topology, h: Host) -> str:
    return "".join(f"nameserver {s}\n" for s in host_nameservers(topo))
