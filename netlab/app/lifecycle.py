"""Bring a lab up, change it, take it down: the API behind `netlab up/down/ls`.

Order of an `up`: load and validate (nothing touched on error), plan, take the lab's lock,
observe, diff, record the intent in the state file, apply, record completion, then let the
agent (re)load. A `down` needs only the lab's name: state file plus ownership marks."""
from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..agent import control as agent
from ..errors import KernelError, LabError, TopologyError
from ..kernel import netns, processes, requirements, uts
from ..kernel.apply import Executor, firewall_prints, observe, remove_etc
from ..kernel.firewall import FirewallBackend, default_name
from ..kernel.firewall import backend as firewall_backend
from ..kernel.observe import read_netns
from ..kernel.system import Kernel
from ..model import Topology, naming
from ..model.source import parse_file
from ..plan.diff import Change, diff
from ..plan.items import Address, Firewall, Netns, NftRuleset, Uts
from ..plan.plan import Plan
from ..plan.planner import build_plan
from . import compose_labs, inplace, state
from .state import SNAPSHOT, snapshot_topology  # noqa: F401 (part of this module's API, as the README shows)

# Crash-safety tests set this to die by SIGKILL just before the N-th change of an `up`.
CRASH_HOOK = "NETLAB_KILL_BEFORE_STEP"


@dataclass
class UpResult:
    lab: str
    changes: list[Change]
    notes: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("netlab needs root to make network namespaces; run it with sudo")


def require_tools(backend: FirewallBackend, plan: Plan | None = None) -> None:
    """The programs the lab's rule sets are written with (kernel/requirements.py, the list
    `doctor` probes too): the backend's iptables, its ip6tables when an engine writes IPv6
    rules, nft for an engine's native nftables tables. Checked before anything is made."""
    items = list(plan.items) if plan else []
    families = {i.family for i in items if isinstance(i, Firewall) and i.text}
    native = [i for i in items if isinstance(i, NftRuleset)]
    spaces = [i for i in items if isinstance(i, Uts)]
    for need in requirements.missing(requirements.needed(backend.requires, families, bool(native), bool(spaces))):
        users = {"nftables": "the nftables tables of " + ", ".join(sorted({i.netns for i in native})),
                 "util-linux": "the containers' UTS namespaces (their hostnames)",
                 "ip6tables-nft": "ip6tables rules", "ip6tables-legacy": "ip6tables rules"}.get(need.name)
        why = f" for {users}" if users else ""
        raise KernelError(f"`{need.tool}` is not installed: netlab needs it{why} (apt-get install "
                          f"{need.package}). Nothing was created.")


def firewall_flavour(asked: str | None = None) -> str:
    """The backend asked for, else the one `iptables` itself uses here (nft on Debian 12),
    so that people see the lab's rules with the plain `iptables-save`."""
    if asked is not None:
        firewall_backend(asked)      # an unknown name is refused here, before anything is made
        return asked
    return default_name()


def require_kernel(plan: Plan) -> None:
    """Links of a kind this kernel cannot make, native nftables tables on a kernel without
    nf_tables, and IPv6 addresses with IPv6 off, fail here, before anything is made."""
    from ..kernel.features import LINK_FEATURES, ipv6_missing, missing_link_kinds, nf_tables_missing
    v6 = sorted({i.netns for i in plan.of(Address) if ":" in i.cidr})
    if v6:
        why = ipv6_missing()
        if why:
            raise KernelError(f"IPv6 is off: {why}. The lab's IPv6 networks need it in {', '.join(v6)} "
                              "(sysctl -w net.ipv6.conf.all.disable_ipv6=0 turns it on). Nothing was created.")
    native = plan.of(NftRuleset)
    if native:
        why = nf_tables_missing()
        if why:
            raise KernelError(f"the kernel has no nf_tables ({why}): the lab needs it for the nftables tables "
                              f"of {', '.join(sorted({i.netns for i in native}))} (an engine with "
                              "firewall-backend nftables). Nothing was created.")
    missing = missing_link_kinds({i.kind for i in plan.items})
    if not missing:
        return
    kind, why = sorted(missing.items())[0]
    users = "; ".join(i.describe() for i in plan.items if i.kind == kind)
    hint = (" (a macvlan parent named <interface>.<vlan id> is made as an 802.1q link, as Docker does; "
            "use a parent without a VLAN id)") if kind == "vlan" else ""
    raise KernelError(f"the kernel has no {LINK_FEATURES[kind]}: {why}. The lab needs it for: {users}"
                      f"{hint}. Nothing was created.")


