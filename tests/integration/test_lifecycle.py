"""A YAML lab becomes real namespaces, bridges and veths; a rerun changes nothing; down
leaves nothing. Real kernel objects, real packets."""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time

import pytest
from conftest import leftovers, needs_root

pytestmark = [needs_root, pytest.mark.root]

NETLAB = [sys.executable, "-m", "netlab"]

THREE_NETS = """
name: {lab}
networks:
  front: {{}}
  back:
    subnet: 10.77.0.0/24
    ip_range: 10.77.0.128/25
  db:
    driver_opts:
      com.docker.network.bridge.name: {lab}dbbr
      com.docker.network.driver.mtu: "1400"
containers:
  web:   {{ports: ["8080:80"], command: "python3 -m http.server 80"}}
  api:   {{networks: [front, back]}}
  worker: {{networks: [back]}}
  cache: {{networks: {{back: {{ipv4_address: 10.77.0.10}}}}}}
  pg:    {{networks: [db, back]}}
  tool:  {{}}
  side:  {{network_mode: "container:api"}}
  nohost: {{network_mode: none}}
"""


def netlab(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(NETLAB + list(args), capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"netlab {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc


def in_ns(lab: str, name: str, *cmd: str) -> subprocess.CompletedProcess:
    return netlab("exec", lab, name, "--", *cmd, check=False)


def pings(lab: str, src: str, address: str) -> bool:
    return in_ns(lab, src, "ping", "-c", "1", "-W", "1", address).returncode == 0


def test_three_networks_eight_containers(make_lab):
    lab = "lc3n"
    path, result = make_lab(THREE_NETS.format(lab=lab))
    assert result.changed
    from netlab.app.lifecycle import snapshot_topology
    topo = snapshot_topology(lab)
    ip = {c.name: {a.network: str(a.address.ip) for a in c.attachments} for c in topo.containers}

    # IPAM as Docker: docker0 172.17/16, then front takes the next pool, db the one after
    assert ip["web"] == {"bridge": "172.17.0.2"}
    assert ip["api"] == {"front": "172.18.0.2", "back": "10.77.0.128"}
    assert ip["cache"] == {"back": "10.77.0.10"}
    assert ip["pg"] == {"db": "172.19.0.2", "back": "10.77.0.130"}

    # the kernel holds exactly that: addresses, MACs, routes, names, MTU
    out = in_ns(lab, "api", "ip", "-o", "addr", "show").stdout
    assert "eth0    inet 172.18.0.2/16" in " ".join(out.split("  ")) or "172.18.0.2/16" in out
    assert "10.77.0.128/24" in out
    link = in_ns(lab, "api", "ip", "-o", "link", "show", "eth1").stdout
    assert "02:42:0a:4d:00:80" in link
    route = in_ns(lab, "api", "ip", "route", "show", "default").stdout
    assert route.startswith("default via 10.77.0.1 dev eth1")   # "back" sorts before "front"
    assert "mtu 1400" in in_ns(lab, "pg", "ip", "-o", "link", "show", "eth0").stdout
    host_links = in_ns(lab, "node1", "ip", "-o", "link", "show").stdout
    assert f"{lab}dbbr" in host_links and "docker0" in host_links
    # container: shares api's namespace; none has lo only
    assert "10.77.0.128" in in_ns(lab, "side", "ip", "-o", "addr").stdout
    none_links = in_ns(lab, "nohost", "ip", "-o", "link").stdout.strip().splitlines()
    assert len(none_links) == 1 and " lo:" in none_links[0]

    # reachability as on a Docker host
    assert pings(lab, "api", ip["worker"]["back"])
    assert pings(lab, "pg", ip["api"]["front"]) is False        # pg is not on front
    assert pings(lab, "tool", ip["web"]["bridge"])
    assert pings(lab, "side", ip["cache"]["back"])              # through api's eth1
    assert pings(lab, "nohost", "172.17.0.1") is False

    # a second up changes nothing and says so
    again = netlab("up", path)
    assert "no changes" in again.stdout


def test_rerun_changed_file_touches_only_the_difference(make_lab, tmp_path):
    lab = "lcchg"
    base = f"name: {lab}\nnetworks: {{n1: {{}}}}\ncontainers:\n  a: {{networks: [n1]}}\n  b: {{networks: [n1]}}\n"
    path, _ = make_lab(base)
    with open(path, "a") as f:
        f.write("  c: {networks: [n1]}\n")
    changed = netlab("up", path).stdout
    touched = {line.split()[1] for line in changed.splitlines() if line.startswith(("create", "update"))}
    assert f"{lab}-c:" in changed or "netns" in touched
    assert f"{lab}-a" not in changed and f"{lab}-b" not in changed
    assert pings(lab, "c", "172.18.0.2")
    # and removing it again removes only its namespace and veth
    with open(path, "w") as f:
        f.write(base)
    removed = netlab("up", path).stdout
    assert f"netns {lab}-c" in removed and f"{lab}-a" not in removed
    assert not os.path.exists(f"/run/netns/{lab}-c")


def test_drift_is_repaired(make_lab):
    lab = "lcdrift"
    path, _ = make_lab(f"name: {lab}\ncontainers:\n  a: {{}}\n  b: {{}}\n")
    from netlab.app.lifecycle import snapshot_topology
    b = snapshot_topology(lab).container("b")
    veth = b.attachments[0].host_ifname
    subprocess.run(["ip", "-n", f"{lab}-node1", "link", "del", veth], check=True)
    subprocess.run(["ip", "-n", f"{lab}-a", "addr", "flush", "dev", "eth0"], check=True)
    subprocess.run(["ip", "netns", "exec", f"{lab}-node1", "iptables", "-t", "nat", "-F", "POSTROUTING"], check=True)
    assert not pings(lab, "a", "172.17.0.3")
    report = netlab("verify", lab, check=False)
    assert report.returncode == 1
    assert f"drift: create   {lab}-node1: veth {veth}" in report.stdout
    assert f"drift: create   {lab}-a: address 172.17.0.2/16 dev eth0  (missing)" in report.stdout
    assert f"drift: update   {lab}-node1: iptables" in report.stdout
    repair = netlab("up", path).stdout
    assert veth in repair and "172.17.0.2/16" in repair
    assert "netns" not in repair.split("changes applied")[0].split("create")[0]
    assert pings(lab, "a", "172.17.0.3")
    assert "no changes" in netlab("up", path).stdout
    assert netlab("verify", lab).stdout.endswith("0 passed, 0 failed\n")


def test_command_is_supervised_logged_and_stopped(make_lab):
    lab = "lccmd"
    make_lab(f"name: {lab}\ncontainers:\n  srv: {{command: \"sleep 3000\"}}\n")
    from netlab.agent import control
    first = control.status(lab)["processes"]["srv"]["pid"]
    os.kill(first, 9)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = control.status(lab)["processes"]["srv"]
        if now["pid"] and now["pid"] != first:
            break
        time.sleep(0.1)
    assert now["pid"] != first and now["restarts"] >= 1
    with open(f"/run/netlab/{lab}/log/srv.log") as f:
        assert f.read().count("starting 'sleep 3000'") >= 2
    # the process runs inside the container's namespace
    assert os.readlink(f"/proc/{now['pid']}/ns/net") == f"net:[{os.stat(f'/run/netns/{lab}-srv').st_ino}]"


def test_exec_uses_container_files_and_passes_exit_status(make_lab):
    lab = "lcexec"
    make_lab(f"name: {lab}\nnetworks: {{u: {{}}}}\ncontainers:\n  a: {{networks: [u]}}\n  d: {{}}\n")
    assert "nameserver 127.0.0.11" in in_ns(lab, "a", "cat", "/etc/resolv.conf").stdout
    assert "nameserver 203.0.113.53" in in_ns(lab, "d", "cat", "/etc/resolv.conf").stdout
    assert "172.17.0.2\t" in in_ns(lab, "d", "cat", "/etc/hosts").stdout
    assert in_ns(lab, "a", "sh", "-c", "exit 7").returncode == 7
    assert "10.10.101.105" in in_ns(lab, "node1", "ip", "-o", "addr").stdout
    assert "203.0.113.10" in in_ns(lab, "outside", "ip", "-o", "addr").stdout
    bad = in_ns(lab, "nosuch", "true")
    assert bad.returncode == 1 and "no container, host or outside named 'nosuch'" in bad.stderr


def test_inspect_is_shaped_like_docker(make_lab):
    lab = "lcinsp"
    make_lab(f"name: {lab}\nnetworks: {{u: {{subnet: 10.88.0.0/24}}}}\n"
             f"containers:\n  a: {{networks: {{u: {{aliases: [db]}}}}, ports: ['8080:80']}}\n")
    nets = json.loads(netlab("inspect", lab, "u").stdout)
    # the config as asked: a subnet given without a gateway shows none (dockerd's IPAM keeps
    # the request; record 10-dual-stack), the bridge still has the first address
    assert nets[0]["IPAM"]["Config"] == [{"Subnet": "10.88.0.0/24"}]
    (member,) = nets[0]["Containers"].values()
    assert member["Name"] == "a" and member["IPv4Address"] == "10.88.0.2/24"
    (ctr,) = json.loads(netlab("inspect", lab, "a").stdout)
    assert ctr["NetworkSettings"]["Networks"]["u"]["Aliases"][1] == "db"
    # the [::] twin too, as docker inspect shows it on an IPv4-only network (20.10, 26.1, 28.5)
    assert ctr["NetworkSettings"]["Ports"]["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": "8080"},
                                                         {"HostIp": "::", "HostPort": "8080"}]


def test_same_name_other_file_is_refused(make_lab, tmp_path):
    lab = "lcown"
    path, _ = make_lab(f"name: {lab}\ncontainers: {{a: {{}}}}\n")
    other = tmp_path / "other.yaml"
    other.write_text(f"name: {lab}\ncontainers: {{b: {{}}}}\n")
    proc = netlab("up", str(other), check=False)
    assert proc.returncode == 1 and f"already up from {path}" in proc.stderr
    assert not os.path.exists(f"/run/netns/{lab}-b")
    # the lab's own file under another name, or moved, is the same lab
    link = tmp_path / "link.yaml"
    link.symlink_to(path)
    assert "no changes" in netlab("up", str(link)).stdout
    moved = tmp_path / "moved.yaml"
    os.rename(path, moved)
    assert "no changes" in netlab("up", str(moved)).stdout
    # an edited file that no longer validates still names the lab for `down`
    moved.write_text(f"name: {lab}\nnetworks: {{n: {{subnet: not-a-subnet}}}}\n")
    assert "removed" in netlab("down", str(moved)).stdout


def test_invalid_file_creates_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: lcbad\ncontainers:\n  a: {networks: [nosuch]}\n")
    proc = netlab("up", str(bad), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{bad}:3: containers.a.networks[0]: unknown network 'nosuch'; known: bridge"
    assert not leftovers("lcbad")


def test_not_root_is_one_clear_line(tmp_path):
    f = tmp_path / "lab.yaml"
    f.write_text("name: lcuser\n")
    # modules are loaded as root (the interpreter lives under /root); then the user changes
    drop = ("import os, sys, netlab.cli, netlab.app.lifecycle, netlab.model.resolve; os.setuid(65534); "
            "sys.argv = ['netlab', 'up', sys.argv[1]]; netlab.cli.main()")
    proc = subprocess.run([sys.executable, "-c", drop, str(f)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "netlab needs root to make network namespaces; run it with sudo"
    assert not leftovers("lcuser")


def test_kill_during_up_then_down_leaves_nothing(tmp_path):
    lab = "lckill"
    f = tmp_path / "lab.yaml"
    f.write_text(f"name: {lab}\nnetworks: {{n1: {{}}, n2: {{}}}}\ncontainers:\n" +
                 "".join(f"  c{i}: {{networks: [n{1 + i % 2}]}}\n" for i in range(30)))
    try:
        for delay in (0.3, 0.5, 0.7):
            proc = subprocess.Popen(NETLAB + ["up", str(f)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            proc.kill()
            proc.wait()
            netlab("down", lab)
            assert not leftovers(lab), f"after kill at {delay}s"
        proc = subprocess.Popen(NETLAB + ["up", str(f)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        proc.kill()
        proc.wait()
        # up again converges to the full lab, and a third run has nothing to do
        netlab("up", str(f))
        assert "no changes" in netlab("up", str(f)).stdout
        assert pings(lab, "c0", "172.18.0.3")
    finally:
        netlab("down", lab, check=False)
    assert not leftovers(lab)


def test_second_up_waits_for_the_lock(tmp_path):
    lab = "lclock"
    f = tmp_path / "lab.yaml"
    f.write_text(f"name: {lab}\ncontainers:\n" + "".join(f"  c{i}: {{}}\n" for i in range(5)))
    from netlab.app import state
    try:
        with state.locked(lab):
            proc = subprocess.Popen(NETLAB + ["up", str(f)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            ready, _, _ = select.select([proc.stderr], [], [], 60)
            assert ready, "up neither waited nor said anything within 60 s"
            assert "being changed by another netlab" in proc.stderr.readline()
            time.sleep(0.5)
            assert proc.poll() is None, "up did not wait for the lock"
            assert not os.path.exists(f"/run/netns/{lab}-c0"), "up built while another held the lock"
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "no changes" in netlab("up", str(f)).stdout
    finally:
        netlab("down", lab, check=False)
    assert not leftovers(lab)


def test_killed_agent_is_reported_and_restarted_without_duplicates(make_lab):
    lab = "lcagent"
    path, _ = make_lab(f"name: {lab}\ncontainers:\n  srv: {{command: \"sleep 3000 & sleep 3000\"}}\n")
    from netlab.agent import control
    from netlab.kernel.processes import in_namespaces
    deadline = time.monotonic() + 20
    while len(before := in_namespaces([f"{lab}-srv"])) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)          # `ip netns exec` enters the namespace a moment after `up` returns
    assert len(before) >= 2      # the shell and its backgrounded grandchild
    os.kill(control.pid(lab), 9)
    time.sleep(0.3)
    report = netlab("verify", lab, check=False)
    assert report.returncode == 1 and "the lab's agent is not running" in report.stdout
    fixed = netlab("up", path).stdout
    assert "process srv" in fixed
    after = in_namespaces([f"{lab}-srv"])
    assert not set(before) & set(after), "processes of the killed agent survived next to the new ones"
    assert netlab("verify", lab).returncode == 0


def test_two_labs_with_the_same_names_never_collide(tmp_path):
    """Same container and network names, same subnets: each lab's objects live in its own
    namespaces, so both work at once and taking one down leaves the other intact."""
    from netlab.app.lifecycle import down, up
    body = "networks: {app: {subnet: 10.66.0.0/24}}\ncontainers:\n  web: {networks: [app]}\n  db: {networks: [app]}\n"
    labs = ("lctwina", "lctwinb")
    try:
        for lab in labs:
            (tmp_path / f"{lab}.yaml").write_text(f"name: {lab}\n{body}")
            up(str(tmp_path / f"{lab}.yaml"), say=lambda m: None)
        for lab in labs:
            assert pings(lab, "web", "10.66.0.3")
        down(labs[0], say=lambda m: None)
        assert not leftovers(labs[0])
        assert pings(labs[1], "web", "10.66.0.3")
    finally:
        for lab in labs:
            down(lab, say=lambda m: None)
    assert not leftovers(labs[1])


@pytest.mark.parametrize("case, junk", list(enumerate(['{"lab": "lcdmg", "fi', "[]", "null",
                                                         '{"lab": "lcdmg", "file": "x", "plan": {}}'])))
def test_a_damaged_state_file_is_listed_and_down_still_removes_the_lab(tmp_path, case, junk):
    lab = f"lcdmg{case}"        # cases may run side by side
    f = tmp_path / "lab.yaml"
    f.write_text(f"name: {lab}\nnetworks: {{n: {{}}}}\ncontainers:\n  a: {{networks: [n]}}\n"
                 "  b: {networks: [n], command: 'sleep 300'}\n")
    try:
        netlab("up", str(f))
        with open(f"/run/netlab/{lab}/state.json", "w") as state_file:
            state_file.write(junk)
        listed = netlab("ls")
        assert any(line.split()[:2] == [lab, "damaged"] for line in listed.stdout.splitlines()), listed.stdout
        refused = netlab("up", str(f), check=False)
        assert refused.returncode == 1 and "state file is unreadable" in refused.stderr
        assert "Traceback" not in refused.stderr
        removed = netlab("down", lab)
        assert "removed 4 namespaces" in removed.stdout, removed.stdout + removed.stderr
        assert "Traceback" not in removed.stderr
    finally:
        netlab("down", lab, check=False)
    assert not leftovers(lab)


def test_a_namespace_deleted_behind_netlabs_back_is_drift_in_verify(make_lab):
    lab = "lcgone"
    path, _ = make_lab(f"name: {lab}\ncontainers:\n  a: {{}}\n  b: {{}}\n"
                       "expect:\n  - {from: a, to: b}\n  - {from: b, to: a}\n")
    subprocess.run(["ip", "netns", "del", f"{lab}-a"], check=True)
    report = netlab("verify", lab, check=False)
    assert report.returncode == 1 and "Traceback" not in report.stderr
    rows = report.stdout.splitlines()
    assert rows[1].split()[:2] == ["a", "b"] and f"({lab}-a is missing)" in rows[1] and rows[1].endswith("FAIL")
    assert rows[2].split()[:2] == ["b", "a"] and rows[2].endswith("FAIL")      # probed: a is gone
    assert f"drift: create   netns {lab}-a (container)" in report.stdout
    netlab("up", path)
    assert netlab("verify", lab).stdout.endswith("2 passed, 0 failed\n")


def test_a_namespace_the_agent_holds_is_rebuilt_after_a_manual_delete(make_lab):
    # the agent's embedded DNS and stand-in sockets keep a deleted namespace (and the peer of
    # its veth) alive until it reloads: up must rebuild the pair, not stop at "File exists"
    lab = "lcheld"
    path, _ = make_lab(f"name: {lab}\nnetworks:\n  n1: {{}}\ncontainers:\n"
                       "  a: {networks: [n1]}\n  b: {networks: [n1], expose: [\"80\"], standin: true}\n")
    for gone in ("a", "b"):
        subprocess.run(["ip", "netns", "del", f"{lab}-{gone}"], check=True)
        repair = netlab("up", path, check=False)
        assert repair.returncode == 0 and "Traceback" not in repair.stderr, repair.stderr
        assert in_ns(lab, "a", "busybox", "nc", "-w", "2", "b", "80").stdout == "b\n"
    assert "no changes" in netlab("up", path).stdout


def test_exec_passes_exit_statuses_through_as_a_shell_would(make_lab, tmp_path):
    lab = "lcexit"          # not test_exec_uses_container_files...'s lcexec: xdist may run both at once
    make_lab(f"name: {lab}\ncontainers:\n  a: {{}}\n")
    text = tmp_path / "notes.txt"
    text.write_text("not a program\n")
    text.chmod(0o644)
    assert in_ns(lab, "a", "sh", "-c", "exit 3").returncode == 3
    missing = in_ns(lab, "a", "no-such-command-here")
    assert missing.returncode == 127 and "command not found" in missing.stderr
    assert in_ns(lab, "a", str(text)).returncode == 126
    assert in_ns(lab, "nobody", "true").returncode == 1


def test_verify_says_why_a_command_is_not_running(make_lab):
    lab = "lcexit"
    make_lab(f"name: {lab}\ncontainers:\n  a: {{command: 'echo starting; exit 3'}}\n")
    deadline = time.monotonic() + 10
    while "exit status 3" not in (report := netlab("verify", lab, check=False)).stdout:
        assert time.monotonic() < deadline, report.stdout
        time.sleep(0.2)
    assert report.returncode == 1
    assert f"its output is in /run/netlab/{lab}/log/a.log" in report.stdout
    with open(f"/run/netlab/{lab}/log/a.log") as f:
        assert "starting" in f.read()


def test_iptables_false_then_true_then_false_follows_the_file(make_lab):
    lab = "lciptf"
    text = ("name: " + lab + "\nhosts:\n  node1: {{daemon: {{iptables: {flag}}}}}\n"
            "containers:\n  a: {{ports: ['8080:80']}}\n")
    path, _ = make_lab(text.format(flag="true"))

    def host_rules() -> str:
        return subprocess.run(["ip", "netns", "exec", f"{lab}-node1", "iptables-save"],
                              capture_output=True, text=True, check=True).stdout

    assert "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT" in host_rules()
    with open(path, "w") as f:
        f.write(text.format(flag="false"))
    assert "iptables" in netlab("up", path).stdout
    assert "DOCKER" not in host_rules()
    assert "no changes" in netlab("up", path).stdout
    with open(path, "w") as f:
        f.write(text.format(flag="true"))
    netlab("up", path)
    assert "--dport 8080 -j DNAT" in host_rules()
    assert "no changes" in netlab("up", path).stdout
