"""Each container's UTS namespace, live: `hostname` (and `domainname`) inside prints what
Docker 28.5 prints (tests/fixtures/compose/recorded: the hostname given, else the short id;
a container: one its owner's; host mode the machine's), through netlab's exec API, `netlab
exec` and a container's own command; a renamed pin is repaired by `up`; `down` leaves no pin."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
from conftest import leftovers, needs_root

pytestmark = needs_root

LAB = """\
name: {name}
containers:
  web: {{hostname: web01, domainname: corp.example, networks: [bridge]}}
  plain: {{networks: [bridge], command: "hostname; sleep 3600"}}
  side: {{network_mode: "container:web"}}
  hostnet: {{network_mode: host}}
  edge: {{network_mode: host, hostname: edge01}}
  batch: {{network_mode: none}}
"""


def _machine() -> tuple[str, str]:
    with open("/proc/sys/kernel/domainname") as f:
        return socket.gethostname(), f.read().strip()


@pytest.fixture
def lab(tmp_path):
    from netlab.app.lab import Lab
    from netlab.app.lifecycle import down
    path = tmp_path / "uts.yaml"
    # one lab per xdist worker: the tests using it may run at once
    path.write_text(LAB.format(name="buts" + os.environ.get("PYTEST_XDIST_WORKER", "main")[:4]))
    lab = Lab(str(path)).up()
    try:
        yield lab
    finally:
        down(lab.name, say=lambda m: None)
    assert not leftovers(lab.name)


def _names(lab, container: str) -> tuple[str, str]:
    out = lab.run(container, "hostname; cat /proc/sys/kernel/domainname", check=True).split()
    return out[0], out[1]


def test_each_container_prints_what_docker_prints(lab) -> None:
    topo = lab.topology
    machine = _machine()
    assert _names(lab, "web") == ("web01", "corp.example")
    assert _names(lab, "plain") == (topo.container("plain").id[:12], machine[1])
    assert _names(lab, "batch") == (topo.container("batch").id[:12], machine[1])
    # container: mode copies its owner's names (initializeNetworking), in a namespace of its own
    assert _names(lab, "side") == ("web01", "corp.example")
    # host mode: the machine's name, unless one is given
    assert _names(lab, "hostnet") == machine
    assert _names(lab, "edge") == ("edge01", machine[1])
    # a host (not a container) keeps the machine's
    assert lab.run("node1", "hostname", check=True).strip() == machine[0]


def test_each_has_its_own_namespace(lab) -> None:
    from netlab.kernel import uts
    pins = {n for n in uts.listed() if n.startswith(f"{lab.name}-")}
    assert pins == {f"{lab.name}-{c.name}" for c in lab.topology.containers}
    inodes = {os.stat(uts.path(n)).st_ino for n in pins}
    assert len(inodes) == len(pins)          # side's is not web's
    assert os.stat("/proc/self/ns/uts").st_ino not in inodes


def test_netlab_exec_prints_the_containers_hostname(lab) -> None:
    run = subprocess.run([sys.executable, "-m", "netlab", "exec", lab.name, "web", "hostname"],
                         capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (0, "web01\n"), run.stderr


def test_a_containers_command_runs_in_its_uts(lab) -> None:
    from netlab.app import state
    log = f"{state.log_dir(lab.name)}/plain.log"
    want = lab.topology.container("plain").id[:12]
    deadline = time.monotonic() + 30            # the agent starts it right after `up`
    text = ""
    while want not in text and time.monotonic() < deadline:
        time.sleep(0.2)
        text = open(log).read() if os.path.exists(log) else ""
    assert want in text.splitlines(), text


def test_up_repairs_a_renamed_namespace(lab) -> None:
    from netlab.app.lifecycle import drift, up
    from netlab.kernel import uts
    uts.write(f"{lab.name}-web", "renamed", None)
    assert _names(lab, "web")[0] == "renamed"
    assert [c.action for c in drift(lab.name) if c.item.kind == "uts"] == ["update"]
    up(lab.file, say=lambda m: None)
    assert _names(lab, "web") == ("web01", "corp.example")
    assert _names(lab, "side") == ("web01", "corp.example")   # not touched


def test_down_removes_the_pins_the_state_file_forgot(tmp_path) -> None:
    """A kill -9 of `up` before it recorded completion, or a state file gone: `down` still
    finds the lab's pins by their names."""
    from netlab.app import state
    from netlab.app.lifecycle import down, up
    from netlab.kernel import uts
    path = tmp_path / "uts.yaml"
    path.write_text(LAB.format(name="butsd"))
    try:
        up(str(path), say=lambda m: None)
        assert any(n.startswith("butsd-") for n in uts.listed())
        os.unlink(f"{state.lab_dir('butsd')}/state.json")
        uts.create("butsd-stray", "stray", None)
    finally:
        down("butsd", say=lambda m: None)
    assert not [n for n in uts.listed() if n.startswith("butsd-")]
    assert not leftovers("butsd")
