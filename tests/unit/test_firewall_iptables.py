"""The in-memory iptables and libnetwork's helpers over it: the verbs decide the order."""
from __future__ import annotations

import pytest

from netlab.plan.firewall.iptables import Iptables
from netlab.plan.firewall.libnetwork import APPEND, DELETE, INSERT, ensure_jump_rule, program_rule


def rules(ipt: Iptables, table: str, chain: str) -> tuple[str, ...]:
    return ipt.ruleset().table(table).chain(chain).rules


def test_a_table_appears_with_its_builtin_chains_at_accept():
    ipt = Iptables()
    assert ipt.ruleset().tables == ()
    ipt.new_chain("nat", "DOCKER")
    nat = ipt.ruleset().table("nat")
    assert [(c.name, c.policy) for c in nat.chains] == [
        ("PREROUTING", "ACCEPT"), ("INPUT", "ACCEPT"), ("OUTPUT", "ACCEPT"), ("POSTROUTING", "ACCEPT"),
        ("DOCKER", None)]


def test_insert_goes_first_append_goes_last():
    ipt = Iptables()
    ipt.append("filter", "FORWARD", "a")
    ipt.insert("filter", "FORWARD", "b")
    ipt.append("filter", "FORWARD", "c")
    assert rules(ipt, "filter", "FORWARD") == ("b", "a", "c")


def test_program_rule_adds_once_and_deletes_only_what_is_there():
    ipt = Iptables()
    program_rule(ipt, "filter", "FORWARD", APPEND, "x")
    program_rule(ipt, "filter", "FORWARD", INSERT, "x")
    assert rules(ipt, "filter", "FORWARD") == ("x",)
    program_rule(ipt, "filter", "FORWARD", DELETE, "y")
    program_rule(ipt, "filter", "FORWARD", DELETE, "x")
    assert rules(ipt, "filter", "FORWARD") == ()


def test_ensure_jump_rule_moves_the_jump_to_the_top():
    ipt = Iptables()
    ipt.append("filter", "FORWARD", "-j DOCKER-USER")
    ipt.append("filter", "FORWARD", "-o docker0 -j DOCKER")
    ensure_jump_rule(ipt, "FORWARD", "DOCKER-ISOLATION-STAGE-1")
    ensure_jump_rule(ipt, "FORWARD", "DOCKER-USER")
    assert rules(ipt, "filter", "FORWARD") == (
        "-j DOCKER-USER", "-j DOCKER-ISOLATION-STAGE-1", "-o docker0 -j DOCKER")


def test_a_missing_chain_is_an_error_as_in_iptables():
    with pytest.raises(KeyError):
        Iptables().append("filter", "NOPE", "-j ACCEPT")


def test_policy_and_user_chains_in_save_order():
    ipt = Iptables()
    ipt.new_chain("filter", "DOCKER-USER")
    ipt.new_chain("filter", "DOCKER")
    ipt.set_policy("filter", "FORWARD", "DROP")
    chains = ipt.ruleset().table("filter").chains
    assert [(c.name, c.policy) for c in chains] == [
        ("INPUT", "ACCEPT"), ("FORWARD", "DROP"), ("OUTPUT", "ACCEPT"), ("DOCKER", None), ("DOCKER-USER", None)]
