"""Golden files: tests/golden/rules/<case>.yaml next to <case>.rules, the text `netlab rules`
prints for it. NETLAB_REGEN=1 rewrites the .rules files from the current code; review the
diff, and check changed cases against Docker (tests/integration/test_conformance_rules.py)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from netlab.model import load_file
from netlab.plan.firewall import lab_rules, parse_save, render
from netlab.plan.firewall.nft import parse_tables, render_tables

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "rules"
CASES = sorted(GOLDEN.glob("*.yaml"))


@pytest.mark.parametrize("lab", CASES, ids=lambda p: p.stem)
def test_rules_golden(lab: Path):
    text = lab_rules(load_file(str(lab)))
    expected = lab.with_suffix(".rules")
    if os.environ.get("NETLAB_REGEN") == "1":
        expected.write_text(text)
    assert expected.exists(), f"{expected.name} is missing: run with NETLAB_REGEN=1 and review it"
    assert text == expected.read_text()


@pytest.mark.parametrize("lab", CASES, ids=lambda p: p.stem)
def test_rules_golden_read_back(lab: Path):
    """What we print, an iptables-save reader takes back unchanged, host by host (the
    `# ip6tables` section too, and the `# nftables` section, an nft reader)."""
    for host in re.split(r"^# host \S+\n", lab.with_suffix(".rules").read_text(), flags=re.M):
        host, _, nft = host.partition("# nftables\n")
        for family in host.split("# ip6tables\n"):
            assert render(parse_save(family)) == family
        assert render_tables(parse_tables(nft)) == nft


def test_there_are_enough_cases():
    assert len(CASES) >= 14
