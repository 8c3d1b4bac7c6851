"""The kernel readers on recorded bytes (tests/fixtures/, made by tests/fixtures/record.py in a
throwaway namespace): rtnetlink dumps of a bridge, a veth pair and their addresses and routes;
the nf_tables dump of Docker's rule set as nft_dump fingerprints it; iptables-save text."""
from __future__ import annotations

import os
import struct
from collections.abc import Iterator

from netlab.kernel.netlink import NLMSG_DONE, NLMSG_ERROR, attrs, frames, text
from netlab.kernel.nft_dump import fingerprint_of
from netlab.kernel.rtnl_dump import RTPROT_KERNEL, parse_addresses, parse_links, parse_routes
from netlab.plan.diff import canonical_iptables
from netlab.plan.firewall.render import parse_save
from netlab.trace.counters import parse_save_counters

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")


def chunks(name: str) -> list[bytes]:
    with open(os.path.join(FIXTURES, name), "rb") as f:
        data = f.read()
    out, i = [], 0
    while i < len(data):
        (length,) = struct.unpack_from("<I", data, i)
        out.append(data[i + 4:i + 4 + length])
        i += 4 + length
    return out


def fixture_text(name: str) -> str:
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def replies(name: str) -> Iterator[tuple[int, bytes, int, int]]:
    """The recorded datagrams' messages, as netlink.dump yields them."""
    for data in chunks(name):
        for kind, _, _, start, end in frames(data):
            if kind in (NLMSG_DONE, NLMSG_ERROR):
                return
            yield kind, data, start, end


def test_links() -> None:
    links = {link.name: link for link in parse_links(replies("rtnl_links.bin"))}
    assert set(links) == {"lo", "br0", "v1", "v2"}
    br, v1, v2 = links["br0"], links["v1"], links["v2"]
    assert (br.kind, br.mac, br.mtu, br.alias) == ("bridge", "02:42:ac:11:00:01", 1500, "netlab:fixture")
    assert (v1.kind, v1.master, v1.hairpin, v1.up) == ("veth", br.index, True, True)
    assert (v2.kind, v2.master, v2.hairpin, v2.mac) == ("veth", None, False, "02:42:ac:11:00:03")
    assert links["lo"].alias == "netlab:fixture" and links["lo"].kind is None


def test_addresses() -> None:
    names = {link.index: link.name for link in parse_links(replies("rtnl_links.bin"))}
    found = {(names[a.index], a.cidr) for a in parse_addresses(replies("rtnl_addresses.bin"))}
    assert found == {("lo", "127.0.0.1/8"), ("br0", "172.17.0.1/16"), ("v2", "10.9.0.2/24")}


def test_routes() -> None:
    names = {link.index: link.name for link in parse_links(replies("rtnl_links.bin"))}
    routes = {r.dst: (r.gateway, names.get(r.oif)) for r in parse_routes(replies("rtnl_routes.bin"))
              if r.protocol != RTPROT_KERNEL}
    assert routes == {"default": ("172.17.0.254", "br0"), "192.0.2.0/24": (None, "v2")}
    kernel = {r.dst for r in parse_routes(replies("rtnl_routes.bin")) if r.protocol == RTPROT_KERNEL}
    assert kernel == {"172.17.0.0/16", "10.9.0.0/24"}


def test_nft_dump_fingerprint_is_the_live_one() -> None:
    chains, rules = chunks("nft_chains.bin"), chunks("nft_rules.bin")
    assert fingerprint_of(chains, rules) == fixture_text("nft_fingerprint.txt").strip()
    names = {(text(attrs(c).get(1)), text(attrs(c).get(3))) for c in chains}
    assert {("filter", "DOCKER-USER"), ("nat", "DOCKER"), ("filter", "FORWARD")} <= names


def test_nft_fingerprint_ignores_handles_and_counters_but_not_rules() -> None:
    chains, rules = chunks("nft_chains.bin"), chunks("nft_rules.bin")
    base = fingerprint_of(chains, rules)
    assert fingerprint_of(chains, rules[:-1]) != base
    assert fingerprint_of(chains, list(reversed(rules))) != base
    # a rule's handle (NFTA_RULE_HANDLE, 3) changes when iptables-nft rewrites it: ignored
    first = rules[0]
    a = dict(attrs(first))
    assert 3 in a
    a[3] = struct.pack("!Q", 999999)
    rebuilt = b"".join(struct.pack("=HH", 4 + len(v), k | (0x8000 if k == 4 else 0)) + v + b"\0" * (-len(v) % 4)
                       for k, v in a.items())
    assert fingerprint_of(chains, [rebuilt] + rules[1:]) == base


def test_iptables_save_reads_as_the_rules_restored() -> None:
    saved, restored = fixture_text("iptables_save.txt"), fixture_text("iptables_restore.txt")
    assert canonical_iptables(saved) == canonical_iptables(restored)
    assert parse_save(saved) == parse_save(restored)
    ruleset = parse_save(fixture_text("iptables_save_counters.txt"))
    assert ruleset == parse_save(saved)
    assert {t.name for t in ruleset.tables} == {"filter", "nat"}


def test_iptables_save_counters() -> None:
    counts = parse_save_counters(fixture_text("iptables_save_counters.txt"))
    assert counts[("filter", "FORWARD", None)] == 0
    assert ("nat", "DOCKER", 1) in counts and ("filter", "FORWARD", 1) in counts
