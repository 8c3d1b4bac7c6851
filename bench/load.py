#!/usr/bin/env python3
"""How loading scales (issue 9): a file of 10,000 containers, 10,000 bad references and 200
networks that exhaust the address pools, each against the same file 10 times smaller, loaded
in this process. Per-item cost should stay flat: a ratio near 1 is linear, near 10 quadratic.

    .venv/bin/python bench/load.py"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from netlab.errors import TopologyError  # noqa: E402
from netlab.model import load_text  # noqa: E402


def containers(n: int) -> str:
    lines = ["name: big", "networks:", "  n1: {subnet: 10.128.0.0/16}", "containers:"]
    lines += [f"  c{i}: {{networks: [n1], ports: ['{10000 + i}:80', '80']}}" if i % 2 else f"  c{i}: {{}}"
              for i in range(n)]
    return "\n".join(lines) + "\n"


def bad_references(n: int) -> str:
    return "name: big\ncontainers:\n" + "".join(f"  c{i}: {{networks: [nope], links: [x{i}]}}\n" for i in range(n))


def exhausted_pools(n: int) -> str:
    return ("name: pools\nhosts:\n  node1:\n    daemon:\n"
            "      bip: 172.17.0.1/16\n      default-address-pools: [{base: 11.0.0.0/8, size: 24}]\n"
            "networks:\n  big: {subnet: 11.0.0.0/8}\n" + "".join(f"  n{i}: {{}}\n" for i in range(n)))


def per_item(make, n: int) -> float:
    text = make(n)
    started = time.perf_counter()
    try:
        load_text(text, "bench.yaml")
    except TopologyError:
        pass
    return (time.perf_counter() - started) / n


def main() -> int:
    print("| file | small N | ms/item | large N | ms/item | ratio (1 = linear) |\n| --- | --- | --- | --- | --- | --- |")
    for make, small in ((containers, 1000), (bad_references, 1000), (exhausted_pools, 20)):
        large = small * 10
        a, b = per_item(make, small), per_item(make, large)
        print(f"| {make.__name__} | {small} | {a * 1e3:.3f} | {large} | {b * 1e3:.3f} | {b / a:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
