"""The recorded Compose runs (tests/fixtures/compose/recorded/) and the comparison that netlab's
Compose side will be held to (tests/compose_facts.py): every fixture has at least three runs,
the runs agree with each other once Compose's chance choices are compared as permutations,
and the comparison still sees a wrong answer, a wrong address or a missing rule."""
from __future__ import annotations

import json

import pytest
from compose_facts import FIXTURES, comparable, differences, levels, runs, stems

STEMS = stems()


def test_every_fixture_is_recorded():
    files = sorted(p.stem for p in FIXTURES.glob("*.yml"))
    assert len(files) >= 8
    assert STEMS == files


@pytest.mark.parametrize("stem", STEMS)
def test_runs_agree_as_permutations(stem: str):
    records = runs(stem)
    assert len(records) >= 3
    for i, other in enumerate(records[1:], start=2):
        wrong = differences(records[0], other)
        assert not wrong, f"{stem} run {i}:\n" + "\n".join(wrong)


def _swapped(facts: dict, a: str, b: str) -> dict:
    """The record with two address prefixes exchanged everywhere: another draw of Compose's
    which-network-gets-which-subnet."""
    text = json.dumps(facts).replace(a, "\0").replace(b, a).replace("\0", b)
    return json.loads(text)


def test_a_subnet_permutation_is_not_a_difference():
    first = runs("01-nginx-flask-mysql")[0]
    assert not differences(first, _swapped(first, "172.18.", "172.19."))


def test_a_wrong_dns_answer_is_a_difference():
    first = runs("06-names")[0]
    wrong = json.loads(json.dumps(first))
    answers = wrong["dns"]["backend"]["answers"]
    answers["auth"] = answers["api"]
    assert any("dns.backend.answers.auth" in d for d in differences(first, wrong))


def test_a_given_address_is_held_exactly():
    first = runs("11-ipam-named")[0]
    moved = json.loads(json.dumps(first).replace("10.42.0.10", "10.42.0.11"))
    assert differences(first, moved)


def test_an_address_outside_the_drawn_set_is_a_difference():
    first = runs("04-replicas")[0]
    moved = json.loads(json.dumps(first))
    ep = moved["containers"]["04-replicas-redis-1"]["endpoints"]["default"]
    ep["ipv4"] = "172.18.0.99"
    assert any("host_parts" in d for d in differences(first, moved))


def test_a_missing_rule_and_a_lost_cell_are_differences():
    first = runs("02-wordpress-mysql")[0]
    fewer = json.loads(json.dumps(first))
    fewer["iptables"] = [r for r in fewer["iptables"] if "MASQUERADE" not in r]
    assert any("iptables.nat" in d for d in differences(first, fewer))
    cut = json.loads(json.dumps(first))
    cut["reach"]["blog-wordpress-1"]["outside"] = False
    assert any("reach.blog-wordpress-1.outside" in d for d in differences(first, cut))
    refused = json.loads(json.dumps(first))
    refused["tcp"]["blog-wordpress-1"]["blog-db-1@backend:3306"] = None
    assert any("tcp.blog-wordpress-1.blog-db-1@backend:3306" in d for d in differences(first, refused))


def test_levels_follow_depends_on():
    first = runs("08-depends-chain")[0]
    short = [[name.removeprefix("08-depends-chain-").removesuffix("-1") for name in level] for level in levels(first)]
    assert short == [["postgres"], ["cache", "queue"], ["api"], ["frontend", "worker-mail", "worker-report"]]


def test_creation_order_respects_the_levels():
    for stem in STEMS:
        for record in runs(stem):
            rank = {n: c["created_rank"] for n, c in record["containers"].items()}
            ordered = [max(rank[n] for n in level) < min(rank[n] for n in later)
                       for level, later in zip(levels(record), levels(record)[1:])]
            assert all(ordered), f"{stem}: {record['creation_order']}"


def test_comparable_keeps_what_the_file_gives():
    first = runs("11-ipam-named")[0]
    exact = comparable(first)["exact"]
    assert exact["networks"]["backbone"]["ipam"][0]["subnet"] == "10.42.0.0/16"
    assert exact["containers"]["11-ipam-named-router-1"]["endpoints"]["backbone"]["ipv4"] == "10.42.0.10"
