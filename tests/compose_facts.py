"""What a Compose project built, as recorded from the real `docker compose` 2.40 on Docker
28.5 (tests/fixtures/compose/recorded/<file>.run<N>.json, written by
tests/integration/compose_oracle.py), and how two such records are compared: pure data, no
root, so that netlab's own side can be held against the records in unit tests.

Compose is not deterministic everywhere (tests/fixtures/compose/README.md has the runs):
which network takes which free subnet, the eth order of a container on several networks,
its creation order and so its address within one depends_on level, MACs and random IPv6
prefixes change from run to run. `comparable` splits a record into
- `exact`: every fact with each address, subnet, gateway and MAC replaced by who holds it
  (`<ipv4:CONTAINER@NETWORK>`, `<subnet0:NETWORK>`, ...): names, which network is primary and
  carries the default route, what each DNS name answers, /etc/hosts, the host's rules, the
  reachability matrix. Equal between any two runs.
- `permuted`: what only holds as a multiset: the subnets the project's networks took, each
  network's host parts (address minus subnet), each container's set of networks, the
  containers of each creation level.
- the values that are given in the file (explicit subnets, gateways, ip_range, addresses,
  MACs) stay in `exact` as they are: they never vary."""
from __future__ import annotations

import copy
import json
import re
from ipaddress import ip_address, ip_network
from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "compose"
RECORDED = FIXTURES / "recorded"


def runs(stem: str) -> list[dict]:
    """The recorded runs of one fixture, in run order."""
    paths = sorted(RECORDED.glob(f"{stem}.run*.json"), key=lambda p: int(p.stem.rsplit("run", 1)[1]))
    return [json.loads(p.read_text()) for p in paths]


def stems() -> list[str]:
    return sorted({p.name.split(".run")[0] for p in RECORDED.glob("*.run*.json")})


# -- who holds what --------------------------------------------------------------------

def fixture(facts: dict) -> dict:
    """The Compose file a record was made from."""
    return yaml.safe_load((FIXTURES / facts["file"]).read_text())


def _given(facts: dict) -> set[str]:
    """Values the Compose file sets itself (not the engine's choice): a network's subnets
    and what the engine derives from them (gateway, ip_range), fixed addresses and MACs."""
    doc = fixture(facts)
    out: set[str] = set()
    for key, net in (doc.get("networks") or {}).items():
        given = {str(cfg["subnet"]) for cfg in ((net or {}).get("ipam") or {}).get("config") or [] if "subnet" in cfg}
        for cfg in facts["networks"].get(key, {}).get("ipam") or []:
            if cfg.get("subnet") in given:
                out.update(v for f, v in cfg.items() if f in ("subnet", "gateway", "iprange") and v)
    for service in (doc.get("services") or {}).values():
        if service.get("mac_address"):
            out.add(str(service["mac_address"]))
        attached = service.get("networks")
        for attach in (attached.values() if isinstance(attached, dict) else []):
            for field in ("ipv4_address", "ipv6_address", "mac_address"):
                if (attach or {}).get(field):
                    out.add(str(attach[field]))
    return out


def symbols(facts: dict) -> dict[str, str]:
    """value -> who holds it: subnets, gateways, ip ranges, container addresses and MACs."""
    out: dict[str, str] = {}
    for key, net in facts["networks"].items():
        for i, cfg in enumerate(net.get("ipam") or []):
            for field in ("subnet", "gateway", "iprange"):
                if cfg.get(field):
                    out.setdefault(cfg[field], f"<{field}{i}:{key}>")
    for name, c in facts["containers"].items():
        for net, ep in c["endpoints"].items():
            for field in ("ipv4", "ipv6", "mac"):
                if ep.get(field):
                    out.setdefault(ep[field], f"<{field}:{name}@{net}>")
    return out


def _boundary(value: str) -> str:
    # an address is not a prefix of a longer one: 172.18.0.2 in 172.18.0.20, fd00::2 in
    # fd00::2a; an IPv4 address may be followed by its port (172.18.0.3:8000)
    if ":" in value:
        return r"(?<![0-9A-Za-z.:])" + re.escape(value) + r"(?![0-9A-Za-z:])"
    return r"(?<![0-9A-Za-z.:])" + re.escape(value) + r"(?![0-9A-Za-z]|\.\d)"


