"""Go's strconv.ParseBool, the one reading of Docker's string-valued boolean options."""
from __future__ import annotations

TRUE = ("1", "t", "T", "TRUE", "true", "True")
FALSE = ("0", "f", "F", "FALSE", "false", "False")


def parse_bool(text: str) -> bool | None:
    """True or False as dockerd reads `text`, or None where dockerd refuses it."""
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return None
