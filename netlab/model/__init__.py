"""Loading and validating lab files (pure: no root, no kernel)."""
from .topology import Topology
from .resolve import load_file, load_text

__all__ = ["Topology", "load_file", "load_text"]
