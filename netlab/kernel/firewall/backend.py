"""The firewall backend: how a namespace's rule set is written, read back and cleared.

Each backend is one module of this package, registered by name in `__init__.py`. The rule set
is iptables-save text as the plan renders it (`plan/firewall/render.py`), for one address
family: "ipv4" (iptables) or "ipv6" (ip6tables), each its own set of tables. An engine's
native nftables tables are not a backend's: kernel/nft_tables.py writes them."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from ...plan.firewall.model import BUILTIN_CHAINS
from . import text as restore_text

# One process per namespace is unavoidable (iptables binds to the caller's namespace); they
# are independent, so a few run at once: each thread enters its own namespace first.
PARALLEL = 4
FAMILIES = ("ipv4", "ipv6")


class FirewallBackend(ABC):
    name: str = ""
    # per family, the requirements (kernel/requirements.py) it runs, for `up` and `doctor`
    requires: dict[str, tuple[str, ...]] = {}
    # whether rule sets may be written from several threads at once
    parallel: bool = True
    # whether its rules live in nf_tables, where the fingerprint (nft_dump) and nftrace see them
    in_nftables: bool = True
    # whether a restore leaves the user chains it does not declare (iptables-nft-restore does),
    # so that a replacement must delete them itself
    restore_keeps_chains: bool = True

    @abstractmethod
    def restore(self, ns: str, text: str, family: str = "ipv4") -> None:
        """Write `text` (iptables-restore input) in `ns`, atomically per table."""

    @abstractmethod
    def save(self, ns: str, counters: bool = False, family: str = "ipv4") -> str:
        """The namespace's rule set as iptables-save prints it (with `[packets:bytes]` when
        `counters`)."""

    @abstractmethod
    def remove_tables(self, ns: str, tables: list[str], family: str = "ipv4") -> None:
        """Take the (emptied) `tables` out altogether, so iptables-save no longer lists them
        (an adopted namespace, given back as it was; an engine that writes fewer tables)."""

    def replacing(self, current: str, text: str, clear: set[str] | None = None) -> str:
        """The restore input that leaves exactly `text` where `current` is (see text.replacing)."""
        return restore_text.replacing(current, text, self.restore_keeps_chains, clear)

    def replace(self, ns: str, text: str, clear: set[str] | None = None, family: str = "ipv4") -> None:
        """`text` as the namespace's whole rule set, whatever it holds now (an update: a host
        switched to `iptables: false` or to another engine, or rules changed behind netlab's
        back): the tables and chains the new set drops go. `clear`: the tables outside `text`
        that may be emptied and removed (None: all)."""
        current = self.save(ns, family=family)
        written = self.replacing(current, text, clear)
        if written:
            self.restore(ns, written, family)
        kept = set(restore_text.tables_of(text))
        emptied = [t for t in restore_text.tables_of(current)
                   if t in BUILTIN_CHAINS and t not in kept and (clear is None or t in clear)]
        if emptied:
            self.remove_tables(ns, emptied, family)

    def save_many(self, namespaces: list[str], family: str = "ipv4") -> dict[str, str]:
        with ThreadPoolExecutor(PARALLEL) as pool:
            return dict(zip(namespaces, pool.map(lambda ns: self.save(ns, family=family), namespaces)))


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
        """One of the backend's writes (`restore`, `replace`), or a few in a row, and its
        arguments."""
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
