"""Engine profiles in real namespaces: for each engine a small lab's rule sets (iptables-save,
ip6tables-save, `nft list table`) are exactly the plan's, `verify` finds no drift, a hand
edit of any family is drift that `up` repairs; switching a live lab's engine replaces the
rule sets (20.10 -> 28.5 -> 29.7-nftables -> 20.10) and `down` leaves nothing. The checks
compare with whatever the plan says, so they hold as the engines' programs land; the
golden-program tests (golden_programs) run the ip6tables and native nftables paths now,
also in a namespace adopted with --in-place and given back as it was."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
from conftest import leftovers, needs_root
from golden_programs import IP6_PROGRAM, IP6_TEXT, NFT_PROGRAM, NFT_TEXT

from netlab.engine import ENGINES
from netlab.kernel.firewall import FAMILIES
from netlab.plan.diff import NFTABLES, canonical
from netlab.plan.firewall.programs import PROGRAMS
from netlab.plan.items import Firewall, Netns, NftRuleset
from netlab.plan.plan import Plan

pytestmark = [needs_root, pytest.mark.root]

LAB = """
name: {name}
engine: "{engine}"
networks:
  mynet: {{}}
containers:
  web: {{ports: ["8080:80"]}}
  a1: {{networks: [mynet]}}
"""
SAVE = {"nft": {"ipv4": "iptables-nft-save", "ipv6": "ip6tables-nft-save"},
        "legacy": {"ipv4": "iptables-legacy-save", "ipv6": "ip6tables-legacy-save"}}
XTABLES = {"filter", "nat", "raw", "mangle", "security"}        # iptables-nft's tables, not an engine's own
SWITCHES = ("20.10", "28.5", "29.7-nftables", "20.10")


def in_ns(ns: str, *argv: str) -> str:
    proc = subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True)
    assert proc.returncode == 0, f"{ns}: {' '.join(argv)}: {proc.stderr}"
    return proc.stdout


def native_tables(ns: str) -> list[str]:
    """"family name" of the namespace's nftables tables that are not iptables-nft's."""
    names = re.findall(r"^table (\S+) (\S+)$", in_ns(ns, "nft", "list", "tables"), re.M)
    return sorted(f"{f} {n}" for f, n in names if not (f in ("ip", "ip6") and n in XTABLES))


def kernel_rule_sets(ns: str, flavour: str) -> dict[str, str]:
    seen = {family: canonical(family, in_ns(ns, SAVE[flavour][family])) for family in FAMILIES}
    listed = "".join(in_ns(ns, "nft", "list", "table", *t.split()) for t in native_tables(ns))
    return {**seen, NFTABLES: canonical(NFTABLES, listed)}


def planned_rule_sets(plan: Plan, ns: str) -> dict[str, str]:
    texts = dict.fromkeys((*FAMILIES, NFTABLES), "")
    for item in plan.items:
        if isinstance(item, Firewall) and item.netns == ns:
            texts[item.family] = item.text
        elif isinstance(item, NftRuleset) and item.netns == ns:
            texts[NFTABLES] = item.text
    return {kind: canonical(kind, text) for kind, text in texts.items()}


def assert_kernel_is_the_plan(lab: str) -> Plan:
    from netlab.app import state
    from netlab.app.lifecycle import drift
    st = state.load(lab)
    assert st is not None and st.complete
    for ns in sorted(i.name for i in st.plan.of(Netns)):
        assert kernel_rule_sets(ns, st.firewall) == planned_rule_sets(st.plan, ns), ns
    assert [str(c) for c in drift(lab)] == []
    return st.plan


def host_rule_sets(plan: Plan, host: str) -> list[Firewall | NftRuleset]:
    return [i for i in plan.items if isinstance(i, (Firewall, NftRuleset)) and i.netns == host and i.text]


def hand_edit(ns: str, item: Firewall | NftRuleset) -> None:
    """What someone might do by hand: a rule or a chain more."""
    if isinstance(item, NftRuleset):
        in_ns(ns, "nft", "add", "chain", *item.tables()[0].split(), "h3-by-hand")
    else:
        in_ns(ns, "iptables-nft" if item.family == "ipv4" else "ip6tables-nft", "-A", "INPUT", "-j", "ACCEPT")


def check_hand_edits(path: str, lab: str, host: str, engine: str | None = None, firewall: str | None = None) -> None:
    from netlab.app.lifecycle import drift, up
    plan = assert_kernel_is_the_plan(lab)
    items = host_rule_sets(plan, host)
    assert items, f"{host} has no rule set to edit"
    for item in items:
        hand_edit(host, item)
        assert [(c.action, c.item) for c in drift(lab)] == [("update", item)]
        repaired = up(path, say=lambda m: None, engine=engine, firewall=firewall)
        assert [c.item for c in repaired.changes] == [item]
        assert_kernel_is_the_plan(lab)


def switch(path: str, lab: str, engine: str, firewall: str | None = None) -> Plan:
    from netlab.app.lifecycle import up
    up(path, say=lambda m: None, engine=engine, firewall=firewall)
    plan = assert_kernel_is_the_plan(lab)
    assert up(path, say=lambda m: None, engine=engine, firewall=firewall).changes == []
    return plan


@pytest.mark.parametrize("engine", list(ENGINES))
def test_each_engine_writes_its_plan_and_repairs_hand_edits(make_lab, engine):
    name = f"h3e{list(ENGINES).index(engine)}"
    path, result = make_lab(LAB.format(name=name, engine=engine))
    assert result.changes
    check_hand_edits(path, name, f"{name}-node1")


def test_switching_engines_replaces_the_rule_sets(make_lab):
    path, _ = make_lab(LAB.format(name="h3sw", engine="20.10"))
    host = "h3sw-node1"
    for engine in SWITCHES:
        plan = switch(path, "h3sw", engine)
        # whatever each program writes: no native tables without an NftRuleset, no ip6tables
        # rules without an ipv6 Firewall (what the comparison with the plan already implies)
        if not any(isinstance(i, NftRuleset) for i in host_rule_sets(plan, host)):
            assert native_tables(host) == []


@pytest.mark.parametrize("flavour", ["nft", "legacy"])
def test_switching_through_the_goldens_rule_sets(tmp_path, monkeypatch, flavour):
    """28.5 with Docker's ip6tables golden, 29.7-nftables with its nftables goldens: the
    ip6tables and native tables appear, are drift when edited, and go again."""
    from netlab.app.lifecycle import down
    monkeypatch.setitem(PROGRAMS, "iptables-28.5", IP6_PROGRAM)
    monkeypatch.setitem(PROGRAMS, "nftables-29.7", NFT_PROGRAM)
    lab, host = f"h3g{flavour[:3]}", f"h3g{flavour[:3]}-node1"
    path = tmp_path / "lab.yaml"
    path.write_text(textwrap.dedent(LAB.format(name=lab, engine="20.10")))
    try:
        switch(str(path), lab, "20.10", flavour)
        assert in_ns(host, SAVE[flavour]["ipv6"]).count("-A ") == 0
        switch(str(path), lab, "28.5", flavour)
        assert canonical("ipv6", in_ns(host, SAVE[flavour]["ipv6"])) == canonical("ipv6", IP6_TEXT)
        assert "*raw" in in_ns(host, SAVE[flavour]["ipv6"])
        switch(str(path), lab, "29.7-nftables", flavour)
        assert native_tables(host) == ["ip docker-bridges", "ip6 docker-bridges"]
        listed = "".join(in_ns(host, "nft", "list", "table", *t.split()) for t in native_tables(host))
        assert canonical(NFTABLES, listed) == canonical(NFTABLES, NFT_TEXT)
        assert kernel_rule_sets(host, flavour)["ipv4"] == kernel_rule_sets(host, flavour)["ipv6"] == ""
        if flavour == "nft":
            # iptables-nft's emptied tables are gone too
            assert re.findall(r"^table (.*)$", in_ns(host, "nft", "list", "tables"), re.M) == native_tables(host)
            check_hand_edits(str(path), lab, host, "29.7-nftables", flavour)
            in_ns(host, "nft", "delete", "table", "ip6", "docker-bridges")
            from netlab.app.lifecycle import drift
            assert [c.action for c in drift(lab)] == ["update"]
        switch(str(path), lab, "20.10", flavour)
        assert native_tables(host) == [] and kernel_rule_sets(host, flavour)["ipv6"] == ""
    finally:
        down(lab, say=lambda m: None)
    assert not leftovers(lab)


IN_PLACE = """
name: h3ip
underlay: {subnet: 10.10.101.0/24, gateway: 10.10.101.254}
hosts:
  node1: {address: 10.10.101.105}
