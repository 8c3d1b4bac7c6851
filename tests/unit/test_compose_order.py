"""The deterministic creation order netlab picks where Compose's varies
(tests/fixtures/compose/README.md, "The deterministic order netlab should pick"): level by
level of depends_on, within a level by service key, then replica number; each network hands
out its addresses in that order."""
from __future__ import annotations

from pathlib import Path

from compose_files import load

FIXTURES = Path(__file__).parents[1] / "fixtures" / "compose"

# file order is neither key order nor level order
SHUFFLED = """\
name: ord
services:
  zeta:
    image: x
    scale: 2
  web:
    image: x
    depends_on: [zeta, alpha]
  alpha:
    image: x
    deploy: {replicas: 2}
  beta:
    image: x
    depends_on: [alpha]
"""


def addresses(topo, network: str) -> dict[str, str]:
    return {c.name: str(c.attachment(network).address.ip) for c in topo.containers}


def test_within_a_level_by_service_key_then_replica_number():
    topo = load(SHUFFLED).topology
    assert [c.name for c in topo.containers] == [
        "ord-alpha-1", "ord-alpha-2", "ord-zeta-1", "ord-zeta-2",     # level 0
        "ord-beta-1", "ord-web-1"]                                    # level 1
    assert addresses(topo, "ord_default") == {
        "ord-alpha-1": "172.18.0.2", "ord-alpha-2": "172.18.0.3", "ord-zeta-1": "172.18.0.4",
        "ord-zeta-2": "172.18.0.5", "ord-beta-1": "172.18.0.6", "ord-web-1": "172.18.0.7"}


def test_the_replicas_fixture_takes_the_documented_addresses():
    # README: "(`04`: redis .2, web-1 .3, web-2 .4, web-3 .5, worker-1 .6, worker-2 .7.)"
    topo = load((FIXTURES / "04-replicas.yml").read_text(), project="04-replicas").topology
    got = {name.removeprefix("04-replicas-"): ip.rsplit(".", 1)[1]
           for name, ip in addresses(topo, "04-replicas_default").items()}
    assert got == {"redis-1": "2", "web-1": "3", "web-2": "4", "web-3": "5", "worker-1": "6", "worker-2": "7"}
