"""Probe what this kernel and machine offer, inside a throwaway namespace that is always
removed: each probe makes the object for real, since config files and module lists lie."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from pyroute2.netlink.exceptions import NetlinkError

from ..errors import KernelError
from . import ipv6_probe, netns, nft_dump, uts
from .links import Netlink
from .requirements import REQUIREMENTS
from .tools import find_tool


@dataclass(frozen=True)
class Probe:
    name: str
    ok: bool
    detail: str = ""


def _link(nl: Netlink, ns: str, name: str, **kw) -> Probe:
    try:
        nl.ipr(ns).link("add", ifname=f"nd{name[:10]}", **kw)
        return Probe(name, True)
    except NetlinkError as e:
        return Probe(name, False, os.strerror(e.code))


def _cmd(ns: str, name: str, argv: list[str], package: str) -> Probe:
    if not find_tool(argv[0]):
        return Probe(name, False, f"`{argv[0]}` is not installed (apt-get install {package})")
    with netns.entered(ns):
        proc = subprocess.run(argv, capture_output=True, text=True)
    return Probe(name, proc.returncode == 0, proc.stderr.strip().splitlines()[-1] if proc.returncode else "")


def probe_all() -> list[Probe]:
    ns = f"nldoctor{os.getpid()}"
    out: list[Probe] = []
    try:
        netns.create(ns)
    except Exception as e:
        return [Probe("netns", False, str(e))]
    out.append(Probe("netns", True))
    try:
        with Netlink() as nl:
            out.append(_link(nl, ns, "veth", kind="veth", peer={"ifname": "ndpeer"}))
            out.append(_link(nl, ns, "bridge", kind="bridge"))
            parent = nl.index(ns, "ndveth")
            out.append(_link(nl, ns, "vxlan", kind="vxlan", vxlan_id=4096, vxlan_port=4789))
            if parent:
                out.append(_link(nl, ns, "macvlan", kind="macvlan", link=parent, macvlan_mode="bridge"))
                out.append(_link(nl, ns, "ipvlan", kind="ipvlan", link=parent, ipvlan_mode=0))
                out.append(_link(nl, ns, "8021q", kind="vlan", link=parent, vlan_id=10))
            out.append(_link(nl, ns, "dummy", kind="dummy"))
            out.append(Probe("ipv6", *ipv6_probe.ipv6(nl, ns, "ndveth" if parent else None, ipv6_missing())))
        out.append(_nf_tables(ns))
        out.append(_uts(ns))
        # the programs `up` needs (kernel/requirements.py), each run here to see it work
        out += [_cmd(ns, r.name, list(r.check), r.package) for r in REQUIREMENTS.values()]
        out.append(Probe("ip6tables", *ipv6_probe.ip6tables({p.name: p.ok for p in out})))
        out.append(Probe("nftables-ip6", *ipv6_probe.nft_ip6(ns)))
        out.append(Probe("br_netfilter", netns.read_sysctl(ns, "net/bridge/bridge-nf-call-iptables") is not None,
                         "no /proc/sys/net/bridge in a namespace"))
        out.append(_python_iptables())
        with open("/proc/filesystems") as f:
            out.append(Probe("tracefs", "tracefs" in f.read(), "the kernel has no tracefs"))
    finally:
        netns.delete(ns)
    return out


def _uts(name: str) -> Probe:
    """A UTS namespace made, named and pinned as `up` makes each container's (no module: the
    kernel's CONFIG_UTS_NS), then removed."""
    try:
        uts.create(name, "nldoctor", "nldoctor.example")
        ok = uts.read(name) == ("nldoctor", "nldoctor.example")
        return Probe("uts", ok, "" if ok else "the namespace did not keep its names")
    except (OSError, KernelError) as e:
        return Probe("uts", False, str(e))
    finally:
        uts.delete(name)


def _nf_tables(ns: str) -> Probe:
    """The kernel's nf_tables, asked over netlink (nft itself may be missing)."""
    try:
        nft_dump.tables(ns)
        return Probe("nf_tables", True)
    except OSError as e:
        return Probe("nf_tables", False, e.strerror or str(e))


def nf_tables_missing() -> str | None:
    """Why this kernel cannot hold nftables tables (None: it can), asked in a throwaway
    namespace."""
    ns = f"nlprobe{os.getpid()}"
    netns.create(ns)
    try:
        probe = _nf_tables(ns)
    finally:
        netns.delete(ns)
    return None if probe.ok else probe.detail


IPV6_ALL = "/proc/sys/net/ipv6/conf/all/disable_ipv6"


def ipv6_missing(path: str = IPV6_ALL) -> str | None:
    """Why namespaces made from here get no IPv6 (None: they do). A new namespace's
    interfaces start from the kernel's defaults, but with IPv6 off at boot (ipv6.disable=1)
    there is no conf at all, and a machine that turned it off here means it off."""
    try:
        with open(path) as f:
            value = f.read().strip()
    except FileNotFoundError:
        return "the kernel has no IPv6 (booted with ipv6.disable=1, or no ipv6 module)"
    if value != "0":
        return f"net.ipv6.conf.all.disable_ipv6={value} on the machine"
    return None


def _python_iptables() -> Probe:
    try:
        import iptc  # noqa: F401  (loads libiptc and libxtables)
        return Probe("python-iptables", True)
    except Exception as e:
        return Probe("python-iptables", False, str(e))


# link kinds a plan may need -> what to call the missing kernel feature
LINK_FEATURES = {
    "vlan": "802.1q VLAN support (module 8021q)",
    "vxlan": "VXLAN support (module vxlan)",
    "macvlan": "macvlan support (module macvlan)",
}


def missing_link_kinds(kinds: set[str]) -> dict[str, str]:
    """kind -> why it cannot be made here, for the kinds of LINK_FEATURES asked about: each
    is made for real in a throwaway namespace (on a veth, for the kinds that need a parent)."""
    asked = sorted(kinds & set(LINK_FEATURES))
    if not asked:
        return {}
    ns = f"nlprobe{os.getpid()}"
    netns.create(ns)
    try:
        with Netlink() as nl:
            nl.ipr(ns).link("add", ifname="ndveth", kind="veth", peer={"ifname": "ndpeer"})
            parent = nl.index(ns, "ndveth")
            args = {"vlan": {"link": parent, "vlan_id": 10}, "vxlan": {"vxlan_id": 4096, "vxlan_port": 4789},
                    "macvlan": {"link": parent, "macvlan_mode": "bridge"}}
            probes = [_link(nl, ns, kind, kind=kind, **args[kind]) for kind in asked]
    finally:
        netns.delete(ns)
    return {p.name: p.detail for p in probes if not p.ok}