def up(path: str, say=print, firewall: str | None = None, host: str | None = None,
       in_place: bool = False, engine: str | None = None, project: str | None = None,
       profiles: tuple[str, ...] = (), more: tuple[str, ...] = ()) -> UpResult:
    """Build or converge the lab of `path` (a lab file or a Compose file, whose project name
    `project` overrides and whose `profiles` are enabled; `more`: Compose files merged over it);
    `firewall`: nft | legacy (default: the machine's);
    `host`: only that host's part (or `outside`'s); `in_place`: that part in this namespace;
    `engine`: the Docker engine every host runs, whatever the file says."""
    require_root()
    loaded = compose_labs.load(path, engine, project, profiles, more)
    topo = loaded.topology
    plan = build_plan(topo)
    if host is not None or in_place:
        plan = inplace.part(topo, plan, host, in_place)
    flavour = firewall_flavour(firewall)
    require_tools(firewall_backend(flavour), plan)
    require_kernel(plan)
    with open(path, "rb") as f:
        text = f.read()
    if loaded.lab_text is not None:     # a Compose file: its lab is kept as the lab file it means
        text = loaded.lab_text.encode()
    with state.locked(topo.name, say=say):
        if loaded.project is not None and state.load(topo.name) is None:
            compose_labs.remember(topo.name, loaded.project)    # first: a crashed `up` stays findable
        result = _up_locked(topo, plan, os.path.abspath(path), text, flavour, engine)
        if loaded.project is not None:
            compose_labs.remember(topo.name, loaded.project)
            result.notes = list(loaded.notes) + result.notes
    return result


def _up_locked(topo: Topology, plan: Plan, path: str, text: bytes, flavour: str,
               engine: str | None = None) -> UpResult:
    prev = state.load(topo.name)
    if prev is not None and not _same_file(prev.file, path):
        raise LabError(f"lab {topo.name!r} is already up from {prev.file}; take it down first "
                       f"(`netlab down {topo.name}`) or give this lab another name")
    if prev is not None and prev.firewall != flavour:
        raise LabError(f"lab {topo.name!r} runs with the {prev.firewall} iptables backend; take it "
                       f"down first to switch to {flavour}")
    if prev is not None and inplace.adopted(prev.plan) != inplace.adopted(plan):
        part = ", ".join(inplace.adopted(prev.plan)) or "not in place"
        raise LabError(f"lab {topo.name!r} is up here as another part ({part}); "
                       f"take it down first (`netlab down {topo.name}`)")
    with Kernel(firewall_backend(flavour)) as kernel:
        seen = observe(kernel, plan, prev.plan if prev else None, agent.observed(topo.name),
                       prev.prints if prev and prev.complete else None)
        if seen.foreign:
            ns, why = next(iter(seen.foreign.items()))
            raise LabError(f"netns {ns} exists but is not lab {topo.name!r}'s ({why}); remove it "
                           f"(`ip netns del {ns}`) or give this lab another name")
        changes = diff(plan, prev.plan if prev else None, seen)
        # nothing to do and nothing new to record: a no-op `up` writes nothing at all
        settled = not changes and prev is not None and prev.complete and prev.plan.items == plan.items
        if not settled:
            intent = _merge(prev.plan, plan) if prev else plan
            state.LabState(lab=topo.name, file=path, plan=intent, complete=False, firewall=flavour,
                           engine=engine).save()
            inplace.remember(topo.name, plan, flavour)     # --in-place: what the VM had before
            executor = Executor(kernel, topo.name, prev.plan if prev else None)
            crash_at = int(os.environ.get(CRASH_HOOK, "-1"))
            executor.run_all(changes, lambda step: step == crash_at and os.kill(os.getpid(), signal.SIGKILL))
    _write_snapshot(topo.name, text)
    if not settled:
        rewritten = {c.item.netns for c in changes if isinstance(c.item, (Firewall, NftRuleset))}
        reuse = {ns: fp for ns, fp in seen.firewall_prints.items() if ns not in rewritten}
        state.LabState(lab=topo.name, file=path, plan=plan, complete=True, firewall=flavour, engine=engine,
                       prints=firewall_prints(kernel, plan, reuse)).save()
    if not settled or agent.pid(topo.name) is None:
        agent.ensure(topo.name)
    return UpResult(topo.name, changes, plan.notes)


def _write_snapshot(lab: str, text: bytes) -> None:
    path = f"{state.lab_dir(lab)}/{SNAPSHOT}"
    try:
        with open(path, "rb") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "wb") as f:
        f.write(text)


def _merge(old: Plan, new: Plan) -> Plan:
    """What may exist while an `up` runs: the old plan's items and the new ones."""
    merged = Plan(new.lab, notes=list(new.notes))
    for item in new.items:
        merged.add(item)
    for item in old.items:
        if merged.get(item.key) is None:
            merged.add(item)
    return merged


def drift(lab: str) -> list[Change]:
    """What differs between the lab as last built and the kernel now (`verify` prints it,
    `up` repairs exactly that)."""
    require_root()
    st = state.load(lab)
    if st is None:
        raise state.not_up(lab)
    with Kernel(firewall_backend(st.firewall)) as kernel:
        seen = observe(kernel, st.plan, st.plan, agent.observed(lab), st.prints if st.complete else None)
    return diff(st.plan, st.plan, seen)


