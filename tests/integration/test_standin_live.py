"""Stand-in listeners live: a container whose image would listen on 3306/tcp and 53/udp and
publish 8080:80 answers there from the agent (TCP: its name; UDP: the echo) to another
container, and through the DNAT from the lab's outside; the trace of a stand-in port agrees
with its prediction; the listeners come back after the agent is killed and `up` runs again,
follow the lab file on reload, leave a port the container's own command holds alone, and
`down` leaves nothing."""
from __future__ import annotations

import os
import signal
import time

import pytest
from conftest import needs_root

pytestmark = [needs_root, pytest.mark.root]

LAB = """
name: {name}
hosts:
  node1: {{address: 10.10.101.105}}
networks:
  app:
    enable_ipv6: true
    ipam: {{config: [{{subnet: 172.30.0.0/24}}, {{subnet: "2001:db8:30::/64"}}]}}
containers:
  db: {{expose: [{expose}], ports: ["8080:80"], networks: [app], standin: true}}
  client: {{networks: [app]}}
"""


def answer(ns: str, address: str, port: int) -> bytes | None:
    from netlab.kernel.standin_probe import tcp_answer
    return tcp_answer(ns, address, port)


def echoes(ns: str, address: str, port: int) -> bool:
    """A datagram comes back on a connected socket (so from the address it went to)."""
    from netlab.kernel.probe import udp_echo
    return udp_echo(ns, address, port)


def ports(lab: str) -> dict[str, str]:
    from netlab.agent import control
    return control.status(lab)["standin_ports"]["db"]["ports"]


def test_stand_ins_answer_trace_and_come_back(make_lab):
    from netlab.agent import control
    from netlab.app.lifecycle import drift, snapshot_topology, up
    from netlab.app.tracing import live_trace
    from netlab.app.verify import agent_notes, agent_problems
    lab = "cstl"
    path, _ = make_lab(LAB.format(name=lab, expose='3306, "53/udp"'))
    topo = snapshot_topology(lab)
    db, client = topo.container("db"), topo.container("client")
    ip = str(db.attachments[0].address.ip)
    ip6 = str(db.attachments[0].address6.ip)
    assert ports(lab) == {"53/udp": "listening", "80/tcp": "listening", "3306/tcp": "listening"}
    assert not drift(lab)

    assert answer(client.netns, ip, 3306) == b"db\n"
    assert answer(client.netns, ip, 80) == b"db\n"
    assert echoes(client.netns, ip, 53)
    assert answer(client.netns, ip, 3307) is None          # refused: no stand-in there
    assert not echoes(client.netns, ip, 54)
    assert answer(client.netns, ip6, 3306) == b"db\n"      # IPv6 too, on every address
    assert echoes(client.netns, ip6, 53)
    assert answer(client.netns, ip6, 3307) is None
    # the published port from outside the hosts: DNAT to db:80, answered by the stand-in
    assert answer(topo.outside_netns, "10.10.101.105", 8080) == b"db\n"

    assert not agent_problems(topo)
    assert "db: stand-in listeners on 53/udp, 80/tcp, 3306/tcp" in agent_notes(topo)

    for proto, port, reply, family in (("tcp", 3306, "SA", 4), ("tcp", 3307, "RA", 4), ("udp", 53, "udp", 4),
                                       ("udp", 54, "port-unreachable", 4), ("tcp", 3306, "SA", 6)):
        t = live_trace(lab, "client", "db", proto=proto, port=port, family=family)
        assert t.predicted is not None and not t.differences, (proto, port, t.differences)
        assert (t.outcome.status, t.outcome.owner, t.outcome.reply) == ("delivered", "db", reply), t.outcome

    # the agent killed: its sockets go with it; `up` starts another, which opens them again
    os.kill(control.pid(lab), signal.SIGKILL)
    while control.pid(lab) is not None:
        time.sleep(0.05)
    assert answer(client.netns, ip, 3306) is None
    up(path, say=lambda m: None)
    assert answer(client.netns, ip, 3306) == b"db\n"
    assert echoes(client.netns, ip, 53)

    # the lab file changed: the reload opens 5432 and closes 53/udp, the rest stays
    with open(path, "w") as f:
        f.write(LAB.format(name=lab, expose='3306, 5432'))
    up(path, say=lambda m: None)
    assert ports(lab) == {"80/tcp": "listening", "3306/tcp": "listening", "5432/tcp": "listening"}
    assert answer(client.netns, ip, 5432) == b"db\n"
    assert not echoes(client.netns, ip, 53)
    assert not drift(lab)


