"""`--host H --in-place`: build host H's part of a lab in the namespace netlab runs in (a
Vagrant VM's own). It is the one case where netlab touches a namespace it did not make, so:
it refuses the machine's initial namespace unless NETLAB_ALLOW_ROOT_NS=1 says that is meant;
it keeps the VM's NIC, addresses and routes out of the plan; it saves the iptables tables and
sysctls it will replace, and `down` puts them back after taking out exactly what it made."""
from __future__ import annotations

import json
import os
import re
import subprocess

from pyroute2 import IPRoute

from . import state
from ..errors import LabError
from ..kernel import iptables, netns
from ..kernel.apply import Executor
from ..kernel.links import Netlink
from ..plan.diff import RANK, Change
from ..plan.items import Address, Bridge, Firewall, Macvlan, Netns, Route, Sysctl, Veth, Vlan
from ..plan.part import OUTSIDE, host_part
from ..plan.plan import Plan
from ..model.topology import Topology

ALLOW = "NETLAB_ALLOW_ROOT_NS"
SAVED = "inplace.json"
# what the lab made inside an adopted namespace and takes out itself (the rest is restored)
MADE_THERE = (Bridge, Veth, Vlan, Macvlan, Address, Route)
BUILTIN = {"filter": ("INPUT", "FORWARD", "OUTPUT"), "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
           "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"), "raw": ("PREROUTING", "OUTPUT")}


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


def _refuse_initial(what: str) -> None:
    if os.environ.get(ALLOW) != "1":
        raise LabError(f"{what} the machine's own initial network namespace; netlab changes it only "
                       f"when told so: on a VM made for the lab set {ALLOW}=1 (the Vagrantfile's "
                       "provisioning does), anywhere else run netlab inside a namespace made for it "
                       "(`ip netns exec NS netlab up --host H --in-place FILE`)")


def part(topo: Topology, plan: Plan, host: str | None, in_place: bool) -> Plan:
    """The plan of `--host H [--in-place]`."""
    if host is None:
        raise LabError("--in-place needs --host: which host's part to build in this namespace")
    names = [h.name for h in topo.hosts]
    if host != OUTSIDE and host not in names:
        raise LabError(f"lab {topo.name!r} has no host {host!r} (hosts: {', '.join(names)}, and {OUTSIDE})")
    nic = None
    if in_place:
        if is_initial():
            _refuse_initial("--in-place would build in")
        address = topo.underlay.gateway if host == OUTSIDE else topo.host(host).address
        nic = nic_holding(str(address), host)
    return host_part(topo, plan, host, in_place, nic)


def nic_holding(address: str, host: str) -> str:
    """The interface of this namespace that holds `address`: the VM's underlay NIC."""
    with IPRoute() as ipr:
        for msg in ipr.get_addr(family=2):
            if address in (msg.get_attr("IFA_LOCAL"), msg.get_attr("IFA_ADDRESS")):
                return ipr.get_links(msg["index"])[0].get_attr("IFLA_IFNAME")
    raise LabError(f"--in-place: {host}'s underlay address {address} is on no interface of this "
                   "namespace; the VM's private network (the underlay) must carry it already")


def adopted(plan: Plan | None) -> list[str]:
    return [i.name for i in plan.of(Netns) if i.adopted] if plan else []


def _saved_path(lab: str) -> str:
    return f"{state.lab_dir(lab)}/{SAVED}"


def _load(lab: str) -> dict:
    try:
        with open(_saved_path(lab)) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def remember(lab: str, plan: Plan, flavour: str) -> None:
    """Before the first change: the adopted namespace's iptables and each sysctl the plan
    writes there, as they were (values already saved are kept: they are the VM's own)."""
    names = adopted(plan)
    if not names:
        return
    saved = _load(lab)
    for ns in names:
        netns.adopt(ns)
        rules = [i.text for i in plan.of(Firewall) if i.netns == ns]
        tables = iptables.tables_of("".join(rules))
        before = iptables.save(ns, flavour) if tables else None
        entry = saved.setdefault(ns, {"iptables": before, "tables": tables, "sysctls": {}})
        for item in plan.of(Sysctl):
            if item.netns == ns and item.path not in entry["sysctls"]:
                entry["sysctls"][item.path] = netns.read_sysctl(ns, item.path)
    os.makedirs(state.lab_dir(lab), exist_ok=True)
    with open(_saved_path(lab), "w") as f:
        json.dump(saved, f)


def check_release(plan: Plan | None) -> list[str]:
    """The adopted namespaces of a lab about to go down; refused as `up` would refuse them."""
    names = [ns for ns in adopted(plan) if netns.exists(ns)]
    for ns in names:
        if is_initial(netns.path(ns)):
            _refuse_initial(f"{ns} is")
    return names


def release(lab: str, plan: Plan, names: list[str], flavour: str) -> None:
    """Take out what the lab made in each adopted namespace, put back its iptables tables
    and sysctls, and unpin it; the namespace itself and all it had before stay."""
    saved = _load(lab)
    made = [i for i in plan.items if isinstance(i, MADE_THERE) and i.netns in names]
    with Netlink() as nl:
        executor = Executor(nl, lab, flavour)
        for item in sorted(made, key=lambda i: -RANK[type(i)]):
            executor.run(Change("delete", item))
    for ns in names:
        entry = saved.get(ns, {"iptables": None, "tables": [], "sysctls": {}})
        if entry["iptables"] is not None:
            _put_back_tables(ns, entry["iptables"], entry["tables"], flavour)
        for path, value in entry["sysctls"].items():
            if value is not None:
                netns.write_sysctl(ns, path, value)
        netns.delete(ns)


def _put_back_tables(ns: str, before: str, written: list[str], flavour: str) -> None:
    """The tables as saved; a table the lab wrote that did not exist before is emptied, and
    with the nft backend removed, so iptables-save shows what it showed before."""
    text = before if before.endswith("\n") or not before else before + "\n"
    absent = [t for t in written if not re.search(rf"^\*{t}$", text, re.M)]
    for table in absent:
        text += f"*{table}\n" + "".join(f":{c} ACCEPT [0:0]\n" for c in BUILTIN.get(table, ())) + "COMMIT\n"
    iptables.restore(ns, text, flavour)
    if flavour == "nft":
        with netns.entered(ns):
            for table in absent:
                subprocess.run(["nft", "delete", "table", "ip", table], capture_output=True)