def _same_file(recorded: str, path: str) -> bool:
    """The lab's own file, under another name (a symlink) or moved since (the recorded one is
    gone); another existing file that happens to use the same lab name is refused."""
    return (recorded == path or not os.path.exists(recorded)
            or os.path.realpath(recorded) == os.path.realpath(path))


def lab_name(file_or_lab: str) -> str:
    """For `down`, which needs only the name: a file that no longer validates (edited since
    `up`) still names its lab when its `name:` is readable."""
    if os.path.isfile(file_or_lab):
        try:
            return compose_labs.load(file_or_lab).topology.name
        except TopologyError:
            try:
                name = parse_file(file_or_lab).data.get("name")
            except (TopologyError, AttributeError):
                name = None
            if isinstance(name, str) and naming.LAB_NAME.match(name):
                return name
            raise
    lab = compose_labs.lab_of(file_or_lab)      # a Compose project's name: its lab
    if not naming.LAB_NAME.match(lab):
        raise LabError(f"{file_or_lab!r} is neither a lab file nor a lab name")
    return lab


def down(file_or_lab: str, say=print, host: str | None = None, in_place: bool = False) -> list[str]:
    """Remove everything the lab owns; returns the namespaces removed. `host` / `in_place`
    state what `up --host H [--in-place]` built here, and are checked against the record."""
    require_root()
    lab = lab_name(file_or_lab)
    with state.locked(lab, say=say):
        agent.stop(lab)
        try:
            st = state.load(lab)
        except state.UnreadableState as e:
            say(f"lab {lab!r}: its state file is unreadable ({e.why}); removing what carries "
                f"the mark {naming.owner_mark(lab)!r}")
            st = None
        if host is not None or in_place:
            _check_part(lab, st, host, in_place)
        names = {i.name for i in st.plan.of(Netns)} if st else set()
        mark = naming.owner_mark(lab)
        for ns in netns.listed():
            if ns.startswith(f"{lab}-") and ns not in names and _mark_of(ns) == mark:
                names.add(ns)
        adopted = inplace.check_release(st.plan if st else None)    # --in-place: not ours
        for ns in names - set(adopted):
            netns.clear_stale(ns)      # a pin file whose mount a kill -9 interrupted
        present = sorted(n for n in names if netns.exists(n) and n not in adopted)
        processes.kill_in(present)
        for ns in present:
            netns.delete(ns)
        uts.remove_lab(lab)         # the containers' UTS pins, by name: they carry no mark
        if adopted:
            inplace.release(lab, st.plan, adopted, st.firewall)
            present += adopted
        # each rmdir waits on the filesystem's journal (~3 ms here); many at once overlap
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(remove_etc, names))
    state.remove(lab)
    return present


def _check_part(lab: str, st: state.LabState | None, host: str | None, in_place: bool) -> None:
    """`down --host H` removes what `up --host H` built: refused when this machine holds more
    (or other) parts of the lab than H, rather than removing them all or only some."""
    if st is None:
        return
    built = sorted(i.name[len(lab) + 1:] for i in st.plan.of(Netns) if i.role in ("host", "outside"))
    # a host's part brings the lab's `outside` along unless outside is a machine of its own
    if host is not None and [h for h in built if h != "outside"] != ([] if host == "outside" else [host]):
        raise LabError(f"lab {lab!r} holds {', '.join(built) or 'no host'} here, not only {host!r}: "
                       f"`down --host {host}` takes down what `up --host {host}` built; "
                       f"`netlab down {lab}` removes the whole lab")
    if in_place and not any(i.adopted for i in st.plan.of(Netns)):
        raise LabError(f"lab {lab!r} was not built with --in-place here; `netlab down {lab}` removes it")


def _mark_of(ns: str) -> str | None:
    try:
        return read_netns(ns).marked
    except (OSError, KernelError):
        return None


@dataclass(kw_only=True)
class LabInfo:
    name: str
    file: str
    complete: bool
    containers: int
    namespaces: int
    agent: bool
    readable: bool = True       # false: its state file is damaged (`down` still removes it)


def ls() -> list[LabInfo]:
    out = []
    for lab in state.labs():
        try:
            st = state.load(lab)
        except state.UnreadableState:
            out.append(LabInfo(name=lab, file="?", complete=False, containers=0,
                               namespaces=sum(1 for n in netns.listed() if n.startswith(f"{lab}-")),
                               agent=agent.pid(lab) is not None, readable=False))
            continue
        if st is None:
            continue
        ns = [i.name for i in st.plan.of(Netns)]
        out.append(LabInfo(name=lab, file=st.file, complete=st.complete,
                           containers=sum(1 for i in st.plan.of(Netns) if i.role == "container"),
                           namespaces=sum(1 for n in ns if netns.exists(n)), agent=agent.pid(lab) is not None))
    return out
