"""docker_gwbridge: the bridge network a host gets when it joins the swarm, and the endpoint
on it that overlay containers use to leave their overlay (libnetwork default_gateway.go)."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from ..model import naming
from ..model.ipam import first_host
from ..model.topology import Attachment, Segment

# what `docker swarm init/join` gives it (§7): icc off, masquerade on, a fixed bridge name
OPTIONS = (("com.docker.network.bridge.enable_icc", "false"),
           ("com.docker.network.bridge.enable_ip_masquerade", "true"),
           ("com.docker.network.bridge.name", naming.GWBRIDGE))


def segment(lab: str, host: str, subnet: IPv4Network) -> Segment:
    return Segment(
        network=naming.GWBRIDGE, host=host, driver="bridge", subnet=subnet,
        gateway=first_host(subnet), ip_range=None, device=naming.GWBRIDGE, internal=False,
        icc=False, masquerade=True, mtu=1500, host_binding_ipv4=IPv4Address("0.0.0.0"),
        is_default=False, options=OPTIONS, network_id=naming.network_id(lab, naming.GWBRIDGE))


def needed(atts: list[Attachment], segments: dict[str, Segment]) -> bool:
    """sandbox.needDefaultGW: some non-internal endpoint has no gateway (an overlay one) and
    none has one (a bridge or macvlan endpoint would give the default route instead)."""
    need = False
    for a in atts:
        if a.network == naming.GWBRIDGE:
            return False
        if segments[a.network].internal:
            continue
        if a.gateway is not None:
            return False
        need = True
    return need


def attachment(lab: str, container: str, seg: Segment, address: IPv4Address, ifname: str,
               random_mac: bool) -> Attachment:
    return Attachment(
        network=seg.network, ifname=ifname, address=IPv4Interface(f"{address}/{seg.subnet.prefixlen}"),
        gateway=seg.gateway, mac=naming.endpoint_mac(random_mac, lab, container, seg.network, address),
        host_ifname=naming.host_veth(lab, container, seg.network), device=seg.device,
        mtu=seg.mtu, driver="bridge")
