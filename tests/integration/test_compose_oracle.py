"""The Compose recordings stay honest (issue 15, Conformance): each fixture of
tests/fixtures/compose/ is run once more by the real `docker compose` 2.40 on Docker 28.5
(compose_oracle.py, a fresh engine per file) and what it built must equal the recorded runs
(tests/fixtures/compose/recorded/) as tests/compose_facts.py compares them: every fact with
the engine's choices named by their holders exactly (names, primary network and default
route, DNS answers, /etc/hosts, /etc/resolv.conf, host rules, the ping and TCP matrices and
the published ports' answers), and what Compose leaves to chance (which network takes which
free subnet, eth order, creation order and so addresses within a depends_on level) as
permutations. The netlab side of the comparison is built against the same records."""
from __future__ import annotations

import os

import pytest
from compose_facts import FIXTURES, differences, runs
from compose_oracle import FILES, run_file
from oracle import unavailable

needs_oracle = pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")


@pytest.mark.oracle
@pytest.mark.root
@needs_oracle
@pytest.mark.parametrize("stem", sorted(FILES))
def test_compose_matches_recording(stem: str, tmp_path):
    recorded = runs(stem)
    assert len(recorded) >= 3, f"{stem}: the recording needs at least 3 runs, has {len(recorded)}"
    netns = f"e-cmp{stem[:2]}"
    try:
        got = run_file(FIXTURES / f"{stem}.yml", netns, profiles=FILES[stem], workdir=tmp_path)
    finally:
        left = [n for n in os.listdir("/run/netns") if n == netns or n.startswith(f"{netns}-")]
        assert not left, f"the engine oracle left namespaces {left} behind"
    assert got["left_after_down"] == 0, f"{stem}: docker compose down left {got['left_after_down']} objects"
    wrong = differences(recorded[0], got)
    assert not wrong, f"{stem}: {len(wrong)} facts differ from the recording\n" + "\n".join(wrong)
    assert any(v for row in got["reach"].values() for v in row.values()), "the matrix must have cells that pass"