def replaced(value, table: dict[str, str]):
    """`value` (any JSON) with each key of `table` found in its strings replaced."""
    if not table:
        return copy.deepcopy(value)
    keys = sorted(table, key=len, reverse=True)
    pattern = re.compile("|".join(_boundary(k) for k in keys))

    return map_strings(value, lambda v: pattern.sub(lambda m: table[m.group(0)], v))


def map_strings(value, fn):
    """`value` (any JSON) with `fn` applied to every string in it, keys included."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {map_strings(k, fn): map_strings(v, fn) for k, v in value.items()}
    return value


def symbolic(facts: dict) -> dict:
    """The facts with every value the engine chose named by its holder; the values the file
    gives stay."""
    given = _given(facts)
    # a given value maps to itself, so that the longest match keeps it whole: ip_range
    # 10.42.5.0/24 stays, though 10.42.5.0 is a container's address
    table = {v: v if v in given else s for v, s in symbols(facts).items()}
    table.update({v: v for v in given})
    return replaced(facts, table)


# -- the split ---------------------------------------------------------------------------

def host_part(address: str, subnet: str) -> str:
    """172.19.0.3 in 172.19.0.0/16 -> "0.0.0.3"-like offset as an int, as text."""
    a, n = ip_address(address.split("/")[0]), ip_network(subnet, strict=False)
    return str(int(a) - int(n.network_address))


def _subnet_of(facts: dict, net: str, address: str) -> str | None:
    a = ip_address(address.split("/")[0])
    for cfg in facts["networks"].get(net, {}).get("ipam") or []:
        if cfg.get("subnet") and a in ip_network(cfg["subnet"], strict=False):
            return cfg["subnet"]
    return None


def levels(facts: dict) -> list[list[str]]:
    """The containers by depends_on level (services with no dependency first), from the
    com.docker.compose.depends_on labels."""
    service_of = {n: c["service"] for n, c in facts["containers"].items()}
    deps: dict[str, set[str]] = {}
    for c in facts["containers"].values():
        wanted = {d.split(":")[0] for d in c["depends_on"].split(",") if d}
        deps.setdefault(c["service"], set()).update(wanted)
    level: dict[str, int] = {}

    def depth(service: str, seen: tuple[str, ...] = ()) -> int:
        if service not in level:
            inner = [depth(d, (*seen, service)) for d in deps.get(service, ()) if d in deps and d not in seen]
            level[service] = 1 + max(inner, default=-1)
        return level[service]

    out: dict[int, list[str]] = {}
    for name in sorted(service_of):
        out.setdefault(depth(service_of[name]), []).append(name)
    return [out[k] for k in sorted(out)]


def comparable(facts: dict) -> dict:
    """{"exact": ..., "permuted": ...}: see the module's doc."""
    exact = symbolic(facts)
    given = _given(facts)
    permuted: dict = {"subnets": [], "host_parts": {}, "networks_of": {}, "levels": []}
    for net in facts["networks"].values():
        for cfg in net.get("ipam") or []:
            if cfg.get("subnet") and cfg["subnet"] not in given:
                family = 6 if ":" in cfg["subnet"] else 4
                # a random ULA /64 (IPv6 without a subnet) is the engine's each time afresh
                value = cfg["subnet"] if family == 4 else f"/{ip_network(cfg['subnet']).prefixlen}"
                permuted["subnets"].append(value)
        permuted["subnets"].sort()
    for name, c in facts["containers"].items():
        for net, ep in c["endpoints"].items():
            for family in ("ipv4", "ipv6"):
                if ep.get(family):
                    subnet = _subnet_of(facts, net, ep[family])
                    if subnet:
                        permuted["host_parts"].setdefault(f"{net}/{family}", []).append(host_part(ep[family], subnet))
        permuted["networks_of"][name] = sorted(i["network"] or "?" for i in c["interfaces"])
    for parts in permuted["host_parts"].values():
        parts.sort(key=int)
    permuted["levels"] = levels(facts)
    # what the permuted facts stand for leaves `exact`
    for c in exact["containers"].values():
        c.pop("created_rank", None)
        for i in c["interfaces"]:
            i.pop("ifname", None)
        c["interfaces"] = sorted(c["interfaces"], key=lambda i: json.dumps(i, sort_keys=True))
    exact.pop("creation_order", None)
    # Compose hands these over from Go maps: their order is the map's
    for c in exact["containers"].values():
        c["extra_hosts"] = sorted(c["extra_hosts"])
        c["depends_on"] = ",".join(sorted(c["depends_on"].split(",")))
    # round robin: a name with several holders answers them in any order
    for asked in exact["dns"].values():
        asked["answers"] = {n: sorted(a) for n, a in asked["answers"].items()}
    # networks are created in Compose's map order, and each network's rules go in as a block:
    # within a table the rules are a permutation of those blocks
    exact["iptables"] = rules_by_table(exact["iptables"])
    exact["ip6tables"] = rules_by_table(exact["ip6tables"])
    for c in exact["containers"].values():
        c["hosts"] = "\n".join(sorted(c["hosts"].splitlines()))
        c["resolv_conf"] = host_resolver_blanked(c["resolv_conf"])
    return {"exact": exact, "permuted": permuted}


