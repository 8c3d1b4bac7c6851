"""Checks of driver_opts values, one per kind of value. A driver lists its options with their
check; a bad value is reported at its key path and dropped, so segments read valid ones only."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..model import naming
from ..model.context import Context, number
from ..model.parsebool import parse_bool

# (context, value, key path) -> whether the value is kept; a refusal is reported there
Check = Callable[[Context, str, str], bool]


@dataclass(frozen=True)
class Option:
    key: str
    check: Check
    since: str = ""                 # the Docker version that introduced it ("28.0"); "": 20.10 had it
    # values introduced later than the option itself: value -> version
    values_since: tuple[tuple[str, str], ...] = ()

    def introduced(self, value: str) -> str:
        """The version that first took this option with this value ("" for 20.10 or earlier)."""
        return dict(self.values_since).get(value, self.since)


def boolean(ctx: Context, value: str, path: str) -> bool:
    if parse_bool(value) is None:
        ctx.flag(value, path, True)
        return False
    return True


def mtu(ctx: Context, value: str, path: str) -> bool:
    v = number(value)
    if v is None or not 68 <= v <= 65535:
        ctx.err(path, f"MTU {value!r} must be a number from 68 to 65535")
        return False
    return True


def address(ctx: Context, value: str, path: str) -> bool:
    return ctx.addr(value, path) is not None


def any_text(ctx: Context, value: str, path: str) -> bool:
    return True


def interface(what: str) -> Check:
    """A Linux interface name (`what` names it in the message)."""
    def check(ctx: Context, value: str, path: str) -> bool:
        if not naming.IFNAME.fullmatch(value) or len(value) > naming.IFNAMSIZ or value in (".", ".."):
            ctx.err(path, f"{what} {value!r} is not a Linux interface name (1-{naming.IFNAMSIZ} "
                          "characters, no spaces, '/' or ':')")
            return False
        return True
    return check


def bridge_name(ctx: Context, value: str, path: str) -> bool:
    if not interface("bridge name")(ctx, value, path):
        return False
    if value in ("docker0", "eth0", "lo"):
        ctx.err(path, f"bridge name {value!r} is already used on every host; choose another")
        return False
    return True


def iface_prefix(ctx: Context, value: str, path: str) -> bool:
    if not naming.IFNAME.fullmatch(value) or len(value) > naming.IFNAMSIZ - 2:
        ctx.err(path, f"prefix {value!r} must be 1-{naming.IFNAMSIZ - 2} characters, no spaces, '/' or ':' "
                      f"(the interface number follows it, within {naming.IFNAMSIZ} characters)")
        return False
    return True


def one_of(what: str, choices: tuple[str, ...]) -> Check:
    def check(ctx: Context, value: str, path: str) -> bool:
        if value not in choices:
            ctx.err(path, f"{what} {value!r} is not one of {', '.join(choices)}")
            return False
        return True
    return check


MTU = Option("com.docker.network.driver.mtu", mtu)
