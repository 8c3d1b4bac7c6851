#!/usr/bin/env python3
"""The long run of the loader fuzz test (issue 9): 20,000 hypothesis examples instead of the
500 that `make test` runs. Prints the examples per second and exits non-zero on a failure.

    .venv/bin/python bench/fuzz.py [EXAMPLES]"""
from __future__ import annotations

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main(examples: int) -> int:
    test = os.path.join(HERE, "..", "tests", "unit", "test_loader_fuzz.py")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
                          env={**os.environ, "NETLAB_FUZZ_EXAMPLES": str(examples)})
    took = time.perf_counter() - started
    print(f"loader fuzz: {examples} examples in {took:.0f} s ({examples / took:.0f}/s), "
          f"{'passed' if proc.returncode == 0 else 'FAILED'}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000))