networks:
  mynet: {}
containers:
  web: {ports: ["8080:80"]}
  a1: {networks: [mynet]}
"""
VM = "h3vm"
# netlab in the VM's namespace, with the golden programs patched in as in the test above
DRIVER = """
import sys
sys.path.insert(0, {tests!r})
from golden_programs import IP6_PROGRAM, NFT_PROGRAM
from netlab.plan.firewall.programs import PROGRAMS
PROGRAMS["iptables-28.5"], PROGRAMS["nftables-29.7"] = IP6_PROGRAM, NFT_PROGRAM
from netlab.app.lifecycle import down, drift, up
what, arg = sys.argv[1:]
if what == "up":
    up({path!r}, say=print, host="node1", in_place=True, engine=arg)
    print("\\n".join("drift: " + str(c) for c in drift("h3ip")))
else:
    down("h3ip", say=print, host="node1", in_place=True)
"""


def in_vm(*argv: str, env: dict | None = None) -> str:
    """As a login to the VM would: only the network namespace is the VM's."""
    proc = subprocess.run(["nsenter", f"--net=/run/netns/{VM}", *argv], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"{' '.join(argv)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def vm_firewall() -> dict[str, str]:
    """What the VM's own firewall looks like from inside: every family, every table."""
    return {"iptables": re.sub(r"\[\d+:\d+\]|#.*", "", in_vm("iptables-nft-save")),
            "ip6tables": re.sub(r"\[\d+:\d+\]|#.*", "", in_vm("ip6tables-nft-save")),
            # in any order: a table taken out and put back is listed last
            "tables": "".join(sorted(in_vm("nft", "list", "tables").splitlines(True))),
            "own": in_vm("nft", "list", "table", "inet", "h3vmown")}


def test_an_adopted_namespace_is_given_back_without_the_engines_tables(tmp_path):
    """--in-place in a VM with iptables, ip6tables and nftables rules of its own: 28.5's
    ip6tables and 29.7-nftables' tables are written there, and `down --in-place` leaves the
    VM's firewall exactly as it was."""
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lab = tmp_path / "lab.yaml"
    lab.write_text(IN_PLACE)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(tests=tests, path=str(lab)))
    env = {**os.environ, "NETLAB_RUN": str(tmp_path / "run")}
    netlab = [sys.executable, str(driver)]
    subprocess.run(["ip", "netns", "add", VM], check=True)
    built = False
    try:
        in_vm("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "lan1")
        in_vm("ip", "addr", "add", "10.10.101.105/24", "dev", "eth1")
        for dev in ("lo", "eth1", "lan1"):
            in_vm("ip", "link", "set", dev, "up")
        in_vm("iptables-nft", "-A", "INPUT", "-i", "lo", "-j", "ACCEPT")
        in_vm("ip6tables-nft", "-A", "INPUT", "-i", "lo", "-j", "ACCEPT")
        in_vm("nft", "add", "table", "inet", "h3vmown")
        in_vm("nft", "add", "chain", "inet", "h3vmown", "input", "{ type filter hook input priority 0; }")
        in_vm("nft", "add", "rule", "inet", "h3vmown", "input", "tcp", "dport", "22", "accept")
        before = vm_firewall()
        built = True
        # down from the nftables engine: its tables go, the VM's ip6tables saved at 28.5 come back
        for engine in (*SWITCHES, "28.5", "29.7-nftables"):
            out = in_vm(*netlab, "up", engine, env=env)
            assert "drift:" not in out, out
            tables = in_vm("nft", "list", "tables")
            assert ("table ip6 docker-bridges" in tables) == (engine == "29.7-nftables")
            assert ("-A DOCKER-FORWARD" in in_vm("ip6tables-nft-save")) == (engine == "28.5")
            assert "table inet h3vmown" in tables          # the VM's own table stays throughout
        in_vm(*netlab, "down", "-", env=env)
        built = False
        assert vm_firewall() == before
    finally:
        if built:
            subprocess.run(["nsenter", f"--net=/run/netns/{VM}", *netlab, "down", "-"], env=env)
        subprocess.run(["ip", "netns", "del", VM])
    assert not leftovers("h3ip")
