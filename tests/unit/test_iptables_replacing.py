"""The restore input that turns one rule set into another (pure text; no root)."""
from __future__ import annotations

from netlab.kernel.firewall import replacing

NOW = """*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -j DOCKER
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
COMMIT
"""

NEW = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
COMMIT
"""


def test_nft_declares_and_deletes_the_chains_and_tables_the_new_set_drops():
    out = replacing(NOW, NEW, "nft")
    filter_block, nat_block = out.split("COMMIT\n")[:2]
    assert filter_block.startswith("*filter\n") and ":DOCKER-USER - [0:0]\n-A FORWARD -j DOCKER-USER\n" in filter_block
    assert filter_block.endswith(":DOCKER - [0:0]\n-X DOCKER\n")
    assert nat_block == ("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                         ":POSTROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n-X DOCKER\n")


def test_legacy_restore_deletes_user_chains_itself():
    out = replacing(NOW, NEW, "legacy")
    assert "-X" not in out and out.count("COMMIT") == 2 and "*nat\n:PREROUTING ACCEPT" in out


def test_nothing_to_take_out():
    assert replacing("", NEW, "nft") == NEW
    assert replacing(NEW, NEW, "nft") == NEW
    assert replacing("", "", "nft") == ""


def test_tables_outside_the_clear_set_are_left_alone():
    # an adopted namespace (a VM's own) keeps the tables the new rule set does not name
    out = replacing(NOW, NEW, "nft", clear=set())
    assert "*nat" not in out and "-X DOCKER\n" in out
    assert "*nat" in replacing(NOW, "", "nft", clear={"nat"}) and "*filter" not in replacing(NOW, "", "nft", clear={"nat"})