OWN = """
name: cstown
hosts:
  node1: {{address: 10.10.101.105}}
containers:
  db:
    expose: [9000, 9001]
    standin: {standin}
    command: "{python} -c \\"import socket; s=socket.socket(); s.bind(('0.0.0.0', 9000)); s.listen(); [c.sendall(b'own') or c.close() for c, _ in iter(s.accept, None)]\\""
"""


def test_a_port_the_containers_command_holds_is_reported_not_fought_over(make_lab):
    """The command listens first (no stand-ins yet); then the stand-ins come: 9000/tcp is
    reported taken over IPv4 (the command bound 0.0.0.0 alone), 9001 listens, the agent lives on."""
    import sys

    from netlab.agent import control
    from netlab.app.lifecycle import snapshot_topology, up
    from netlab.app.verify import agent_notes, agent_problems
    from netlab.kernel.probe import tcp_connect
    lab = "cstown"
    path, _ = make_lab(OWN.format(python=sys.executable, standin="false"))
    ns = snapshot_topology(lab).container("db").netns
    assert tcp_connect(ns, "127.0.0.1", 9000)     # retried while the command starts
    pid = control.pid(lab)

    with open(path, "w") as f:
        f.write(OWN.format(python=sys.executable, standin="true"))
    up(path, say=lambda m: None)
    assert control.pid(lab) == pid
    got = ports(lab)
    assert got["9001/tcp"] == "listening"
    assert got["9000/tcp"].startswith("taken (IPv4)")
    assert answer(ns, "127.0.0.1", 9000) == b"own"
    assert answer(ns, "127.0.0.1", 9001) == b"db\n"
    topo = snapshot_topology(lab)
    assert not agent_problems(topo)
    assert any(n.startswith("db: stand-in listeners on 9001/tcp; 9000/tcp taken (IPv4)") for n in agent_notes(topo))


COMPOSE = """\
name: c-standin
services:
  proxy:
    image: nginx
    ports: ["8081:80"]
    networks: [front, back]
  db:
    image: mariadb
    expose: ["3306"]
    networks: [back]
  worker:
    image: example/worker
    networks: [back]
    x-netlab: {command: "sleep infinity"}
networks:
  front: {}
  back: {internal: true}
"""


def test_a_compose_proxy_reaches_its_database_on_3306(tmp_path):
    """Unmodified Compose: every service without x-netlab.command gets its stand-ins, so
    "can the proxy reach the database on 3306" is answered by a connection and a trace."""
    import subprocess
    import sys

    from conftest import leftovers

    from netlab.agent import control
    from netlab.app.compose_labs import lab_of
    from netlab.app.lifecycle import snapshot_topology
    from netlab.app.tracing import live_trace

    def netlab(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "netlab", *args], capture_output=True, text=True,
                              cwd=str(tmp_path))
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    up = netlab("up")
    lab = lab_of("c-standin")
    try:
        assert up.returncode == 0, up.stderr
        topo = snapshot_topology(lab)
        proxy, db, worker = (topo.container(f"c-standin-{s}-1") for s in ("proxy", "db", "worker"))
        ip = str(db.attachment("c-standin_back").address.ip)
        assert answer(proxy.netns, ip, 3306) == b"c-standin-db-1\n"
        assert answer(worker.netns, ip, 3306) == b"c-standin-db-1\n"
        assert answer(proxy.netns, ip, 3307) is None
        assert answer(db.netns, str(proxy.attachment("c-standin_back").address.ip), 80) == b"c-standin-proxy-1\n"
        assert sorted(control.status(lab)["standin_ports"]) == ["c-standin-db-1", "c-standin-proxy-1"]
        t = live_trace(lab, "c-standin-proxy-1", "c-standin-db-1", proto="tcp", port=3306)
        assert not t.differences, t.differences
        assert (t.outcome.owner, t.outcome.reply) == ("c-standin-db-1", "SA")
        verify = netlab("verify", "c-standin")
        assert "c-standin-db-1: stand-in listeners on 3306/tcp" in verify.stdout, verify.stdout + verify.stderr
    finally:
        down = netlab("down", "c-standin")
    assert down.returncode == 0, down.stderr
    assert not leftovers(lab)
