"""Native nftables tables as `nft list table` shows them: frozen tables of maps and chains,
each rule the statement nft lists and its comment. Pure data; `render.py` prints and reads
them, `table.py` builds them the way Docker's nftables package does."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NftRule:
    """One rule: `text` as nft lists it (counters at zero), `comment` without its quotes."""

    text: str
    comment: str = ""

    @property
    def line(self) -> str:
        """The whole line `nft list` prints, comment included."""
        return f'{self.text} comment "{self.comment}"' if self.comment else self.text


@dataclass(frozen=True, kw_only=True)
class BaseHook:
    """What makes a chain a base chain: netfilter calls it at `hook` in `priority` order.
    The priority is kept as nft prints it (`filter`, `dstnat`, `filter + 10`, `-100`)."""

    type: str                       # filter | nat | route
    hook: str                       # prerouting | input | forward | output | postrouting
    priority: str
    policy: str = "accept"
    device: str = ""                # netdev family only


@dataclass(frozen=True, kw_only=True)
class NftChain:
    name: str
    rules: tuple[NftRule, ...] = ()
    base: BaseHook | None = None    # None: a regular chain, entered only by jump or goto


@dataclass(frozen=True, kw_only=True)
class NftMap:
    """A named map: `type` as printed (`ifname : verdict`), elements (key, value) as printed
    (`"br-x"`, `jump filter-forward-in__br-x`) in nft's listing order."""

    name: str
    type: str
    elements: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class NftTable:
    family: str                     # ip | ip6 | inet | ...
    name: str
    maps: tuple[NftMap, ...] = ()
    chains: tuple[NftChain, ...] = ()   # in the order nft lists them: the order they were made

    @property
    def label(self) -> str:
        """`ip docker-bridges`, as `nft list table` takes it."""
        return f"{self.family} {self.name}"

    def chain(self, name: str) -> NftChain | None:
        return next((c for c in self.chains if c.name == name), None)

    def map(self, name: str) -> NftMap | None:
        return next((m for m in self.maps if m.name == name), None)
