"""Lab files for the benchmarks: N containers spread round-robin over 10 user networks on
one host, the same on 4 hosts joined by overlay networks, and one container publishing many
ports. Every lab name starts with `bn`, so leftovers are easy to spot (see guard.py)."""
from __future__ import annotations

import os

import yaml

NETWORKS = 10
OVERLAY_HOSTS = 4


def _write(directory: str, doc: dict) -> str:
    path = os.path.join(directory, f"{doc['name']}.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return path


def _containers(n: int, hosts: list[str] | None = None) -> dict:
    out = {}
    for i in range(n):
        spec = {"networks": [f"n{i % NETWORKS}"]}
        if hosts:
            spec["host"] = hosts[i % len(hosts)]
        out[f"c{i}"] = spec
    return out


def bridge_lab(directory: str, n: int, name: str | None = None) -> str:
    """N containers over 10 bridge networks (subnets left to netlab's IPAM, as users do)."""
    doc = {"name": name or f"bnb{n}", "networks": {f"n{k}": {} for k in range(NETWORKS)},
           "containers": _containers(n)}
    return _write(directory, doc)


def overlay_lab(directory: str, n: int) -> str:
    """N containers over 10 overlay networks spanning 4 hosts, spread over hosts and networks."""
    hosts = [f"node{h}" for h in range(1, OVERLAY_HOSTS + 1)]
    doc = {"name": f"bno{n}", "hosts": {h: {} for h in hosts},
           "networks": {f"n{k}": {"driver": "overlay"} for k in range(NETWORKS)},
           "containers": _containers(n, hosts)}
    return _write(directory, doc)


def ports_lab(directory: str, ports: int) -> str:
    """One container publishing `ports` TCP ports as one range (`-p A-B:A-B`); ports=0 gives
    the same lab without them, the baseline the ports are measured against."""
    web = {"ports": [f"10000-{10000 + ports - 1}:10000-{10000 + ports - 1}"]} if ports else {}
    return _write(directory, {"name": f"bnp{ports}", "containers": {"web": web}})
