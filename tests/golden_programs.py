"""Rule programs made of Docker's own goldens, for the kernel side of engine profiles while
(or whatever) the real programs write: a program whose host gets the nftables tables of
tests/fixtures/moby-goldens/docker-29.7.2/nftables (and no iptables), and one that adds the
ip6tables golden of 28.5 to 20.10's rules. Tests patch them into plan.firewall.programs.PROGRAMS
so that the nft and ip6tables apply, read and drift paths run now."""
from __future__ import annotations

import os
from types import SimpleNamespace

from netlab.plan.firewall import docker
from netlab.plan.firewall.model import Ruleset
from netlab.plan.firewall.render import parse_save

GOLDENS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "moby-goldens")
CONFIG = "hairpin=false,internal=false,icc=true,masq=true,snat=false,gwm=nat,bindlh=false"


def golden(version: str, kind: str, suffix: str) -> str:
    with open(os.path.join(GOLDENS, f"docker-{version}", kind, f"{CONFIG}__{suffix}.golden")) as f:
        return f.read()


NFT_TEXT = golden("29.7.2", "nftables", "ip") + golden("29.7.2", "nftables", "ip6")
IP6_TEXT = golden("28.5.2", "iptables", "ip6tables")

# nftables-29.7 as Docker's goldens have it: no iptables, the two docker-bridges tables
NFT_PROGRAM = SimpleNamespace(host_ruleset=lambda topo, host: Ruleset(), host_sysctls=docker.host_sysctls,
                              host_nftables=lambda topo, host: NFT_TEXT)
# 20.10's IPv4 rules with 28.5's ip6tables golden beside them
IP6_PROGRAM = SimpleNamespace(host_ruleset=docker.host_ruleset, host_sysctls=docker.host_sysctls,
                              host_ruleset6=lambda topo, host: parse_save(IP6_TEXT))
