"""`docker inspect`'s names of an endpoint, per engine: up to 24.0 the short ID heads
Aliases; from 25.0 Aliases keeps only the aliases asked for and DNSNames lists every name the
embedded DNS answers (name, aliases, short ID, hostname), each once, as Docker 28.5 showed
for the Compose records (tests/fixtures/compose/recorded). Host and none show their empty
endpoint."""
from __future__ import annotations

import pytest

from netlab.model import load_text
from netlab.model.inspect import container

LAB = """\
name: insp
engine: {engine}
networks:
  app: {{}}
containers:
  web:
    hostname: www
    networks:
      app: {{aliases: [front, web]}}
  old: {{}}
  solo: {{network_mode: host}}
  off: {{network_mode: none}}
"""


def endpoints(engine: str, name: str) -> dict:
    topo = load_text(LAB.format(engine=engine))
    return container(topo, topo.container(name))["NetworkSettings"]["Networks"]


def test_from_25_0_dns_names_hold_what_the_embedded_dns_answers():
    topo = load_text(LAB.format(engine="28.5"))
    short = topo.container("web").short_id
    ep = endpoints("28.5", "web")["app"]
    assert ep["Aliases"] == ["front", "web"]
    assert ep["DNSNames"] == ["web", "front", short, "www"]       # "web" once, though an alias too


def test_up_to_24_the_short_id_heads_the_aliases():
    topo = load_text(LAB.format(engine="20.10"))
    ep = endpoints("20.10", "web")["app"]
    assert ep["Aliases"] == [topo.container("web").short_id, "front", "web"]
    assert "DNSNames" not in ep


@pytest.mark.parametrize("engine", ["20.10", "28.5"])
def test_the_default_bridge_has_no_names(engine):
    ep = endpoints(engine, "old")["bridge"]
    assert ep["Aliases"] is None and ep.get("DNSNames") is None and ep["IPAddress"]


@pytest.mark.parametrize("mode", ["solo", "off"])
def test_host_and_none_show_their_empty_endpoint(mode):
    nets = endpoints("28.5", mode)
    network = "host" if mode == "solo" else "none"
    assert list(nets) == [network]
    assert nets[network]["IPAddress"] == "" and nets[network]["MacAddress"] == ""
