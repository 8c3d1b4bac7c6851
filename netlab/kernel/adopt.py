"""The kernel side of `--in-place` (app/inplace.py decides what to keep and what to adopt):
which namespace this is, which NIC holds an address, and giving a namespace's iptables and
ip6tables back."""
from __future__ import annotations

import os
import re

from pyroute2 import IPRoute

from .firewall.backend import FirewallBackend
from .firewall.text import empty_table


def is_initial(ns_path: str = "/proc/thread-self/ns/net") -> bool:
    """Whether `ns_path` is the machine's initial namespace, where init (1) and kthreadd (2)
    live. If neither can be read, assume it is: the safe answer."""
    me = os.stat(ns_path)
    for pid in (1, 2):
        try:
            st = os.stat(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        return (st.st_dev, st.st_ino) == (me.st_dev, me.st_ino)
    return True


def nic_holding(address: str) -> str | None:
    """The interface of this namespace that holds IPv4 `address`, if any."""
    with IPRoute() as ipr:
        for msg in ipr.get_addr(family=2):
            if address in (msg.get_attr("IFA_LOCAL"), msg.get_attr("IFA_ADDRESS")):
                return str(ipr.get_links(msg["index"])[0].get_attr("IFLA_IFNAME"))
    return None


def put_back_tables(backend: FirewallBackend, ns: str, before: str, written: list[str],
                    family: str = "ipv4") -> None:
    """The tables as saved (`before`, iptables-save or ip6tables-save text); a table the lab
    wrote (`written`) that did not exist before is emptied and, where the backend can, removed,
    so iptables-save shows what it showed before."""
    text = before if before.endswith("\n") or not before else before + "\n"
    absent = [t for t in written if not re.search(rf"^\*{t}$", text, re.M)]
    text += "".join(empty_table(table) for table in absent)
    backend.restore(ns, text, family)
    backend.remove_tables(ns, absent, family)
