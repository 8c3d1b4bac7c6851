"""The order dockerd processes one container's bindings in (nat.SortPortMap): it orders the
port-mapping rules, the link rules, and the hand-out of ephemeral host ports."""
from __future__ import annotations

from netlab.model import load_text
from netlab.model.ports import daemon_order


def order(*wanted, exposed=()):
    return [(port, payload) for port, payload in daemon_order(exposed, [(p, hp, hp) for p, hp in wanted])]


def test_a_range_runs_backwards():
    # reference 1.5: -p 8184-8186:80-82 was applied as 82, 81, 80
    assert order(((80, "tcp"), 8184), ((81, "tcp"), 8185), ((82, "tcp"), 8186)) == [
        ((82, "tcp"), [8186]), ((81, "tcp"), [8185]), ((80, "tcp"), [8184])]


def test_higher_ports_first_whatever_the_host_address():
    # reference 1.7: -p 8080:80 -p 127.0.0.1:8081:81 was applied as 81 then 80
    assert [p for p, _ in order(((80, "tcp"), 8080), ((81, "tcp"), 8081))] == [(81, "tcp"), (80, "tcp")]


def test_two_bindings_of_one_tcp_port_come_out_reversed():
    # Less is true both ways for them, so insertion sort swaps every pair it meets [OBS]
    assert order(((80, "tcp"), 9090), ((80, "tcp"), 9091)) == [((80, "tcp"), [9091, 9090])]


def test_exposed_ports_without_binding_are_listed_too():
    # --expose 90 --expose 91/udp -P: 91/udp before 90/tcp [OBS: udp 32768 then tcp 32768]
    assert order(exposed=[(90, "tcp"), (91, "udp")]) == [((91, "udp"), []), ((90, "tcp"), [])]


def test_unstable_sets_take_the_order_docker_shows_most_often():
    # 8184-8186:80-82 with 8080:90 and 127.0.0.1:8081:91: Less is not a strict order here;
    # Docker printed 91, 90, 82, 81, 80 in 7 of 10 runs
    got = order(((80, "tcp"), 8184), ((81, "tcp"), 8185), ((82, "tcp"), 8186),
                ((90, "tcp"), 8080), ((91, "tcp"), 8081))
    assert [p for p, _ in got] == [(91, "tcp"), (90, "tcp"), (82, "tcp"), (81, "tcp"), (80, "tcp")]
    # ... and udp first for 9090/9091 on 80/tcp and 9092/9093 on 80/udp, in 11 of 12 runs
    got = order(((80, "tcp"), 9090), ((80, "tcp"), 9091), ((80, "udp"), 9092), ((80, "udp"), 9093))
    assert got == [((80, "udp"), [9093, 9092]), ((80, "tcp"), [9091, 9090])]


def test_ephemeral_ports_are_handed_out_in_that_order():
    topo = load_text("""
name: eph
containers:
  c1: {ports: ["80", "81", "82/udp"]}
  c3: {expose: [70, 71/udp, 72], ports: ["8000:60"], publish_all: true}
""")
    got = {c.name: [(b.container_port, b.proto, b.host_port) for b in c.ports] for c in topo.containers}
    # what Docker 20.10 gave for the same two `docker run`s
    assert got["c1"] == [(82, "udp", 32768), (81, "tcp", 32768), (80, "tcp", 32769)]
    assert got["c3"] == [(72, "tcp", 32770), (71, "udp", 32769), (70, "tcp", 32771), (60, "tcp", 8000)]
    assert topo.container("c3").exposed == ((72, "tcp"), (71, "udp"), (70, "tcp"), (60, "tcp"))
