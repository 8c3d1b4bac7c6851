"""Where the command-line tools netlab runs are installed."""
from __future__ import annotations

import shutil

# sudo and cron give root a PATH without the sbin directories on some systems, and that is
# where iptables, ip and nft live
SBIN = "/usr/sbin:/sbin"


def find_tool(name: str) -> str | None:
    """The path of `name` on PATH, else in the sbin directories; None if neither has it."""
    return shutil.which(name) or shutil.which(name, path=SBIN)
