"""The doctor's report explains each missing feature and what needs it."""
from netlab.app.doctor import report
from netlab.kernel.features import Probe


def test_missing_optional_feature_is_explained_but_core_is_fine():
    text, core_ok = report([Probe("veth", True), Probe("8021q", False, "Operation not supported")])
    assert core_ok
    assert "8021q            MISSING  macvlan parents such as eth0.10" in text
    assert "why: Operation not supported" in text


def test_missing_core_feature_fails():
    text, core_ok = report([Probe("iptables-nft", False, "`iptables-nft-save` is not installed "
                                                         "(apt-get install iptables)")])
    assert not core_ok
    assert "apt-get install iptables" in text and "netlab cannot build labs here" in text


def test_ipv6_rows_say_what_needs_them():
    from netlab.kernel import ipv6_probe
    ok, why = ipv6_probe.ipv6(None, "unused", "ndveth", "net.ipv6.conf.all.disable_ipv6=1 on the machine")
    assert not ok and why == "net.ipv6.conf.all.disable_ipv6=1 on the machine"
    text, core_ok = report([Probe("ipv6", ok, why), Probe("nftables-ip6", False, "`nft` is not installed")])
    assert core_ok      # an IPv4 lab needs neither
    assert "ipv6             MISSING  labs with IPv6 (enable_ipv6, daemon ipv6)" in text
    assert "why: net.ipv6.conf.all.disable_ipv6=1 on the machine" in text
    assert "nftables-ip6     MISSING  labs with IPv6 on 29.7-nftables" in text


def test_ip6tables_row_follows_the_backend_up_picks(monkeypatch):
    from netlab.kernel import ipv6_probe
    monkeypatch.setattr(ipv6_probe, "default_name", lambda: "legacy")
    assert ipv6_probe.ip6tables({"ip6tables-legacy": True, "ip6tables-nft": False}) == (True, "")
    ok, why = ipv6_probe.ip6tables({"ip6tables-legacy": False, "ip6tables-nft": True})
    assert not ok and why == ("the legacy backend (the one `up` picks here) needs ip6tables-legacy "
                              "for ip6tables rules")
