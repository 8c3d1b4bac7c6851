"""The iptables rule programs of Docker 28.5 and 29.7: the bridge driver's iptabler (moby
`libnetwork/drivers/bridge/internal/iptabler/`, from 29 under `daemon/`) replayed command by
command in the in-memory iptables, as plan/firewall/docker.py does for 20.10.

flavor.py says what differs between the two; iptabler.py is the daemon-level part (chains,
jumps, DOCKER-USER), network.py a bridge network's rules, endpoint.py an endpoint's, its
published ports and legacy links; driver.py is the order in which the bridge driver and the
daemon call them; docker28.py and docker29.py are the programs programs.py registers."""
from . import docker28, docker29

__all__ = ["docker28", "docker29"]
