"""Stand-in listeners without root: the plan's list of them (served.py), the diff that tells
the agent's copy from the plan's, the agent's status, and the tracer's prediction that a
stand-in port answers and every other port refuses."""
from __future__ import annotations

import errno
from dataclasses import replace

import pytest

from netlab.agent.standin import Standins
from netlab.model import load_text
from netlab.model.topology import Topology
from netlab.plan.diff import Observed, diff
from netlab.plan.items import SERVED_ITEMS, Netns, Standin, item_from_dict
from netlab.plan.planner import build_plan
from netlab.plan.render import render_plan
from netlab.plan.served import standin
from netlab.trace.listeners import listens
from netlab.trace.predict import predict_trace

LAB = """
name: cst
hosts:
  node1: {address: 10.10.101.105}
containers:
  db: {expose: [3306, "53/udp", 3306]}
  web: {ports: ["8080:80"]}
  own: {expose: [9000], command: "python3 -m http.server 9000"}
  client: {}
"""


def standins(topo: Topology, *names: str) -> Topology:
    """The lab with `standin` set on these containers (the field the loader fills)."""
    return replace(topo, containers=tuple(replace(c, standin=c.name in names) for c in topo.containers))


@pytest.fixture(scope="module")
def topo() -> Topology:
    return standins(load_text(LAB), "db", "web", "client")


def test_each_exposed_or_published_port_once_sorted() -> None:
    item = standin("cst-c-db", "db", ((3306, "tcp"), (53, "udp"), (3306, "tcp"), (80, "tcp")))
    assert item is not None
    assert item.ports == ((53, "udp"), (80, "tcp"), (3306, "tcp"))
    assert item.key == ("standin", "db")
    assert item.describe() == "cst-c-db: stand-in listeners of db (53/udp, 80/tcp, 3306/tcp)"
    assert standin("cst-c-client", "client", ()) is None


def test_the_digest_follows_the_set_of_ports() -> None:
    a = standin("ns", "db", ((3306, "tcp"), (53, "udp")))
    b = standin("ns", "db", ((53, "udp"), (3306, "tcp")))
    c = standin("ns", "db", ((3306, "tcp"),))
    assert a is not None and b is not None and c is not None
    assert a.digest == b.digest != c.digest
    assert isinstance(a, SERVED_ITEMS)


def test_the_plan_has_one_stand_in_per_container_that_exposes_a_port(topo: Topology) -> None:
    plan = build_plan(topo)
    got = {i.container: i for i in plan.of(Standin)}
    # client exposes nothing; own has a command and no stand-in flag
    assert sorted(got) == ["db", "web"]
    assert got["db"].ports == ((53, "udp"), (3306, "tcp"))
    assert got["web"].ports == ((80, "tcp"),)      # a published port is the container's port
    assert got["db"].netns == topo.container("db").netns
    assert "stand-in listeners of db (53/udp, 3306/tcp)" in render_plan(plan)
    # the state file's round trip
    assert item_from_dict(got["db"].to_dict()) == got["db"]


def test_no_stand_in_without_the_flag() -> None:
    plan = build_plan(load_text(LAB))
    assert not list(plan.of(Standin))


def test_the_diff_asks_the_agent_for_a_missing_or_older_stand_in(topo: Topology) -> None:
    plan = build_plan(topo)
    item = next(i for i in plan.of(Standin) if i.container == "db")
    served = {i.key: i.digest for i in plan.items if isinstance(i, SERVED_ITEMS)}
    namespaces = {i.name for i in plan.of(Netns)}     # a fresh namespace gets all its items anew
    everything = Observed(netns=namespaces, dns=served)
    assert [c for c in diff(plan, plan, everything) if isinstance(c.item, Standin)] == []
    missing = Observed(netns=namespaces, dns={k: d for k, d in served.items() if k != item.key})
    [change] = [c for c in diff(plan, plan, missing) if isinstance(c.item, Standin)]
    assert (change.action, change.item) == ("create", item)
    older = Observed(netns=namespaces, dns={**served, item.key: "0" * 16})
    [change] = [c for c in diff(plan, plan, older) if isinstance(c.item, Standin)]
    assert change.action == "update"
    # a port taken out of the lab: the old plan's stand-in goes
    fewer = standins(topo, "web")
    changes = diff(build_plan(fewer), plan, Observed(netns=namespaces, dns=served))
    assert [(c.action, c.item.key) for c in changes if isinstance(c.item, Standin)] == [("delete", item.key)]


@pytest.mark.parametrize("address", ["172.17.0.2", "fd00::2"])
def test_a_stand_in_listens_on_its_ports_in_both_families(topo: Topology, address: str) -> None:
    plan = build_plan(topo)
    ns = topo.container("db").netns
    assert listens(plan, ns, "tcp", address, 3306) is True
    assert listens(plan, ns, "udp", address, 53) is True
    assert listens(plan, ns, "udp", address, 3306) is False
    assert listens(plan, ns, "tcp", address, 3307) is False


