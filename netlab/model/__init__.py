"""Loading and validating lab files (pure: no root, no kernel)."""
from .resolve import load_file, load_text
from .topology import Topology

__all__ = ["Topology", "load_file", "load_text"]