def host_resolver_blanked(resolv_conf: str) -> str:
    """A container without the embedded DNS (the default bridge) gets the nameservers of
    the host's own resolv.conf: the machine's (or a lab's stand-in), not the project's."""
    if "(legacy)" not in resolv_conf:
        return resolv_conf
    return re.sub(r"(?m)^nameserver \S+$", "nameserver <the host's resolver>", resolv_conf)


def rules_by_table(save: list[str]) -> dict[str, list[str]]:
    """iptables-save lines as {table: its chain and rule lines, sorted}."""
    out: dict[str, list[str]] = {}
    table = ""
    for line in save:
        if line.startswith("*"):
            table = line[1:]
            out.setdefault(table, [])
        elif line != "COMMIT":
            out.setdefault(table, []).append(line)
    return {t: sorted(lines) for t, lines in out.items()}


def flatten(value, path: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{path}.{k}" if path else str(k)))
        return out
    return {path: value}


def differences(expected: dict, got: dict) -> list[str]:
    """Each fact that differs, by its path: expected (Compose) first."""
    a, b = flatten(comparable(expected)), flatten(comparable(got))
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            out.append(f"{key}: expected {a.get(key)!r}, got {b.get(key)!r}")
    return out


# facts of who made a record rather than of what was built: the Compose version, the
# oracle's substitutions (netlab runs the file unmodified), the lines of Compose's output
# with "warn" in them (none for these files; netlab's notes are its own wording)
RUN_FACTS = ("compose", "notes", "warnings")


def netlab_differences(recorded: dict, netlab: dict) -> list[str]:
    """`differences` between a Compose record and netlab's facts of the same file, which
    netlab reads unmodified: the oracle made every depends_on condition service_started."""
    netlab = copy.deepcopy(netlab)
    for c in netlab["containers"].values():
        c["depends_on"] = re.sub(r":service_(healthy|completed_successfully):", ":service_started:", c["depends_on"])
    return differences({k: v for k, v in recorded.items() if k not in RUN_FACTS},
                       {k: v for k, v in netlab.items() if k not in RUN_FACTS})


def varying(records: list[dict], view=lambda f: f) -> dict[str, list]:
    """path -> the value of each run, for every fact of `view(record)` not equal in all runs."""
    flat = [flatten(view(r)) for r in records]
    keys = sorted(set().union(*flat))
    return {k: [f.get(k) for f in flat] for k in keys if len({json.dumps(f.get(k), sort_keys=True) for f in flat}) > 1}


def main() -> int:
    """Print, per fixture, the raw facts that vary between its recorded runs and any
    difference left once they are compared as `comparable` does (there should be none)."""
    for stem in stems():
        records = runs(stem)
        raw = varying(records, lambda r: {k: v for k, v in r.items() if k not in ("iptables", "ip6tables")})
        print(f"== {stem}: {len(records)} runs, {len(raw)} raw facts vary")
        for key, values in raw.items():
            print(f"   {key}: {values}")
        for name in ("iptables", "ip6tables"):
            if len({json.dumps(r[name]) for r in records}) > 1:
                print(f"   {name}: the rules differ between runs")
        left = varying(records, comparable)
        print(f"   left after comparable: {len(left)}")
        for key, values in left.items():
            print(f"   !! {key}: {values}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
