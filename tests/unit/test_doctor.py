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
