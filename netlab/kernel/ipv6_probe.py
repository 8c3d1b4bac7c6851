"""doctor's IPv6 rows: what `up` checks before an IPv6 lab (lifecycle.require_kernel and the
backend's tools for the ipv6 family), each made for real in the throwaway namespace."""
from __future__ import annotations

import socket
import subprocess
from collections.abc import Sequence

from pyroute2.netlink.exceptions import NetlinkError

from . import netns
from .firewall import BACKENDS, default_name
from .links import IFA_F_NODAD, Netlink
from .tools import find_tool

PROBE_ADDRESS = "2001:db8::1"


def ipv6(nl: Netlink, ns: str, dev: str | None, machine_why: str | None) -> tuple[bool, str]:
    """IPv6 in a new namespace: on at the machine (what `up` asks), on in the namespace, and an
    IPv6 address accepted on `dev` (a veth made there; None: the veth probe failed)."""
    if machine_why:
        return False, machine_why
    if netns.read_sysctl(ns, "net/ipv6/conf/all/disable_ipv6") != "0":
        return False, "a new namespace starts with net.ipv6.conf.all.disable_ipv6 on"
    index = nl.index(ns, dev) if dev else None
    if index is None:
        return False, "no veth to put an IPv6 address on (see veth)"
    try:
        nl.ipr(ns).addr("add", index=index, address=PROBE_ADDRESS, prefixlen=64, family=socket.AF_INET6,
                        flags=IFA_F_NODAD)
    except NetlinkError as e:
        return False, f"an IPv6 address was refused: {e}"
    return True, ""


def ip6tables(ok_by_name: dict[str, bool]) -> tuple[bool, str]:
    """The chosen backend's tools for the ipv6 family, as probed already (requirements rows)."""
    name = default_name()
    needs: Sequence[str] = BACKENDS[name].requires.get("ipv6", ())
    failed = [n for n in needs if not ok_by_name.get(n, False)]
    if failed:
        return False, f"the {name} backend (the one `up` picks here) needs {', '.join(failed)} for ip6tables rules"
    return True, ""


def nft_ip6(ns: str) -> tuple[bool, str]:
    """An `ip6` family table, as 29.7-nftables writes `ip6 docker-bridges`."""
    if not find_tool("nft"):
        return False, "`nft` is not installed (apt-get install nftables)"
    with netns.entered(ns):
        proc = subprocess.run(["nft", "add", "table", "ip6", "netlab_probe"], capture_output=True, text=True)
    if proc.returncode:
        return False, (proc.stderr.strip().splitlines() or ["nft failed"])[-1]
    return True, ""
