"""`netlab verify`'s look at the stand-in listeners: which the agent holds, and does each
answer from inside its container's namespace as it should (TCP: the container's name and
a newline; UDP: the datagram echoed)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..agent import control as agent
from ..kernel import netns, probe
from ..kernel.standin_probe import tcp_answer
from ..model.topology import Topology

LOOPBACK = "127.0.0.1"      # the stand-in listens on every address: its own loopback too


def _check(ns: str, container: str, label: str) -> str | None:
    port, proto = label.split("/")
    if proto == "tcp":
        said = tcp_answer(ns, LOOPBACK, int(port))
        if said != f"{container}\n".encode():
            return f"{container}: the stand-in on {label} answers {said!r}, not its name"
    elif not probe.udp_echo(ns, LOOPBACK, int(port)):
        return f"{container}: the stand-in on {label} does not echo"
    return None


def standin_problems(topo: Topology) -> list[str]:
    st = agent.status(topo.name)
    out = list(st.get("standin_errors", {}).values())
    checks = [(s["netns"], name, label) for name, s in sorted(st.get("standin_ports", {}).items())
              for label, state in s["ports"].items() if state == "listening" and netns.exists(s["netns"])]
    if checks:
        with ThreadPoolExecutor(max_workers=min(16, len(checks))) as pool:
            out += [p for p in pool.map(lambda c: _check(*c), checks) if p]
    return out


def standin_notes(topo: Topology) -> list[str]:
    """One line per container: the ports its stand-in answers, and those it leaves."""
    out = []
    for name, s in sorted(agent.status(topo.name).get("standin_ports", {}).items()):
        ports = s["ports"]
        line = f"{name}: stand-in listeners on " + (
            ", ".join(p for p, state in ports.items() if state == "listening") or "no port")
        left = [f"{p} {state}" for p, state in ports.items() if state != "listening"]
        out.append(line + "".join(f"; {x}" for x in left))
    return out
