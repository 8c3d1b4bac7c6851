"""Lookups of the embedded DNS in libnetwork's order (reference §5): a.b.c on every network,
then a.b on network c, then a on network b.c; link aliases before records; PTR as
`name.network`; AAAA of a known name is a miss that is not forwarded. Pure."""
from __future__ import annotations

from netlab.agent.names import Table, View, resolve_name, resolve_ptr, reverse_ip
from netlab.plan.items import DnsNames, Resolver


def table(names: dict[str, tuple[str, ...]], reverse=()) -> Table:
    return Table.of(DnsNames("x", "x", tuple(names.items()), tuple(reverse)))


FRONT = table({"web": ("10.1.0.2",), "api": ("10.1.0.3",), "shared": ("10.1.0.2", "10.1.0.3"),
               "db.primary": ("10.1.0.9",)},
              (("10.1.0.2", "web"), ("10.1.0.3", "api"), ("10.1.0.9", "db.primary")))
BACK = table({"web": ("10.2.0.2",), "cache": ("10.2.0.4",)}, (("10.2.0.2", "web"), ("10.2.0.4", "cache")))
DOTTED = table({"svc": ("10.3.0.5",)}, (("10.3.0.5", "svc"),))
VIEW = View((("front", FRONT), ("back", BACK), ("my.net", DOTTED)), {"bee": "cache", "web2": "api"})


def ips(name: str, view: View = VIEW):
    return resolve_name(view, name)[0]


def test_plain_names_in_endpoint_order():
    assert ips("api") == ("10.1.0.3",)
    assert ips("cache") == ("10.2.0.4",)
    assert ips("web") == ("10.1.0.2",)          # front comes first
    assert ips("web.") == ("10.1.0.2",)         # the trailing dot is stripped
    assert ips("nothing") is None


def test_name_dot_network():
    assert ips("web.back") == ("10.2.0.2",)
    assert ips("web.front") == ("10.1.0.2",)
    assert ips("cache.front") is None           # cache is not on front
    assert ips("web.nowhere") is None
    assert ips("svc.my.net") == ("10.3.0.5",)   # a in network b.c
    assert ips("db.primary") == ("10.1.0.9",)   # a.b.c itself first
    assert ips("db.primary.front") == ("10.1.0.9",)


def test_case_insensitive():
    assert ips("WEB") == ("10.1.0.2",)
    assert ips("Web.Back") is None              # network names compare as given (n.Name())
    assert ips("Web.back") == ("10.2.0.2",)


def test_link_aliases_first_and_only_here():
    assert ips("bee") == ("10.2.0.4",)          # the alias resolves its container's name
    assert ips("bee.back") == ("10.2.0.4",)
    assert ips("bee.front") is None             # cache is not on front
    assert ips("web2") == ("10.1.0.3",)
    other = View(VIEW.networks, {})
    assert ips("bee", other) is None            # another container has no such alias


def test_an_alias_hides_a_record_of_the_same_name():
    view = View((("front", FRONT),), {"web": "api"})
    assert ips("web", view) == ("10.1.0.3",)


def test_ipv6_miss_for_known_names():
    assert resolve_name(VIEW, "web", ipv6=True) == (None, True)
    assert resolve_name(VIEW, "bee", ipv6=True) == (None, True)
    assert resolve_name(VIEW, "unknown", ipv6=True) == (None, False)


def test_round_robin_set():
    assert sorted(ips("shared")) == ["10.1.0.2", "10.1.0.3"]


def test_ptr():
    assert reverse_ip("10.1.0.3") == "3.0.1.10"
    assert resolve_ptr(VIEW, "3.0.1.10.in-addr.arpa.") == "api.front"
    assert resolve_ptr(VIEW, "4.0.2.10.in-addr.arpa") == "cache.back"
    assert resolve_ptr(VIEW, "4.0.2.10.IN-ADDR.ARPA.") == "cache.back"
    assert resolve_ptr(VIEW, "5.0.3.10.in-addr.arpa.") == "svc.my.net"
    assert resolve_ptr(VIEW, "9.9.9.9.in-addr.arpa.") is None
    assert resolve_ptr(VIEW, "web.") is None


def test_view_of_a_resolver_item():
    item = Resolver("ns", "a", 40000, 40001, (("front", "front@node1"), ("gone", "gone@node1")),
                    (("bee", "cache"),), ("203.0.113.53",))
    view = View.of(item, {"front@node1": FRONT})
    assert [n for n, _ in view.networks] == ["front", "gone"]
    assert ips("web", view) == ("10.1.0.2",)
    assert ips("bee", view) is None             # cache is on no network of this view
