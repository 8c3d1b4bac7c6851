"""Native nftables: the tables model (model.py), `nft list table` text (render.py), Docker's
nftables table builder (table.py), the bridge driver's nftables firewaller (nftabler.py) and
Docker 29.7's nftables rule program (docker29.py)."""
from .model import BaseHook, NftChain, NftMap, NftRule, NftTable
from .render import parse_rule, parse_tables, render_table, render_tables

__all__ = ["BaseHook", "NftChain", "NftMap", "NftRule", "NftTable", "parse_rule", "parse_tables",
           "render_table", "render_tables"]
