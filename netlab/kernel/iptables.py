"""iptables in a lab namespace: atomic restore of whole tables, and save for observation.

One `iptables-restore` per host, run inside the namespace (`ip netns exec` semantics are
not needed for iptables: only the network namespace matters)."""
from __future__ import annotations

import re
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


BUILT_IN = {"filter": ("INPUT", "FORWARD", "OUTPUT"), "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
            "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"), "raw": ("PREROUTING", "OUTPUT")}


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^\*(\w+)\n(.*?)^COMMIT", text, re.M | re.S)


def tables_of(text: str) -> list[str]:
    """The tables a restore text (or iptables-save output) names, in order."""
    return re.findall(r"^\*(\w+)$", text, re.M)


def _chains(body: str) -> list[str]:
    return re.findall(r"^:(\S+) - ", body, re.M)


def _dropped(chains) -> str:
    """Restore lines that delete user chains (declared first: -X needs them to exist)."""
    return "".join(f":{c} - [0:0]\n" for c in chains) + "".join(f"-X {c}\n" for c in chains)


def replacing(current: str, text: str, flavour: str = "nft", clear: set[str] | None = None) -> str:
    """Restore input that leaves exactly `text`'s rule set where `current` (iptables-save
    output) is now: a table `text` does not name keeps only its built-in chains, empty, policy
    ACCEPT (as in a fresh namespace), and a user chain it does not declare goes.
    iptables-nft-restore keeps undeclared user chains, so those are declared and deleted
    (`-X`) in the same transaction; the legacy backend deletes them itself. `clear`: the
    tables outside `text` that may be emptied (None: all; an adopted VM namespace keeps its own)."""
    now = {table: _chains(body) for table, body in _blocks(current)}
    nft = flavour != "legacy"
    wanted = _blocks(text)
    out = []
    for table, body in wanted:
        kept = set(_chains(body))
        gone = [c for c in now.get(table, ()) if c not in kept] if nft else []
        out.append(f"*{table}\n{body}{_dropped(gone)}COMMIT\n")
    named = {table for table, _ in wanted}
    for table, chains in now.items():
        if table in BUILT_IN and table not in named and (clear is None or table in clear):
            policies = "".join(f":{c} ACCEPT [0:0]\n" for c in BUILT_IN[table])
            out.append(f"*{table}\n{policies}{_dropped(chains if nft else [])}COMMIT\n")
    return "".join(out)


def replace(ns: str, text: str, flavour: str = "nft", clear: set[str] | None = None) -> None:
    """`text` as the namespace's whole rule set, whatever it holds now (an update: a host
    switched to `iptables: false`, or rules changed behind netlab's back)."""
    restore_text = replacing(save(ns, flavour), text, flavour, clear)
    if restore_text:
        restore(ns, restore_text, flavour)


def save(ns: str, flavour: str = "nft") -> str:
    return _run(ns, [_binary(f"iptables-{flavour}-save")])


def save_many(namespaces: list[str], flavour: str = "nft") -> dict[str, str]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return dict(zip(namespaces, pool.map(lambda ns: save(ns, flavour), namespaces)))


class Restorer:
    """Rule sets written in the background, PARALLEL at a time, while the caller goes on with
    other work (the netlink changes of an `up`): each is one process on the other core.
    `wait` returns when all are written and raises the first failure. Legacy rules go through
    python-iptables, which is process-global: they are written at once, in the caller."""

    def __init__(self, flavour: str = "nft"):
        self.flavour = flavour
        self._pool = ThreadPoolExecutor(PARALLEL) if flavour != "legacy" else None
        self._pending = []

    def submit(self, write, *args, **kw) -> None:
        """`restore` or `replace` and their arguments; the flavour is this restorer's."""
        if self._pool is None:
            write(*args, flavour=self.flavour, **kw)
        else:
            self._pending.append(self._pool.submit(write, *args, flavour=self.flavour, **kw))

    def wait(self) -> None:
        pending, self._pending = self._pending, []
        errors = [e for e in (f.exception() for f in pending) if e is not None]
        if errors:
            raise errors[0]

    def __enter__(self) -> Restorer:
        return self

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
