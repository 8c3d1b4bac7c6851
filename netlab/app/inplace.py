"""`--host H --in-place`: build host H's part of a lab in the namespace netlab runs in (a
Vagrant VM's own). It is the one case where netlab touches a namespace it did not make, so:
it refuses the machine's initial namespace unless NETLAB_ALLOW_ROOT_NS=1 says that is meant;
it keeps the VM's NIC, addresses and routes out of the plan; it saves the iptables and
ip6tables tables and sysctls it will replace, and `down` puts them back after taking out
exactly what it made (its links, addresses and routes, and an nftables engine's own tables)."""
from __future__ import annotations

import json
import os

from ..errors import LabError
from ..kernel import netns
from ..kernel.adopt import is_initial, nic_holding, put_back_tables
from ..kernel.apply import Executor
from ..kernel.firewall import FAMILIES, backend, tables_of
from ..kernel.system import Kernel
from ..model.topology import Topology
from ..plan.diff import RANK, Change
from ..plan.items import Address, Bridge, Firewall, Macvlan, Netns, NftRuleset, Route, Sysctl, Veth, Vlan
from ..plan.part import OUTSIDE, host_part
from ..plan.plan import Plan
from . import state

ALLOW = "NETLAB_ALLOW_ROOT_NS"
SAVED = "inplace.json"
# what the lab made inside an adopted namespace and takes out itself (the rest is restored)
MADE_THERE = (Bridge, Veth, Vlan, Macvlan, Address, Route, NftRuleset)
# where the saved tables of each family are kept in inplace.json (IPv4's names predate IPv6)
SAVED_KEYS = {"ipv4": ("iptables", "tables"), "ipv6": ("ip6tables", "tables6")}


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
        nic = underlay_nic(str(address), host)
    return host_part(topo, plan, host, in_place, nic)


def underlay_nic(address: str, host: str) -> str:
    """The interface of this namespace that holds `address`: the VM's underlay NIC."""
    nic = nic_holding(address)
    if nic is None:
        raise LabError(f"--in-place: {host}'s underlay address {address} is on no interface of this "
                       "namespace; the VM's private network (the underlay) must carry it already")
    return nic


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
    """Before the first change: the adopted namespace's iptables (and ip6tables) and each
    sysctl the plan writes there, as they were (values already saved are kept: they are the
    VM's own; an engine switch that writes a new family or table adds it)."""
    names = adopted(plan)
    if not names:
        return
    saved = _load(lab)
    for ns in names:
        netns.adopt(ns)
        entry = saved.setdefault(ns, {"iptables": None, "tables": [], "sysctls": {}})
        for family in FAMILIES:
            rules_key, tables_key = SAVED_KEYS[family]
            tables = tables_of("".join(i.text for i in plan.of(Firewall) if i.netns == ns and i.family == family))
            if tables and entry.get(rules_key) is None:
                entry[rules_key] = backend(flavour).save(ns, family=family)
            entry[tables_key] = list(dict.fromkeys([*entry.get(tables_key, []), *tables]))
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
    """Take out what the lab made in each adopted namespace (an nftables engine's tables too),
    put back its iptables and ip6tables tables and sysctls, and unpin it; the namespace
    itself and all it had before stay."""
    saved = _load(lab)
    made = [i for i in plan.items if isinstance(i, MADE_THERE) and i.netns in names]
    with Kernel(backend(flavour)) as kernel:
        executor = Executor(kernel, lab)
        for item in sorted(made, key=lambda i: -RANK[type(i)]):
            executor.run(Change("delete", item))
    for ns in names:
        entry = saved.get(ns, {"iptables": None, "tables": [], "sysctls": {}})
        for family in FAMILIES:
            rules_key, tables_key = SAVED_KEYS[family]
            if entry.get(rules_key) is not None:
                put_back_tables(backend(flavour), ns, entry[rules_key], entry.get(tables_key, []), family)
        for path, value in entry["sysctls"].items():
            if value is not None:
                netns.write_sysctl(ns, path, value)
        netns.delete(ns)