@pytest.mark.parametrize("proto,port,status,reply", [
    ("tcp", 3306, "delivered", "SA"),
    ("tcp", 3307, "delivered", "RA"),
    ("udp", 53, "delivered", "udp"),
    ("udp", 54, "delivered", "port-unreachable"),
])
def test_the_prediction_answers_at_a_stand_in_port_and_refuses_elsewhere(
        topo: Topology, proto: str, port: int, status: str, reply: str) -> None:
    t = predict_trace(topo, "client", "db", proto, port, by_name=False)
    assert (t.outcome.status, t.outcome.owner, t.outcome.reply) == (status, "db", reply)
    assert t.outcome.reply_status == "delivered"
    told = [n for n in t.notes if "stand-in listener" in n]
    assert told == ([f"{port}/{proto} of db is its stand-in listener (the lab's agent, as the image does not run): "
                     f"it {'writes its name and closes' if proto == 'tcp' else 'echoes the datagram'}"]
                    if reply in ("SA", "udp") else [])


def test_without_stand_ins_the_same_port_is_refused() -> None:
    t = predict_trace(load_text(LAB), "client", "db", "tcp", 3306, by_name=False)
    assert t.outcome.reply == "RA"


def test_the_published_port_reaches_the_stand_in_through_the_dnat(topo: Topology) -> None:
    t = predict_trace(topo, "outside", "10.10.101.105", "tcp", 8080)
    assert (t.outcome.status, t.outcome.owner, t.outcome.reply) == ("delivered", "web", "SA")
    assert t.outcome.reply_status == "delivered"
    assert [n.kind for n in t.nat] == ["DNAT", "de-DNAT"]


def test_the_agent_status_tells_listening_taken_and_failed_ports() -> None:
    item = Standin("cst-c-db", "db", ((53, "udp"), (3306, "tcp"), (5432, "tcp")))
    s = Standins(items={item.key: item})
    s.failed[("db", "tcp", 3306, 4)] = (errno.EADDRINUSE, "Address already in use")
    s.failed[("db", "tcp", 5432, 6)] = (0, "netns cst-c-db does not exist")
    st = s.status()
    assert st["standins"] == [[["standin", "db"], item.digest]]
    ports = st["standin_ports"]["db"]["ports"]
    assert ports["53/udp"] == "listening"
    assert ports["3306/tcp"].startswith("taken (IPv4)")
    assert ports["5432/tcp"].startswith("not listening (IPv6: netns cst-c-db does not exist")
    assert list(st["standin_errors"]) == ["db 5432/tcp"]


LAB_KEY = """
name: csk
hosts:
  node1: {address: 10.10.101.105}
containers:
  db: {expose: [3306, "53/udp"], standin: true}
  web: {ports: ["8080:80"]}
  quiet: {expose: [22], standin: false}
"""


def test_the_lab_file_key_gives_a_container_its_stand_in() -> None:
    plan = build_plan(load_text(LAB_KEY))
    assert [(i.container, i.ports) for i in plan.of(Standin)] == [("db", ((53, "udp"), (3306, "tcp")))]


def test_a_compose_service_gets_a_stand_in_unless_it_runs_its_own_command() -> None:
    from compose_files import WORDPRESS_MYSQL, load
    topo = load(WORDPRESS_MYSQL).topology
    got = {i.container: i.ports for i in build_plan(topo).of(Standin)}
    assert got == {"wp-db-1": ((3306, "tcp"),), "wp-wordpress-1": ((80, "tcp"),)}
    # "can WordPress reach the database on 3306": across the internal backend, answered
    t = predict_trace(topo, "wp-wordpress-1", "wp-db-1", "tcp", 3306)
    assert (t.outcome.status, t.outcome.owner, t.outcome.reply) == ("delivered", "wp-db-1", "SA")
    own = WORDPRESS_MYSQL.replace("  wordpress:\n", "  wordpress:\n    x-netlab: {command: \"sleep infinity\"}\n")
    got = {i.container: i.ports for i in build_plan(load(own).topology).of(Standin)}
    assert got == {"wp-db-1": ((3306, "tcp"),)}


def test_a_port_the_containers_command_names_is_left_to_it() -> None:
    text = LAB_KEY.replace("  quiet: {expose: [22], standin: false}",
                           '  own: {expose: [9000, 9001], standin: true, command: "python3 -m http.server 9000"}\n'
                           '  opaque: {expose: [9000], standin: true, command: "./serve"}')
    plan = build_plan(load_text(text))
    got = {i.container: i.ports for i in plan.of(Standin)}
    assert got["own"] == ((9001, "tcp"),)
    assert got["opaque"] == ((9000, "tcp"),)        # a command that names no port: the agent reports a clash
    ns = load_text(text).container("own").netns
    assert listens(plan, ns, "tcp", "172.17.0.3", 9000) is True     # the command's
    assert listens(plan, ns, "tcp", "fd00::3", 9000) is False       # http.server binds 0.0.0.0 alone
    assert listens(plan, ns, "tcp", "fd00::3", 9001) is True        # the stand-in's, both families
