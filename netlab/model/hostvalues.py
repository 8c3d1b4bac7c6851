"""The values of a container's name and resolver settings as Docker reads them: a MAC address
(Go's net.ParseMAC, 6-byte forms), an `--add-host` entry (docker CLI ValidateExtraHost), a DNS
server (ValidateIPAddress) and a search domain (ValidateDNSSearch). Each parser returns the
value in the form dockerd writes it, or a message saying what is wrong."""
from __future__ import annotations

import re
from ipaddress import ip_address

HOST_GATEWAY = "host-gateway"     # --add-host NAME:host-gateway: the daemon's host gateway IPs
_MAC_COLON = re.compile(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}")
_MAC_DOT = re.compile(r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}")
# ValidateDNSSearch's domain: labels of letters, digits and inner hyphens, at most 255 characters
_LABEL = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")

Parsed = tuple[str | None, str | None]     # (value, None) or (None, what is wrong)


def parse_mac(text: str) -> Parsed:
    """A 6-byte MAC in any form net.ParseMAC reads (`02:42:ac:11:00:02`, `02-42-...`,
    `0242.ac11.0002`), as lower-case colon pairs. The kernel refuses a multicast or all-zero
    address on an Ethernet device (EADDRNOTAVAIL when the container starts)."""
    if _MAC_COLON.fullmatch(text):
        digits = re.sub(r"[:-]", "", text)
    elif _MAC_DOT.fullmatch(text):
        digits = text.replace(".", "")
    else:
        return None, f"{text!r} is not a MAC address such as 02:42:ac:11:00:02"
    octets = bytes.fromhex(digits)
    if octets[0] & 1:
        return None, f"{text!r} is a multicast MAC address (the first octet is odd); a container's " \
                     "interface needs a unicast one, such as 02:42:ac:11:00:02"
    if not any(octets):
        return None, f"{text!r} is the all-zero MAC address, which no interface can take"
    return ":".join(f"{b:02x}" for b in octets), None


def parse_address(text: str) -> Parsed:
    """An IPv4 or IPv6 address, in the form Go's netip prints it."""
    if "%" in text:     # Python reads a zone index, Go's ParseIP does not
        return None, f"{text!r} is not an IP address (a zone index is not allowed)"
    try:
        address = ip_address(text)
    except ValueError:
        return None, f"{text!r} is not an IPv4 or IPv6 address"
    mapped = getattr(address, "ipv4_mapped", None)
    # netip prints an IPv4-mapped address with its IPv4 part dotted (Python before 3.13 does not)
    return (f"::ffff:{mapped}" if mapped is not None else str(address)), None


def split_extra_host(text: str) -> tuple[str, str] | None:
    """`NAME:ADDRESS` or `NAME=ADDRESS` (split at the first `=`, else the first `:`, so an IPv6
    address keeps its colons); `[ADDRESS]` in brackets is unwrapped. None: no separator."""
    name, sep, value = text.partition("=")
    if not sep:
        name, sep, value = text.partition(":")
    if not sep:
        return None
    if len(value) > 2 and value[0] == "[" and value[-1] == "]":
        value = value[1:-1]
    return name, value


def check_host_name(name: str) -> str | None:
    """What is wrong with an extra host's name: /etc/hosts reads whitespace as a separator."""
    if not name:
        return "the name before the address is empty"
    if any(c.isspace() for c in name) or "#" in name:
        return f"{name!r} cannot be a host name in /etc/hosts (whitespace or '#')"
    return None


def check_search(domain: str) -> str | None:
    if domain == ".":
        return None     # "no search domain": dockerd drops it from the file
    if len(domain) > 255 or not _DOMAIN.fullmatch(domain):
        return f"{domain!r} is not a valid search domain (letters, digits, '-' and '.')"
    return None


def check_option(option: str) -> str | None:
    if not option or any(c.isspace() for c in option):
        return f"{option!r} is not a resolver option such as ndots:2 or edns0"
    return None
