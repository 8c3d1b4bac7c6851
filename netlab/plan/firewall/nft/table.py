"""One nftables table as Docker's nftables package builds it (moby 29.7
`daemon/libnetwork/internal/nftables`), so that replaying its calls gives nft's listing order.

What decides the order nft lists things in:
- a chain is listed where it was made, and Docker makes all the chains of one `Apply` in one
  `nft -f` whose declarations are a Go template ranging over a map: sorted by name. So the
  daemon's base chains come out in name order, then each network's four chains in name
  order, networks in the order they were made;
- a chain's rules are its rule groups in ascending order, each group in the order its rules
  were added (the whole chain is flushed and rewritten at every Apply that touches it);
- maps, likewise, in the order of their Apply, and by name within it;
- a map's elements are listed by nft sorted by value: an interface name is a host-endian
  string, so (on the little-endian machines Docker runs on) shorter names first and, at one
  length, by their characters read from the end."""
from __future__ import annotations

from dataclasses import dataclass, field

from .model import BaseHook, NftChain, NftMap, NftRule, NftTable


class RuleExists(ValueError):
    """Docker refuses to add a rule a second time unless told to ignore it (IgnoreExist)."""


@dataclass(frozen=True)
class Chain:
    name: str
    base: BaseHook | None = None


@dataclass(frozen=True)
class Map:
    name: str
    type: str


@dataclass(frozen=True)
class Rule:
    chain: str
    group: int
    rule: NftRule
    ignore_exist: bool = False


@dataclass(frozen=True)
class MapElement:
    map: str
    key: str                        # as printed: "br-x" with its quotes
    value: str


Command = Chain | Map | Rule | MapElement


@dataclass
class Modifier:
    """The creations of one `Table.Apply`, in the order they were asked for."""

    commands: list[Command] = field(default_factory=list)

    def create(self, obj: Command) -> None:
        self.commands.append(obj)


@dataclass
class _Chain:
    name: str
    base: BaseHook | None
    groups: dict[int, list[NftRule]] = field(default_factory=dict)

    def rules(self) -> tuple[NftRule, ...]:
        return tuple(r for g in sorted(self.groups) for r in self.groups[g])


class TableState:
    """A table between Applies: what nft would list after each."""

    def __init__(self, family: str, name: str) -> None:
        self.family, self.name = family, name
        self._chains: dict[str, _Chain] = {}         # insertion order = creation order
        self._maps: dict[str, tuple[str, dict[str, str]]] = {}

    def apply(self, tm: Modifier) -> None:
        """Every creation checked in call order, as Docker does before writing; the chains
        the Apply makes join the table sorted by name, as its nft script declares them."""
        new: dict[str, _Chain] = {}
        new_maps: dict[str, tuple[str, dict[str, str]]] = {}
        for obj in tm.commands:
            if isinstance(obj, Chain):
                if obj.name in self._chains or obj.name in new:
                    raise ValueError(f"chain {obj.name!r} already exists")
                new[obj.name] = _Chain(obj.name, obj.base)
            elif isinstance(obj, Map):
                if obj.name in self._maps or obj.name in new_maps:
                    raise ValueError(f"map {obj.name!r} already exists")
                new_maps[obj.name] = (obj.type, {})
            elif isinstance(obj, Rule):
                self._add_rule(self._chains.get(obj.chain) or new.get(obj.chain), obj)
            else:
                found = self._maps.get(obj.map) or new_maps.get(obj.map)
                if found is None:
                    raise ValueError(f"map {obj.map!r} does not exist")
                elements = found[1]
                if obj.key in elements:
                    raise ValueError(f"map {obj.map!r} already contains element {obj.key}")
                elements[obj.key] = obj.value
        for name in sorted(new):
            self._chains[name] = new[name]
        for name in sorted(new_maps):
            self._maps[name] = new_maps[name]

    @staticmethod
    def _add_rule(chain: _Chain | None, obj: Rule) -> None:
        if chain is None:
            raise ValueError(f"chain {obj.chain!r} does not exist")
        rules = chain.groups.setdefault(obj.group, [])
        if obj.rule in rules:
            if not obj.ignore_exist:
                raise RuleExists(f"rule {obj.rule.line!r} exists in chain {obj.chain!r}, group {obj.group}")
            return
        rules.append(obj.rule)

    def table(self) -> NftTable:
        maps = tuple(NftMap(name=name, type=type_, elements=tuple(sorted(els.items(), key=lambda e: listing_key(e[0]))))
                     for name, (type_, els) in self._maps.items())
        chains = tuple(NftChain(name=c.name, rules=c.rules(), base=c.base) for c in self._chains.values())
        return NftTable(family=self.family, name=self.name, maps=maps, chains=chains)


def listing_key(key: str) -> tuple[int, bytes]:
    """Where nft lists a string element: by its value as a little-endian number (checked
    against nft 1.0.6), which is by length, then by the characters from the last one back."""
    raw = key.strip('"').encode()
    return len(raw), raw[::-1]
