"""Compose files as labs: detection, validation against the Compose specification, the
project name, and the translation into netlab's lab-file data (docs: README, "Compose files")."""
from .load import Loaded, load_path, load_source

__all__ = ["Loaded", "load_path", "load_source"]
