"""The kernel's own drop reasons in live traces (tracefs' skb:kfree_skb, issue 16): for every
drop kind this machine produces, the reason observed equals the reason predicted; and a
tracer killed with -9 mid-trace leaves no tracefs instance once the next trace (or
`netlab doctor`) has run, and no trace table, socket or process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from conftest import needs_root
from ipv6_labs import dual_stack_lab
from test_trace import agrees, listening, trace_tables, traced
from test_trace_ipv6 import SEALED

from netlab.kernel import tracefs

pytestmark = [needs_root, pytest.mark.root,
              pytest.mark.skipif(tracefs.available() is not None, reason="no tracefs here")]

LAB = """
name: {lab}
outside: {{addresses: [203.0.113.10]}}
networks:
  mynet: {{subnet: 192.168.0.0/16}}
  quiet: {{driver_opts: {{com.docker.network.bridge.enable_icc: "false"}}}}
containers:
  web: {{ports: ["8080:80"], command: "python3 -m http.server 80"}}
  a1: {{networks: [mynet]}}
  a2: {{networks: [mynet]}}
  q1: {{networks: [quiet]}}
  q2: {{networks: [quiet]}}
"""


def instances() -> list[str]:
    root = tracefs.open_root()
    try:
        return tracefs.listed(root)
    finally:
        os.close(root)


def reasons(t) -> tuple[str | None, str | None]:
    assert t.predicted is not None
    return t.predicted.outcome.kernel_reason, t.outcome.kernel_reason


def test_every_drop_names_the_kernels_reason_observed_and_predicted(make_lab):
    lab = "hk1"
    make_lab(LAB.format(lab=lab))

    # a netfilter rule: icc=false's FORWARD DROP, and Docker's isolation between networks
    for src, dst in (("q1", "q2"), ("a1", "web")):
        t = traced(lab, src, dst, by_name=False)     # a1 cannot resolve web: the lab's view
        agrees(t)
        assert t.outcome.status == "dropped" and t.outcome.rule is not None
        assert reasons(t) == ("NETFILTER_DROP", "NETFILTER_DROP"), (src, dst)
        assert any("nft_do_chain (NETFILTER_DROP)" in n for n in t.notes)

    # a port nobody listens on: the kernel frees the request in UDP's and TCP's receive
    for proto in ("udp", "tcp"):
        t = traced(lab, "a1", "a2", proto=proto, port=9)
        agrees(t)
        assert t.outcome.reply in ("port-unreachable", "RA")
        assert reasons(t) == ("NO_SOCKET", "NO_SOCKET"), proto

    # a namespace that does not forward (the stand-in router, ip_forward=0): freed by the
    # routing input as an address error, not as "no route"
    t = traced(lab, "a1", "198.51.100.77")
    agrees(t)
    assert (t.outcome.reason, t.outcome.netns) == ("forwarding-disabled", f"{lab}-outside")
    assert reasons(t) == ("IP_INADDRERRORS", "IP_INADDRERRORS")
    # node1 routed it: the kernel's lookup names the table, the plan's route the prefix
    assert any(n.startswith("node1 routed the request (10.10.101.105 > 198.51.100.77) by table 254 (main): 0.0.0.0/0 via ")
               for n in t.notes), t.notes

    # no neighbour: the kernel frees the packet only when ARP gives up, seconds after the
    # trace has ended, so only the prediction names it (and nothing is compared)
    t = traced(lab, "a1", "10.10.101.77")
    agrees(t)
    assert t.outcome.reason == "no-neighbour" and reasons(t) == ("NEIGH_FAILED", None)

    # no route in the sender: the socket refuses, no packet is made, nothing is freed
    t = traced(lab, "outside", "192.168.0.2")
    agrees(t)
    assert t.outcome.status == "no-path" and reasons(t) == (None, None)


def test_ipv6_drops_name_the_same_reasons(make_lab):
    lab = "hk6"
    make_lab(dual_stack_lab(lab, "  a: {networks: [dual]}\n  b: {networks: [dual]}\n  s1: {networks: [sealed]}\n",
                            networks=SEALED))
    t = traced(lab, "a", "s1", family=6, by_name=False)
    agrees(t)
    assert t.outcome.status == "dropped" and reasons(t) == ("NETFILTER_DROP", "NETFILTER_DROP")
    t = traced(lab, "a", "b:9", proto="udp", family=6)
    agrees(t)
    assert t.outcome.reply == "port-unreachable" and reasons(t) == ("NO_SOCKET", "NO_SOCKET")
    t = traced(lab, "a", "b", family=6)
    agrees(t)
    assert t.outcome.reply == "echo-reply" and reasons(t) == (None, None)


def test_a_delivered_probe_has_no_kernel_reason(make_lab):
    lab = "hk2"
    make_lab(LAB.format(lab=lab))
    listening(lab, "outside", "10.10.101.105", 8080)
    t = traced(lab, "outside", "node1:8080")
    agrees(t)
    assert t.outcome.reply == "SA" and reasons(t) == (None, None)
    # the echo reply is freed in ping_rcv as NO_SOCKET once the probe's raw socket has its
    # copy: that is the reply's buffer, not a drop of the request
    t = traced(lab, "a1", "a2")
    agrees(t)
    assert t.outcome.reply == "echo-reply" and reasons(t) == (None, None)


KILLED = """
import sys
from netlab.trace import session
real = session.Session.send
def stuck(self):
    print("ready", flush=True)
    sys.stdin.readline()            # killed here, every source of evidence open
    real(self)
session.Session.send = stuck
from netlab.trace import trace
trace(sys.argv[1], "a1", "a2")
"""


def test_a_tracer_killed_mid_trace_leaves_nothing_after_the_next_trace_or_doctor(make_lab):
    lab = "hk3"
    make_lab(LAB.format(lab=lab))
    for reaper in ("trace", "doctor"):
        child = subprocess.Popen([sys.executable, "-c", KILLED, lab], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
        assert child.stdout.readline().strip() == "ready"
        left = [n for n in instances() if tracefs.owner_pid(n) == child.pid]
        assert left, "the tracer had an instance open"
        assert trace_tables(lab), "the tracer had its tables installed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stdin.close()
        assert not trace_tables(lab), "an owner table goes with its socket"
        # the dead tracer's instance stays until a trace or doctor reaps it; in a parallel
        # run another worker's trace may be that one, so only what follows is held
        if reaper == "trace":
            traced(lab, "a1", "a2")
        else:
            from netlab.app.doctor import reap_tracefs
            reaped = reap_tracefs()
            assert all(tracefs.owner_pid(n) != os.getpid() for n in reaped)
        assert not [n for n in instances() if tracefs.owner_pid(n) == child.pid], reaper
        assert not os.path.exists(f"/proc/{child.pid}")
