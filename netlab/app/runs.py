"""A lab name of one's own for a notebook: the notebook's base name and a run suffix, so two
people (or two test workers) running the same notebook at once build two labs, not one.

    lab = netlab.Lab(yaml=LAB, name=run_name("nb02"))      # nb02 + k3x9, say

The suffix is $NETLAB_RUN when it is set (the notebook test sets it per worker; set it to ""
to get the bare base name), else the notebook kernel's pid in base 36: stable while the kernel
lives, so a rerun of the notebook finds its own lab again."""
from __future__ import annotations

import os
import re

from ..errors import LabError
from ..model import naming

ENV = "NETLAB_RUN"
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
WIDTH = 4                  # nbNN + 4 fills the 8 characters of a lab name
SUFFIX = re.compile(r"^[a-z0-9]*\Z")

__all__ = ["ENV", "run_name", "run_suffix"]


def base36(number: int, width: int = WIDTH) -> str:
    digits = ""
    for _ in range(width):
        number, digit = divmod(number, len(DIGITS))
        digits = DIGITS[digit] + digits
    return digits


def run_suffix(pid: int | None = None) -> str:
    """$NETLAB_RUN, else `pid` (this process's) in base 36, WIDTH digits."""
    given = os.environ.get(ENV)
    if given is not None:
        if not SUFFIX.fullmatch(given):
            raise LabError(f"{ENV}={given!r}: a run suffix is lowercase letters and digits only")
        return given
    return base36(os.getpid() if pid is None else pid)


def run_name(base: str, pid: int | None = None) -> str:
    """`base` and this run's suffix: a lab name (1-8 of [a-z0-9]), which also serves as a
    Compose project's name."""
    name = base + run_suffix(pid)
    if not naming.LAB_NAME.fullmatch(name):
        raise LabError(f"{name!r} (base {base!r}, run suffix from ${ENV} or the pid) is no lab name: "
                       f"1-8 lowercase letters and digits; give a shorter base or {ENV}")
    return name
