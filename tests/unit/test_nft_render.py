"""`nft list table` text to tables and back (plan/firewall/nft/render.py)."""
from __future__ import annotations

import random

import pytest
from moby_goldens import GOLDENS

from netlab.plan.firewall.nft.model import BaseHook, NftChain, NftMap, NftRule, NftTable
from netlab.plan.firewall.nft.render import NftTextError, parse_rule, parse_tables, render_table, render_tables
from netlab.plan.firewall.nft.table import listing_key

NFT_GOLDENS = sorted((GOLDENS / "docker-29.7.2" / "nftables").glob("*.golden"))

# recorded from nft 1.0.6 (kernel 6.18): elements added in the order docker0, br-a, br-zz, a,
# eth10, eth9, br-0123456789ab, br-ffff56789abc, br-1123456789ab, zz
LISTED = '''table ip t {
\tmap m {
\t\ttype ifname : verdict
\t\telements = { "a" : jump c,
\t\t\t     "zz" : jump c,
\t\t\t     "eth9" : jump c,
\t\t\t     "br-a" : jump c,
\t\t\t     "eth10" : jump c,
\t\t\t     "br-zz" : jump c,
\t\t\t     "docker0" : jump c,
\t\t\t     "br-0123456789ab" : jump c,
\t\t\t     "br-1123456789ab" : jump c,
\t\t\t     "br-ffff56789abc" : jump c }
\t}

\tchain c {
\t}
}
'''


def test_there_are_goldens():
    assert len(NFT_GOLDENS) == 282


@pytest.mark.parametrize("path", NFT_GOLDENS, ids=lambda p: p.stem)
def test_every_golden_reads_back_unchanged(path):
    text = path.read_text()
    tables = parse_tables(text)
    assert [t.label for t in tables] == [f"{path.stem.rpartition('__')[2]} docker-bridges"]
    assert render_tables(tables) == text


def test_what_a_golden_holds():
    text = (GOLDENS / "docker-29.7.2/nftables/hairpin=false,internal=false,icc=true,masq=true,snat=false,"
            "gwm=nat,bindlh=false__ip.golden").read_text()
    t = parse_tables(text)[0]
    assert t.map("filter-forward-in-jumps") == NftMap(
        name="filter-forward-in-jumps", type="ifname : verdict",
        elements=(('"br-dummy"', "jump filter-forward-in__br-dummy"),))
    out = t.chain("nat-OUTPUT")
    assert out is not None and out.base == BaseHook(type="nat", hook="output", priority="dstnat", policy="accept")
    fwd = t.chain("filter-forward-in__br-dummy")
    assert fwd is not None and fwd.base is None
    assert fwd.rules[-1] == NftRule("counter packets 0 bytes 0 drop", "UNPUBLISHED PORT DROP")
    assert [c.name for c in t.chains][-4:] == ["filter-forward-in__br-dummy", "filter-forward-out__br-dummy",
                                               "nat-postrouting-in__br-dummy", "nat-postrouting-out__br-dummy"]


def test_a_wrapped_element_list():
    t = parse_tables(LISTED)[0]
    m = t.map("m")
    assert m is not None and len(m.elements) == 10 and m.elements[2] == ('"eth9"', "jump c")
    assert render_table(t) == LISTED


def test_elements_are_listed_in_nfts_order():
    keys = [k for k, _ in parse_tables(LISTED)[0].maps[0].elements]
    shuffled = keys[:]
    random.Random(7).shuffle(shuffled)
    assert shuffled != keys
    assert sorted(shuffled, key=listing_key) == keys


def test_handles_and_comments():
    text = ('table ip x { # handle 4\n\tchain c { # handle 1\n'
            '\t\ttype filter hook input priority filter + 10; policy drop;\n'
            '\t\tiifname "lo" counter packets 3 bytes 180 accept comment "LOOP BACK" # handle 2\n'
            '\t\tip daddr 10.0.0.1 drop # handle 3\n\t}\n}\n')
    c = parse_tables(text)[0].chain("c")
    assert c == NftChain(name="c", base=BaseHook(type="filter", hook="input", priority="filter + 10", policy="drop"),
                         rules=(NftRule('iifname "lo" counter packets 3 bytes 180 accept', "LOOP BACK"),
                                NftRule("ip daddr 10.0.0.1 drop")))


def test_parse_rule_splits_off_the_trailing_comment():
    assert parse_rule('meta comment "x"') == NftRule("meta", "x")
    assert parse_rule("counter accept") == NftRule("counter accept")


def test_a_table_renders_maps_first_with_blank_lines_between_blocks():
    t = NftTable(family="ip", name="t", maps=(NftMap(name="m", type="ifname : verdict"),),
                 chains=(NftChain(name="a"), NftChain(name="b", rules=(NftRule("accept"),))))
    assert render_table(t) == ("table ip t {\n\tmap m {\n\t\ttype ifname : verdict\n\t}\n\n"
                               "\tchain a {\n\t}\n\n\tchain b {\n\t\taccept\n\t}\n}\n")


def test_other_objects_are_skipped():
    text = ('table inet f {\n\tflags dormant\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1,\n'
            '\t\t\t     10.0.0.2 }\n\t}\n\n\tchain c {\n\t\tip saddr @s drop\n\t}\n}\n')
    t = parse_tables(text)[0]
    assert (t.label, t.maps, [c.name for c in t.chains]) == ("inet f", (), ["c"])


@pytest.mark.parametrize("text, where", [
    ("chain c {\n}\n", "line 1"),
    ("table ip t {\n\tchain c {\n", "line 2"),
    ("table ip t {\n\tmap m {\n\t\telements = { \"a\" : accept\n", "line 3"),
    ("table ip t {\n\tmap m {\n\t\tbogus\n\t}\n}\n", "line 3"),
    ("table ip t {\n\tmap m {\n\t}\n}\n", "line 2"),
])
def test_bad_text_says_where(text, where):
    with pytest.raises(NftTextError, match=where):
        parse_tables(text)
