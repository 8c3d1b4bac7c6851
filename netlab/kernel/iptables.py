"""iptables in a lab namespace: atomic restore of whole tables, and save for observation.

One `iptables-restore` per host, run inside the namespace (`ip netns exec` semantics are
not needed for iptables: only the network namespace matters)."""
from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

from ..errors import KernelError
from . import netns

PACKAGE = "iptables"
# One process per namespace is unavoidable (iptables binds to the caller's namespace); they
# are independent, so a few run at once: each thread enters its own namespace first.
PARALLEL = 4


def _binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        raise KernelError(f"`{name}` is not installed: netlab needs it to write Docker's rules "
                          f"(apt-get install {PACKAGE})")
    return path


def _run(ns: str, argv: list[str], stdin: str | None = None) -> str:
    with netns.entered(ns):
        # the child inherits this thread's network namespace at fork
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        raise KernelError(f"{ns}: {' '.join(argv[:1])} failed: {proc.stderr.strip()}")
    return proc.stdout


def restore(ns: str, text: str, flavour: str = "nft") -> None:
    if flavour == "legacy":
        from .iptables_legacy import restore as legacy_restore
        legacy_restore(ns, text)
        return
    _run(ns, [_binary("iptables-nft-restore")], text)


def save(ns: str, flavour: str = "nft") -> str:
    return _run(ns, [_binary(f"iptables-{flavour}-save")])


def save_many(namespaces: list[str], flavour: str = "nft") -> dict[str, str]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return dict(zip(namespaces, pool.map(lambda ns: save(ns, flavour), namespaces)))


def restore_many(texts: list[tuple[str, str]], flavour: str = "nft") -> None:
    """(netns, restore text) pairs; python-iptables (legacy) is process-global, so serial."""
    if flavour == "legacy":
        for ns, text in texts:
            restore(ns, text, flavour)
        return
    with ThreadPoolExecutor(PARALLEL) as pool:
        for _ in pool.map(lambda pair: restore(pair[0], pair[1], flavour), texts):
            pass
