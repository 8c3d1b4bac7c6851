"""The resolution phases, one module per top-level key of a lab file, run in file-independent
order by resolve.py: underlay and outside, hosts, networks, containers, subnets, addresses
(attach) with ports, expect. Each reports into the shared Context and returns frozen records."""
from .attach import attach
from .containers import check_names, read_containers
from .expect import read_expect
from .hosts import read_hosts
from .networks import read_networks
from .routes import read_outside_routes
from .subnets import allocate_subnets
from .underlay import read_name, read_outside, read_underlay

__all__ = ["allocate_subnets", "attach", "check_names", "read_containers", "read_expect", "read_hosts",
           "read_name", "read_networks", "read_outside", "read_outside_routes", "read_underlay"]
