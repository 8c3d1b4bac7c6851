"""The dual-stack network the IPv6 tests share: `dual`, 172.30.0.0/24 and 2001:db8:2::/64
(the IPv6 documentation prefix), declared as Compose does (enable_ipv6, ipam.config)."""
from __future__ import annotations

DUAL_NETWORK = """  dual:
    enable_ipv6: true
    ipam:
      config:
        - subnet: 172.30.0.0/24
        - subnet: "2001:db8:2::/64"
"""


def dual_stack_lab(name: str, containers: str, engine: str = "28.5", networks: str = "", tail: str = "") -> str:
    """A lab with `dual` (and `networks`, more network lines) and `containers` (lines under
    `containers:`); `tail`: top-level keys after them."""
    return (f'name: {name}\nengine: "{engine}"\nnetworks:\n{DUAL_NETWORK}{networks}'
            f"containers:\n{containers}{tail}")
