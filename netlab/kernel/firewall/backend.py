"""The firewall backend: how a namespace's rule set is written, read back and cleared.

Each backend is one module of this package, registered by name in `__init__.py`. The rule set
is iptables-save text as the plan renders it (`plan/firewall/render.py`); a backend that is
not iptables (native nftables, next) translates it."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from . import text as restore_text

# One process per namespace is unavoidable (iptables binds to the caller's namespace); they
# are independent, so a few run at once: each thread enters its own namespace first.
PARALLEL = 4


class FirewallBackend(ABC):
    name: str = ""
    # the tools it runs and the package that has them, for `require_tools` and `doctor`
    requires: tuple[tuple[str, str], ...] = ()
    # whether rule sets may be written from several threads at once
    parallel: bool = True
    # whether its rules live in nf_tables, where the fingerprint (nft_dump) and nftrace see them
    in_nftables: bool = True
    # whether a restore leaves the user chains it does not declare (iptables-nft-restore does),
    # so that a replacement must delete them itself
    restore_keeps_chains: bool = True

    @abstractmethod
    def restore(self, ns: str, text: str) -> None:
        """Write `text` (iptables-restore input) in `ns`, atomically per table."""

    @abstractmethod
    def save(self, ns: str, counters: bool = False) -> str:
        """The namespace's rule set as iptables-save prints it (with `[packets:bytes]` when
        `counters`)."""

    @abstractmethod
    def remove_tables(self, ns: str, tables: list[str]) -> None:
        """Take the (emptied) `tables` out altogether, so iptables-save no longer lists them
        (an adopted namespace, given back as it was)."""

    def replacing(self, current: str, text: str, clear: set[str] | None = None) -> str:
        """The restore input that leaves exactly `text` where `current` is (see text.replacing)."""
        return restore_text.replacing(current, text, self.restore_keeps_chains, clear)

    def replace(self, ns: str, text: str, clear: set[str] | None = None) -> None:
        """`text` as the namespace's whole rule set, whatever it holds now (an update: a host
        switched to `iptables: false`, or rules changed behind netlab's back): the tables and
        chains the new set drops go. `clear`: the tables outside `text` that may be emptied
        (None: all)."""
        written = self.replacing(self.save(ns), text, clear)
        if written:
            self.restore(ns, written)

    def save_many(self, namespaces: list[str]) -> dict[str, str]:
        with ThreadPoolExecutor(PARALLEL) as pool:
            return dict(zip(namespaces, pool.map(self.save, namespaces)))


class Restorer:
    """Rule sets written in the background, PARALLEL at a time, while the caller goes on with
    other work (the netlink changes of an `up`): each is one process on the other core.
    `wait` returns when all are written and raises the first failure. A backend that is not
    `parallel` (python-iptables is process-global) writes at once, in the caller."""

    def __init__(self, backend: FirewallBackend):
        self.backend = backend
        self._pool = ThreadPoolExecutor(PARALLEL) if backend.parallel else None
        self._pending: list[Future[None]] = []

    def submit(self, write: Callable[..., None], *args: Any, **kw: Any) -> None:
        """One of the backend's writes (`restore`, `replace`) and its arguments."""
        if self._pool is None:
            write(*args, **kw)
        else:
            self._pending.append(self._pool.submit(write, *args, **kw))

    def wait(self) -> None:
        pending, self._pending = self._pending, []
        errors = [e for e in (f.exception() for f in pending) if e is not None]
        if errors:
            raise errors[0]

    def __enter__(self) -> Restorer:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
