"""The Vagrant multi-VM flow, simulated: one namespace per VM of the Vagrantfile on a shared
"private network" bridge, each with a Vagrant-like NAT eth0, its default route and an
iptables rule of its own; the real provisioning script runs inside each (so `--in-place`
means that namespace, entered with nsenter --net as a login to the VM would be), then overlay pings and captures cross the VMs, and `down --in-place`
leaves each VM as it was. The machine's own namespace is never involved."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from capture import Capture
from conftest import needs_root

pytestmark = [needs_root, pytest.mark.root]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = "ovvag"                   # the example's lab, renamed so it can run beside the example test
LAN = "ovsimlan"                # the hypervisor's private network: one bridge
NETLAB = os.path.join(os.path.dirname(sys.executable), "netlab")


def vagrantfile_vms() -> dict[str, str]:
    with open(os.path.join(ROOT, "Vagrantfile")) as f:
        text = f.read()
    table = re.search(r"VMS = \{(.*?)\}", text, re.S).group(1)
    return dict(re.findall(r'"([a-z0-9]+)" => "([0-9.]+)"', table))


def vm_ns(vm: str) -> str:
    return f"ovsim{vm}"


def run(*argv: str, check: bool = True, env=None) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {proc.returncode}\n{proc.stdout}{proc.stderr}")
    return proc


def in_vm(vm: str, *argv: str, env=None, check: bool = True) -> subprocess.CompletedProcess:
    """Like logging in to the VM: only the network namespace changes (`ip netns exec` would
    also give the command a mount namespace of its own, where netlab's pins stay private)."""
    return run("nsenter", f"--net=/run/netns/{vm_ns(vm)}", *argv, env=env, check=check)


def make_vms(vms: dict[str, str]) -> None:
    run("ip", "netns", "add", LAN)
    run("ip", "-n", LAN, "link", "add", "lan", "type", "bridge")
    run("ip", "-n", LAN, "link", "set", "lan", "up")
    for i, (vm, address) in enumerate(vms.items()):
        ns = vm_ns(vm)
        run("ip", "netns", "add", ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        # eth0: Vagrant's NAT interface with the VM's default route; eth1: the private network
        run("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", f"nat{i}", "netns", LAN)
        run("ip", "link", "add", "eth1", "netns", ns, "type", "veth", "peer", "name", f"p-{vm}", "netns", LAN)
        run("ip", "-n", LAN, "link", "set", f"p-{vm}", "master", "lan", "up")
        for dev, cidr in (("eth0", "10.0.2.15/24"), ("eth1", f"{address}/24")):
            run("ip", "-n", ns, "addr", "add", cidr, "dev", dev)
            run("ip", "-n", ns, "link", "set", dev, "up")
        run("ip", "-n", ns, "route", "add", "default", "via", "10.0.2.2", "dev", "eth0")
        in_vm(vm, "iptables", "-A", "INPUT", "-i", "lo", "-j", "ACCEPT")


def vm_snapshot(vm: str) -> dict[str, str]:
    return {
        "links": re.sub(r"\s+", " ", in_vm(vm, "ip", "-o", "link", "show").stdout),
        "addresses": in_vm(vm, "ip", "-4", "-o", "addr", "show").stdout,
        "routes": in_vm(vm, "ip", "-4", "route", "show", "table", "all").stdout,
        "iptables": re.sub(r"\[\d+:\d+\]|#.*", "", in_vm(vm, "iptables-save").stdout),
        "ip_forward": in_vm(vm, "cat", "/proc/sys/net/ipv4/ip_forward").stdout,
    }


def synced_folder(tmp_path) -> str:
    """What Vagrant syncs to /vagrant: the repository, here its lab file renamed to LAB."""
    src = tmp_path / "vagrant"
    (src / "topologies").mkdir(parents=True)
    with open(os.path.join(ROOT, "topologies", "overlay.yaml")) as f:
        text = f.read()
    (src / "topologies" / "overlay.yaml").write_text(re.sub(r"^name: .*$", f"name: {LAB}", text, flags=re.M))
    shutil.copytree(os.path.join(ROOT, "scripts"), src / "scripts")
    return str(src)


def env_of(vm: str, tmp_path, src: str) -> dict:
    """Each VM has its own /run: its own state files and agent."""
    return {**os.environ, "NETLAB": NETLAB, "NETLAB_SRC": src, "NETLAB_RUN": str(tmp_path / f"run-{vm}")}


def test_vagrant_flow_in_namespaces(tmp_path):
    vms = vagrantfile_vms()
    assert set(vms) == {"outside", "node1", "node2"}
    src = synced_folder(tmp_path)
    built = []
    try:
        make_vms(vms)
        before = {vm: vm_snapshot(vm) for vm in vms}
        # `vagrant up` provisions in file order: outside, node1, node2
        for vm in vms:
            in_vm(vm, "bash", os.path.join(src, "scripts", "vagrant-provision"), vm, "topologies/overlay.yaml",
                  env=env_of(vm, tmp_path, src))
            built.append(vm)
        # the VM's own namespace is the lab's host namespace: no eth0 veth, the VM's NIC carries VXLAN
        assert os.path.samestat(os.stat(f"/run/netns/{LAB}-node1"), os.stat(f"/run/netns/{vm_ns('node1')}"))
        assert ":4789" in in_vm("node1", "ss", "-Hunl").stdout
        assert "203.0.113.10 via 10.10.101.254 dev eth1" in in_vm("node1", "ip", "route").stdout
        assert "default via 10.0.2.2 dev eth0" in in_vm("node1", "ip", "route").stdout

        # cross-VM overlay: by address and by name, VXLAN on the private network
        with Capture(LAN, "p-node1") as cap:
            assert run("ip", "netns", "exec", f"{LAB}-b2", "ping", "-c1", "-W1", "10.0.0.2", check=False).returncode == 0
        assert any(p.vni == 4096 and (p.src, p.dst) == (vms["node2"], vms["node1"]) and p.inner
                   and (p.inner.src, p.inner.dst) == ("10.0.0.3", "10.0.0.2") for p in cap.packets), cap.packets
        named = run("ip", "netns", "exec", f"{LAB}-b2", "ping", "-c1", "-W1", "b1", check=False)
        assert named.returncode == 0 and "(10.0.0.2)" in named.stdout
        assert run("ip", "netns", "exec", f"{LAB}-r1", "ping", "-c1", "-W1", "r2", check=False).returncode == 0
        # a container reaches the outside VM's stand-in internet through docker_gwbridge + MASQUERADE
        with Capture(LAN, "p-outside") as cap:
            assert run("ip", "netns", "exec", f"{LAB}-b1", "ping", "-c1", "-W1", "203.0.113.10",
                       check=False).returncode == 0
        assert any(p.proto == 1 and p.src == vms["node1"] and p.dst == "203.0.113.10" for p in cap.packets)
        # what each VM's part says about itself (the CLI reads that VM's state)
        proc = in_vm("node2", NETLAB, "exec", LAB, "b2", "--", "ip", "-o", "addr", "show", "eth0",
                     env=env_of("node2", tmp_path, src))
        assert "10.0.0.3/24" in proc.stdout
        # a second provisioning run changes nothing
        again = in_vm("node1", NETLAB, "up", "--host", "node1", "--in-place", os.path.join(src, "topologies/overlay.yaml"),
                      env=env_of("node1", tmp_path, src))
        assert "no changes" in again.stdout

        # down, VM by VM: each VM is left exactly as it was
        for vm in reversed(list(vms)):
            in_vm(vm, NETLAB, "down", "--host", vm, "--in-place", LAB, env=env_of(vm, tmp_path, src))
            built.remove(vm)
        for vm in vms:
            assert vm_snapshot(vm) == before[vm], vm
        assert not [n for n in os.listdir("/run/netns") if n.startswith(f"{LAB}-")]
        assert not [n for n in os.listdir("/etc/netns") if n.startswith(f"{LAB}-")] if os.path.isdir("/etc/netns") else True
        assert not any(os.path.exists(tmp_path / f"run-{vm}" / LAB) for vm in vms)
    finally:
        for vm in reversed(built):
            in_vm(vm, NETLAB, "down", LAB, env=env_of(vm, tmp_path, src), check=False)
        for vm in vms:
            run("ip", "netns", "del", vm_ns(vm), check=False)
        run("ip", "netns", "del", LAN, check=False)


def test_in_place_refuses_the_machines_own_namespace(tmp_path):
    """Run here, in the machine's namespace, --in-place must refuse before touching anything."""
    from netlab.app.inplace import is_initial
    if not is_initial():
        pytest.skip("the tests do not run in the machine's initial namespace here")
    env = {k: v for k, v in os.environ.items() if k != "NETLAB_ALLOW_ROOT_NS"}
    proc = run(NETLAB, "up", "--host", "node1", "--in-place", os.path.join(ROOT, "topologies", "overlay.yaml"),
               check=False, env=env)
    assert proc.returncode == 1
    assert "NETLAB_ALLOW_ROOT_NS=1" in proc.stderr and "Traceback" not in proc.stderr
    assert not os.path.exists("/run/netns/overlay-node1")
