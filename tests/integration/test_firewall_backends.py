"""The nft backend (iptables-restore) and the legacy backend (python-iptables) leave the
same iptables-save text, equal to the planned rules, and a rerun finds nothing to change."""
from __future__ import annotations

import textwrap

import pytest
from conftest import leftovers, needs_root

pytestmark = [needs_root, pytest.mark.root]

RICH = """
name: {lab}
hosts:
  node1:
    daemon: {{icc: false, userland-proxy: false}}
networks:
  pub: {{driver_opts: {{com.docker.network.bridge.enable_ip_masquerade: "false"}}}}
  sealed: {{internal: true}}
containers:
  web: {{ports: ["8080:80", "127.0.0.1:8081:81", "5353:53/udp", "9000-9001:9000-9001"], expose: [90]}}
  cli: {{links: ["web:www"]}}
  p:   {{networks: [pub, sealed], publish_all: true, expose: ["7000/udp"]}}
"""


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_backend_writes_exactly_the_plan(tmp_path, backend):
    from netlab.app.lifecycle import down, up
    from netlab.kernel.firewall import save
    from netlab.plan.diff import canonical_iptables
    from netlab.plan.items import Firewall

    lab = f"fw{backend[:3]}"
    path = tmp_path / "lab.yaml"
    path.write_text(textwrap.dedent(RICH.format(lab=lab)))
    try:
        result = up(str(path), say=lambda m: None, firewall=backend)
        planned = next(c.item for c in result.changes if isinstance(c.item, Firewall))
        seen = save(planned.netns, backend)
        assert canonical_iptables(seen) == canonical_iptables(planned.text)
        assert "-A DOCKER -s 172.17.0.3/32 -d 172.17.0.2/32 -i docker0 -o docker0 -p tcp -m tcp --dport 9001" \
               " -j ACCEPT" in seen
        again = up(str(path), say=lambda m: None, firewall=backend)
        assert again.changes == []
    finally:
        down(lab, say=lambda m: None)
    assert not leftovers(lab)
