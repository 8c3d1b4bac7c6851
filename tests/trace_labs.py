"""The lab the tracer's engine tests share (tests/unit/test_trace_predict.py predicts it,
tests/integration/test_trace.py traces it live): one host of a given engine without the
userland proxy, docker0 with a published web server, a user network, and on engines from 28
a routed and a nat-unprotected network; and `outside.routes` that make containers'
addresses reachable from the outside, as a LAN router would."""
from __future__ import annotations

ENGINES = ("20.10", "26.1", "28.5", "29.7", "29.7-nftables")
DOCKER_28 = ("28.5", "29.7", "29.7-nftables")   # the engines with gateway modes and the raw table's drops

ENGINE_LAB = """
name: {name}
engine: "{engine}"
outside:
  addresses: [203.0.113.10]
  routes: [{routes}]
hosts:
  node1: {{address: 10.10.101.105, daemon: {{userland-proxy: false}}}}
networks:
  mynet: {{subnet: 192.168.0.0/24}}
{later}containers:
  web: {{ports: ["8080:80"], command: "python3 -m http.server 80"}}
  a1: {{networks: [mynet]}}
{later_containers}"""
# gateway modes exist from 27.0: only the later engines' labs have these networks
LATER = """  routed: {subnet: 192.168.1.0/24, driver_opts: {com.docker.network.bridge.gateway_mode_ipv4: routed}}
  open: {subnet: 192.168.2.0/24, driver_opts: {com.docker.network.bridge.gateway_mode_ipv4: nat-unprotected}}
"""
# routed: the host port is dropped, the container port stays published (and reachable)
LATER_CONTAINERS = """  r1: {networks: [routed], ports: ["8081:80"], command: "python3 -m http.server 80"}
  u1: {networks: [open], command: "python3 -m http.server 80"}
"""


def engine_yaml(engine: str, name: str) -> str:
    later = engine in DOCKER_28
    networks = ("bridge", "mynet") + (("routed", "open") if later else ())
    return ENGINE_LAB.format(name=name, engine=engine, later=LATER if later else "",
                             later_containers=LATER_CONTAINERS if later else "",
                             routes=", ".join(f"{{to: {n}, via: node1}}" for n in networks))
