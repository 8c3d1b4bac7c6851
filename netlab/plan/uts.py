"""The UTS namespace item: a container's hostname and NIS domain name as a kernel object of
its own. Re-exported by items.py; what each container's holds is planned in hostnames.py."""
from __future__ import annotations

from dataclasses import dataclass

from .item import Item


@dataclass(frozen=True, kw_only=True)
class Uts(Item):
    """A container's own UTS namespace, pinned under `name` (kernel/uts.py): the hostname and
    NIS domain name its processes see. Docker gives every container one (runc's default
    spec; only --uts=host leaves it out), host and container: modes included."""

    name: str                   # <lab>-<container>, whichever netns it runs in
    netns: str                  # the network namespace the container's processes run in
    container: str
    # None: what the namespace was made with, the machine's (a host-mode container without
    # `hostname:` gets dockerd's os.Hostname())
    hostname: str | None
    # "": none given, so the namespace keeps the machine's (runc writes kernel.domainname
    # only when Docker passes one)
    domainname: str = ""
    kind = "uts"

    @property
    def key(self) -> tuple:
        return ("uts", self.name)

    def describe(self) -> str:
        name = self.hostname if self.hostname is not None else "(the machine's)"
        domain = f" domainname {self.domainname}" if self.domainname else ""
        return f"{self.netns}: uts {self.name} hostname {name}{domain}"
