"""Compose's top-level `networks:` as lab networks: `<project>_<key>` (or `name:`), the
implicit `default`, and the keys that shape the network."""
from __future__ import annotations

from typing import Any

from .builder import Builder

DRIVERS = ("bridge", "macvlan", "overlay")
IPAM_KEYS = ("subnet", "gateway", "ip_range", "aux_addresses")


def lab_network_name(project: str, key: str, spec: dict[str, Any]) -> str:
    """The Docker network a Compose network becomes (compose-go's normalisation)."""
    name = spec.get("name")
    return name if isinstance(name, str) and name else f"{project}_{key}"


def translate_networks(b: Builder, project: str, declared: dict[str, Any], used: list[str]) -> dict[str, str]:
    """Lab networks for the Compose networks that active services use (Compose creates only
    those); returns Compose key -> Docker network name."""
    names: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key in used:
        spec = declared.get(key)
        spec = spec if isinstance(spec, dict) else {}
        cpath = f"networks.{key}"
        if b.flag(spec.get("external"), f"{cpath}.external") or isinstance(spec.get("external"), dict):
            b.err(f"{cpath}.external", f"network {key!r} is external: Compose expects it to exist already, "
                                       "and netlab builds every network of a lab itself; declare it in this "
                                       "file without `external`")
            continue
        name = lab_network_name(project, key, spec)
        names[key] = name
        out[name] = _network(b, spec, cpath, name)
        b.at(f"networks.{name}", cpath)
    if out:
        b.lab["networks"] = out
    return names


def _network(b: Builder, spec: dict[str, Any], cpath: str, name: str) -> dict[str, Any]:
    net: dict[str, Any] = {}
    driver = spec.get("driver")
    if driver is not None:
        if driver not in DRIVERS:
            b.err(f"{cpath}.driver", f"driver {driver!r}: netlab models the drivers {', '.join(DRIVERS)}")
        else:
            net["driver"] = driver
            b.at(f"networks.{name}.driver", f"{cpath}.driver")
    opts = spec.get("driver_opts")
    if isinstance(opts, dict) and opts:
        net["driver_opts"] = {str(k): v if isinstance(v, (str, bool)) else str(v) for k, v in opts.items()}
        b.at(f"networks.{name}.driver_opts", f"{cpath}.driver_opts")
    for key in ("internal", "enable_ipv6", "attachable"):     # attachable: swarm's, shown by inspect
        if spec.get(key) is not None:
            net[key] = b.flag(spec.get(key), f"{cpath}.{key}")
            b.at(f"networks.{name}.{key}", f"{cpath}.{key}")
    if spec.get("enable_ipv4") is not None and not b.flag(spec.get("enable_ipv4"), f"{cpath}.enable_ipv4", True):
        b.err(f"{cpath}.enable_ipv4", "an IPv6-only network (enable_ipv4: false) is not modelled by netlab")
    if "labels" in spec:
        b.not_modelled("networks: labels", cpath.split(".", 1)[1])
    _ipam(b, spec.get("ipam"), cpath, name, net)
    return net


def _ipam(b: Builder, ipam: object, cpath: str, name: str, net: dict[str, Any]) -> None:
    if not isinstance(ipam, dict):
        return
    if ipam.get("driver") not in (None, "default"):
        b.err(f"{cpath}.ipam.driver", f"IPAM driver {ipam.get('driver')!r}: netlab models Docker's default "
                                      "IPAM only")
    if ipam.get("options"):
        b.not_modelled("networks: ipam.options", cpath.split(".", 1)[1])
    config = ipam.get("config")
    entries: list[dict[str, Any]] = []
    for i, entry in enumerate(config if isinstance(config, list) else []):
        if not isinstance(entry, dict):
            continue
        picked = {k: entry[k] for k in IPAM_KEYS if k in entry}
        if picked:
            b.at(f"networks.{name}.ipam.config[{len(entries)}]", f"{cpath}.ipam.config[{i}]")
            entries.append(picked)
    if entries:
        net["ipam"] = {"config": entries}
        b.at(f"networks.{name}.ipam", f"{cpath}.ipam")
