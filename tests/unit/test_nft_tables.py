"""The pure side of an engine's nftables tables: what a reader compares (plan/nft_text), the
one-transaction `nft -f` input that replaces them (kernel/nft_tables), the nf_tables
fingerprint's treatment of sets; and what `up` requires before it makes anything."""
from __future__ import annotations

import re

import pytest
from golden_programs import NFT_TEXT

from netlab.errors import KernelError
from netlab.kernel import nft_dump, requirements
from netlab.kernel.firewall import backend
from netlab.kernel.netlink import attr, nest, strz
from netlab.kernel.nft_tables import replace_script
from netlab.plan.nft_text import canonical_nft, numeric_priorities, table_names

# a map of two elements as nft 1.0.6 lists it: the element list wrapped, in the hash set's
# order (which need not be the order they were added in)
LISTED_MAP = ("\tmap filter-forward-in-jumps {\n"
              "\t\ttype ifname : verdict\n"
              '\t\telements = { "docker0" : jump filter-forward-in__docker0,\n'
              '\t\t\t     "br-dummy" : jump filter-forward-in__br-dummy }\n'
              "\t}\n")


def test_priorities_become_numbers():
    assert numeric_priorities("type nat hook output priority dstnat; policy accept;") == \
        "type nat hook output priority -100; policy accept;"
    assert numeric_priorities("priority filter + 10;") == "priority 10;"
    assert numeric_priorities("priority srcnat - 5;") == "priority 95;"
    assert numeric_priorities("priority raw;") == "priority -300;"


def test_a_listing_of_the_same_tables_reads_as_the_plan():
    listed = numeric_priorities(NFT_TEXT)
    listed = re.sub(r"counter packets 0 bytes 0", "counter packets 12 bytes 3400", listed)
    listed = re.sub(r"^(table .*|\tchain .*|\tmap .*) \{$", r"\1 { # handle 7", listed, flags=re.M)
    assert listed != NFT_TEXT
    assert canonical_nft(listed) == canonical_nft(NFT_TEXT)


def test_chain_order_and_element_order_do_not_count_but_rule_order_does():
    two = NFT_TEXT.replace('elements = { "br-dummy" : jump filter-forward-in__br-dummy }',
                           'elements = { "br-dummy" : jump filter-forward-in__br-dummy, '
                           '"docker0" : jump filter-forward-in__docker0 }')
    wrapped = two.replace(
        "\tmap filter-forward-in-jumps {\n\t\ttype ifname : verdict\n"
        '\t\telements = { "br-dummy" : jump filter-forward-in__br-dummy, '
        '"docker0" : jump filter-forward-in__docker0 }\n\t}\n', LISTED_MAP, 1)
    assert wrapped != two and canonical_nft(wrapped) == canonical_nft(two)
    assert canonical_nft(two) != canonical_nft(NFT_TEXT)
    # the ip6 table first: a listing in another table order
    ip, ip6 = NFT_TEXT.split("table ip6 ")
    assert canonical_nft(f"table ip6 {ip6}{ip}") == canonical_nft(NFT_TEXT)
    chain = "\tchain filter-forward-out__br-dummy {\n"
    rules = ("\t\tct state established,related counter packets 0 bytes 0 accept\n"
             "\t\tcounter packets 0 bytes 0 accept comment \"OUTGOING\"\n")
    assert chain + rules in NFT_TEXT
    swapped = NFT_TEXT.replace(chain + rules, chain + "".join(reversed(rules.splitlines(True))), 1)
    assert canonical_nft(swapped) != canonical_nft(NFT_TEXT)
    assert canonical_nft(NFT_TEXT.replace(rules, "", 1)) != canonical_nft(NFT_TEXT)


def test_the_replace_script_swaps_exactly_the_tables_in_one_file():
    script = replace_script(NFT_TEXT, ["ip6 docker-bridges", "inet other"])
    head = script.splitlines()[:6]
    assert head == ["add table ip docker-bridges", "delete table ip docker-bridges",
                    "add table ip6 docker-bridges", "delete table ip6 docker-bridges",
                    "add table inet other", "delete table inet other"]
    assert script.endswith("}\n") and "dstnat" not in script and "srcnat" not in script
    assert table_names(script) == ["ip docker-bridges", "ip6 docker-bridges"]
    # nothing of the tracer's table, whatever the namespace holds
    assert nft_dump.TRACER_TABLES.decode() not in script
    assert replace_script("", ["ip docker-bridges"]) == "add table ip docker-bridges\ndelete table ip docker-bridges\n"


def test_the_fingerprint_skips_the_tracers_tables():
    from netlab.trace.evidence import TABLE_PREFIX
    assert nft_dump.TRACER_TABLES == TABLE_PREFIX.encode()


def _elements(*names: str) -> bytes:
    elems = b"".join(nest(1, nest(1, attr(1, strz(n)))) for n in names)
    return attr(1, strz("docker-bridges")) + attr(2, strz("filter-forward-in-jumps")) + nest(3, elems)


def test_a_sets_elements_count_but_not_their_dump_order():
    assert nft_dump._elements(_elements("docker0", "br-a")) == nft_dump._elements(_elements("br-a", "docker0"))
    assert nft_dump._elements(_elements("docker0", "br-a")) != nft_dump._elements(_elements("docker0"))


def test_what_a_lab_requires_follows_its_rule_sets():
    def names(flavour: str, families: set[str], native: bool) -> list[str]:
        return [r.name for r in requirements.needed(backend(flavour).requires, families, native)]

    assert names("nft", {"ipv4"}, False) == ["iproute2", "iptables-nft"]
    assert names("nft", {"ipv4", "ipv6"}, True) == ["iproute2", "iptables-nft", "ip6tables-nft", "nftables"]
    assert names("legacy", {"ipv6"}, False) == ["iproute2", "iptables-legacy", "ip6tables-legacy"]
    assert requirements.REQUIREMENTS["nftables"].package == "nftables"
    assert requirements.REQUIREMENTS["ip6tables-nft"].package == "iptables"


def test_up_refuses_a_missing_tool_naming_its_package(monkeypatch):
    from golden_programs import NFT_PROGRAM

    from netlab.app.lifecycle import require_tools
    from netlab.model import load_text
    from netlab.plan.firewall.programs import PROGRAMS
    from netlab.plan.planner import build_plan

    monkeypatch.setitem(PROGRAMS, "nftables-29.7", NFT_PROGRAM)
    plan = build_plan(load_text('name: rq\nengine: "29.7-nftables"\ncontainers: {web: {}}\n'))
    monkeypatch.setattr(requirements, "find_tool", lambda tool: None if tool == "nft" else f"/usr/sbin/{tool}")
    with pytest.raises(KernelError, match=r"`nft` is not installed.*rq-node1.*apt-get install nftables"):
        require_tools(backend("nft"), plan)
    monkeypatch.setattr(requirements, "find_tool", lambda tool: None if "ip6" in tool else f"/usr/sbin/{tool}")
    require_tools(backend("nft"), plan)         # no ip6tables rules: ip6tables is not needed


def test_doctor_explains_every_requirement():
    from netlab.app.doctor import NEEDED_BY, report
    from netlab.kernel.features import Probe

    assert set(requirements.REQUIREMENTS) <= set(NEEDED_BY)
    text, core_ok = report([Probe("nftables", False, "`nft` is not installed (apt-get install nftables)")])
    assert core_ok and "29.7-nftables" in text and "apt-get install nftables" in text
    assert not report([Probe("nf_tables", False, "Protocol not supported")])[1]
