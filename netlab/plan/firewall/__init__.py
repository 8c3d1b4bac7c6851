"""The firewall rules each engine writes for a lab's hosts, as data (pure: no root, no kernel)."""
from .docker import hairpin_ports
from .lab import lab_rules
from .model import Chain, Ruleset, Table
from .programs import host_ruleset, host_sysctls
from .render import normalize, parse_save, render, render_restore

__all__ = ["Chain", "Ruleset", "Table", "hairpin_ports", "host_ruleset", "host_sysctls",
           "lab_rules", "normalize", "parse_save", "render", "render_restore"]
