"""A live trace, in one process: set up every source of evidence in every namespace of the
lab, send the probe, collect until the story is complete, take everything down again.

Set-up per namespace: one netlink socket that owns the nftrace table and hears its events
and conntrack's (the kernel drops an owner table when its socket closes, so not even a
`kill -9` leaves one), rule counters, and an AF_PACKET socket per interface — all opened
inside the namespace and ready before the probe leaves. Everything is closed in `finally`."""
from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import threading
import time
from dataclasses import dataclass, replace

from ..errors import KernelError, LabError
from ..kernel import netns, tracefs
from ..kernel.nfnetlink import Requester, messages, open_socket
from ..model.topology import Topology
from ..plan.plan import Plan
from . import capture, conntrack, counters, kdrops, nftrace
from .compare import compare
from .correlate import correlate
from .evidence import ARP_REPLY, ARP_REQUEST, Evidence, Frame, Snapshot, is_ip, neighbour_request
from .model import DELIVERED, REPLY, REQUEST, Trace
from .nft_model import NftRuleset
from .predict import predict_probe, with_resolution
from .resolve_live import first_resolve
from .signature import Signature
from .target import Probe, TraceError, resolve
from .wiring import Wiring, from_plan

TIMEOUT = 1.0           # for a probe nothing answers and no rule drops
SETTLE = 0.01           # after the story is complete: stragglers from other namespaces
ARP_PATIENCE = 0.15     # an ARP request (NDP solicitation) unanswered this long: no neighbour will answer
QUIET = 0.1             # after the hop where the request was predicted to stop
TICK = 0.02             # the collection loop looks at the clock at least this often


@dataclass
class _Netns:
    name: str
    sock: socket.socket
    req: Requester
    ifnames: dict[int, str]
    table: bool = False


def check_can_trace(pcap: str | None = None) -> None:
    """What a live trace needs before anything is read: root, and a writable --pcap
    directory. Starts scapy's import in the background too."""
    if os.geteuid() != 0:
        raise LabError("a live trace needs root (it listens inside the lab's namespaces); "
                       "`netlab trace FILE SRC DST --predict` needs none")
    capture.warm()
    if pcap and not os.access(os.path.dirname(os.path.abspath(pcap)), os.W_OK):
        raise TraceError(f"--pcap {pcap}: its directory is missing or not writable")


def trace(topo: Topology, plan: Plan, flavour: str, src: str, dst: str, proto: str | None = None,
          port: int | None = None, pcap: str | None = None, timeout: float = TIMEOUT, ttl: int = 64,
          family: int | None = None, by_name: bool = True) -> Trace:
    """Trace one probe from SRC to DST in the live lab built from TOPO and PLAN (with the
    iptables backend FLAVOUR); the prediction rides along. The app layer reads these from
    the lab's state (netlab.app.tracing.live_trace). `by_name` (the default): DST's name is
    first resolved from SRC's namespace for real, and the probe goes to the answer; a name
    that does not resolve is the outcome, and nothing is sent. False: the lab's own view."""
    check_can_trace(pcap)
    wiring = from_plan(topo, plan)
    named = first_resolve(topo, plan, wiring, src, dst, (proto, port, family), by_name)
    if named.unresolved is not None:
        unsent = (f"no probe was sent, so --pcap {pcap} was not written",) if pcap else ()
        return replace(named.unresolved, notes=named.unresolved.notes + unsent)
    probe = resolve(topo, wiring, src, dst, proto, port, family, dst_ip=named.address)
    sig = replace(Signature.fresh(probe.proto, probe.family), ttl=ttl)     # `ttl`: below 64, to run out
    predicted = with_resolution(predict_probe(topo, plan, wiring, probe, sig.key, sig.ip_id, sig.ttl), named.step,
                                probe,
                                by_name)
    session = Session(wiring, probe, sig, flavour, predicted)
    try:
        evidence = session.run(timeout)
    except BaseException:
        with contextlib.suppress(KernelError):      # the first error is the one to tell
            session.removed()
        raise
    try:
        return named.on(_observed(evidence, wiring, predicted, flavour, pcap), flavour)
    finally:
        session.removed()


def _observed(evidence: Evidence, wiring: Wiring, predicted: Trace, flavour: str, pcap: str | None) -> Trace:
    observed = correlate(evidence, wiring, predicted)
    if any(h.packet.outer is not None for h in observed.hops):
        observed = replace(observed, notes=observed.notes + (
            "the NAT chains of VXLAN outer packets are not compared: they run once per VTEP-to-VTEP "
            "UDP flow, and that flow may be older than this trace",))
    if pcap:
        try:
            capture.write_pcapng(pcap, _pcap_frames(evidence, observed))
        except OSError as e:
            raise TraceError(f"--pcap {pcap}: {e.strerror or e}") from None
    nftrace_sees = flavour != "legacy"
    if not nftrace_sees:
        observed = replace(observed, notes=observed.notes + (
            "iptables-legacy: nftrace cannot see these rules; the rules shown are counter deltas "
            "(unordered, every packet of the exchange) and are not compared with the prediction",))
    return replace(observed, predicted=predicted, differences=tuple(compare(predicted, observed, nftrace_sees)))


class Session:
    def __init__(self, wiring: Wiring, probe: Probe, sig: Signature, flavour: str = "nft",
                 predicted: Trace | None = None) -> None:
        self.wiring, self.probe, self.sig, self.flavour = wiring, probe, sig, flavour
        # where the prediction says a request that gets no answer stops: once seen there,
        # a short quiet is enough (a drop no rule names would otherwise wait the timeout)
        last = predicted.leg(REQUEST)[-1] if predicted and predicted.leg(REQUEST) else None
        self.stops_at = (last.netns, last.ifname, last.direction == "out") \
            if last and predicted.outcome.status != DELIVERED else None
        self.stopped: float | None = None
        # where the probe's own neighbour lookups can happen: an unanswered one elsewhere is
        # another packet's (a namespace still retrying for an earlier trace's probe)
        self.path = {probe.netns} | ({h.netns for h in predicted.hops} if predicted else set())
        self.solicited = _next_hops(wiring, probe, predicted) if probe.family == 6 else ()
        self.spaces: dict[socket.socket, _Netns] = {}
        self.capture = capture.Capture()
        self.table = nftrace.table_name()
        self.evidence = Evidence(probe=probe, signature=sig, table=self.table, flavour=flavour)
        self.before: dict[str, Snapshot] = {}
        self.order = 0
        self.checked = 0                        # frames already looked at for the reply
        self.sender: socket.socket | None = None
        self.done_at: float | None = None
        self.kernel: tracefs.Instance | None = None
        self.removing: threading.Thread | None = None     # the tracefs instance's removal
        self.remove_problem: str | None = None

    def run(self, timeout: float) -> Evidence:
        try:
            self.setup()
            if self.kernel is not None:
                self.kernel.mark(kdrops.SENT)
            self.send()
            self.collect(timeout)
            self.read_kernel()
            self.count_after()
            self.read_native_rules()
        finally:
            self.close()
        self.evidence.frames = [(f, capture.dissect(f) if is_ip(f) else None) for f in self.capture.frames]
        return self.evidence

    # ---- set-up and take-down ---------------------------------------------------------
    def setup(self) -> None:
        # the tracefs instance is made meanwhile: its kernel work (a private mount, ring
        # buffers, tracepoints) waits on the kernel more than on this process
        opening = threading.Thread(target=self.open_kernel, name="netlab-tracefs")
        opening.start()
        try:
            self.setup_namespaces()
        finally:
            opening.join()

    def setup_namespaces(self) -> None:
        names = [ns for ns in self.wiring.spaces if netns.exists(ns)]
        if self.probe.netns not in names:
            raise LabError(f"netns {self.probe.netns} is missing: is lab {self.wiring.lab!r} fully up?")
        for ns in names:
            sock = open_socket(ns, conntrack.GROUPS + (nftrace.NFNLGRP_NFTRACE,))
            with netns.entered(ns):
                index = dict(socket.if_nameindex())
            space = _Netns(ns, sock, Requester(sock, ns), index)
            self.spaces[sock] = space
            nftrace.install(space.req, self.sig, self.table, self.solicited)
            space.table = True
            self.evidence.traced.add(ns)
            if self.wiring.spaces[ns].rules or self.wiring.spaces[ns].rules_for(6):
                self.snapshot(space, before=True)
            self.capture.open(ns, index, loopback=ns == self.probe.netns == self.probe.dst_netns)
        self.evidence.ifnames = {s.name: s.ifnames for s in self.spaces.values()}

    def open_kernel(self) -> None:
        """A private tracefs instance recording the kernel's drops, route lookups and
        device events (kdrops.EVENTS); without tracefs the trace goes on and says so."""
        try:
            self.kernel = tracefs.Instance()
            if not self.kernel.has(kdrops.EVENTS[0]):
                raise KernelError(f"this kernel has no {kdrops.EVENTS[0]} event")
            for event in kdrops.EVENTS:
                if self.kernel.has(event):
                    condition = kdrops.drop_filter(self.kernel.format(event), self.probe.family) \
                        if event == "skb/kfree_skb" else ""
                    self.kernel.enable(event, condition)
            self.kernel.start()
        except Exception as e:     # noqa: BLE001  (in a thread: whatever it is, the trace goes on without)
            self.evidence.kernel_missing = f"tracefs: {e}"
            if self.kernel is not None:
                self.kernel.close()
                self.kernel = None

    def read_kernel(self) -> None:
        if self.kernel is not None:
            self.kernel.mark(kdrops.DONE)
            self.evidence.kernel = self.kernel.read()

    def snapshot(self, space: _Netns, before: bool) -> None:
        """Rule handles of both families (a VXLAN outer header of an IPv6 probe may be
        IPv4), counters of the probe's family (where the legacy backend needs them)."""
        family = self.probe.family
        if self.flavour == "legacy":
            snap = counters.legacy_snapshot(space.name, family)
        else:
            snap = {}
            for fam, refs_of in ((4, self.evidence.rule_refs), (6, self.evidence.rule_refs6)):
                if fam != family and not before:
                    continue
                refs, policies = nftrace.dump_rules(space.req, fam)
                if before:
                    refs_of[space.name] = refs
                if fam == family:
                    snap = counters.nft_snapshot(refs, policies)
        if before:
            self.before[space.name] = snap
        else:
            self.evidence.counters[space.name] = counters.delta(self.before.get(space.name, {}), snap)

    def read_native_rules(self) -> None:
        """The text of the native nftables rules the probe met (`nft -a list table`, one
        process per table named in an event, read after the probe: handles do not change)."""
        met = {(e.netns, nftrace.FAMILY_NAMES.get(e.family, ""), e.table) for e in self.evidence.events
               if not e.table.startswith(nftrace.TABLE_PREFIX)}
        for ns in sorted({ns for ns, _, _ in met}):
            planned = self.wiring.spaces[ns].nft
            if planned is not None:
                tables = tuple(t for t in planned.tables if (ns, t.family, t.name) in met)
                self.evidence.nft[ns] = nftrace.native_rules(ns, NftRuleset(tables))

    def count_after(self) -> None:
        for space in self.spaces.values():
            if space.name in self.before:
                self.snapshot(space, before=False)

    def close(self) -> None:
        """Every table removed and every socket closed, whatever happened before."""
        problems = []
        if self.sender is not None:
            self.sender.close()
        if self.kernel is not None:
            # removing an instance waits for the kernel (RCU grace periods): done meanwhile,
            # awaited by removed()
            self.removing = threading.Thread(target=self._remove_kernel, args=(self.kernel,),
                                             name="netlab-tracefs-remove")
            self.kernel = None
            self.removing.start()
        for space in self.spaces.values():
            try:
                if space.table:
                    nftrace.remove(space.req, self.table)
            except (KernelError, OSError) as e:
                problems.append(str(e))     # the socket's close below removes it anyway
        closers = [s.sock.close for s in self.spaces.values()] + [r.close for r in self.capture.rings.values()]
        self.spaces.clear()
        self.capture.rings.clear()
        capture.close_all(closers)
        if problems:
            raise KernelError("removing the trace tables: " + "; ".join(problems))

    def _remove_kernel(self, kernel: tracefs.Instance) -> None:
        try:
            kernel.close()
        except Exception as e:     # noqa: BLE001  (in a thread: told by removed())
            self.remove_problem = str(e)

    def removed(self) -> None:
        """Wait for the tracefs instance's removal (run() starts it when it closes)."""
        if self.removing is not None:
            self.removing.join()
            self.removing = None
        if self.remove_problem is not None:
            raise KernelError(f"removing the tracefs instance: {self.remove_problem}")

    # ---- the probe ---------------------------------------------------------------------
    def send(self) -> None:
        p, sig = self.probe, self.sig
        if p.src_ip is None:
            self.evidence.send_error = errno.ENETUNREACH
            return
        if p.proto == "tcp":
            with netns.entered(p.netns):
                sock = socket.socket(socket.AF_INET6 if p.family == 6 else socket.AF_INET, socket.SOCK_STREAM)
            self.sender = sock
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if p.family == 6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, sig.ttl)
            else:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, sig.ttl)
            try:
                sock.bind((str(p.src_ip), sig.key))
                code = sock.connect_ex((str(p.dst_ip), p.dport))
            except OSError as e:
                code = e.errno
            if code not in (0, errno.EINPROGRESS):
                self.evidence.send_error = code
            return
        packet = capture.craft(p.proto, str(p.src_ip), str(p.dst_ip), sig.key, sig.ip_id, p.dport, sig.flow_label,
                               sig.ttl)
        self.sender = capture.raw_sender(p.netns, p.family)
        try:
            self.sender.sendto(packet, (str(p.dst_ip), 0))
        except OSError as e:
            self.evidence.send_error = e.errno

    # ---- collection --------------------------------------------------------------------
    def collect(self, timeout: float) -> None:
        start = time.monotonic()
        deadline = start + timeout
        if self.evidence.send_error is not None:
            deadline = start + SETTLE
        watched = list(self.spaces) + list(self.capture.sockets)
        while True:
            now = time.monotonic()
            end = min(deadline, self.done_at or deadline)
            if now >= end:
                break
            writers = [self.sender] if self.probe.proto == "tcp" and self.sender and not self.evidence.connect else []
            readable, writable, _ = select.select(watched, writers, [], min(end - now, TICK))
            for sock in readable:
                if sock in self.spaces:
                    self.read_netlink(self.spaces[sock])
                else:
                    self.capture.drain(sock)
            if writable:
                self.connected()
            if self.done_at is None and self.complete(time.monotonic()):
                self.done_at = time.monotonic() + SETTLE
        for sock in watched:
            if sock in self.spaces:
                self.read_netlink(self.spaces[sock])
            else:
                self.capture.drain(sock)

    def read_netlink(self, space: _Netns) -> None:
        backlog, space.req.pending = space.req.pending, []
        while True:
            if backlog:
                data = backlog.pop(0)
            else:
                try:
                    data = space.sock.recv(1 << 20, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    return
                except OSError as e:
                    if e.errno == errno.ENOBUFS:
                        raise KernelError(f"{space.name}: netlink events overflowed; the lab is too busy "
                                          "to trace one packet") from None
                    raise
            for kind, flags, _, family, body in messages(data):
                self.order += 1
                if nftrace.is_trace(kind):
                    self.evidence.events.append(nftrace.decode(space.name, self.order, family, body))
                elif conntrack.is_conntrack(kind):
                    event = conntrack.decode(space.name, self.order, flags, body)
                    if event is not None and self.sig.key in (event.orig.sport, event.orig.dport):
                        self.evidence.conntrack.append(event)

    def connected(self) -> None:
        code = self.sender.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self.evidence.connect = "SA" if code == 0 else ("RA" if code == errno.ECONNREFUSED
                                                        else errno.errorcode.get(code, str(code)))

    def complete(self, now: float) -> bool:
        """Nothing more to wait for: the reply is back, a rule dropped it, or ARP (NDP) gave up."""
        if self.evidence.connect is not None:
            return True
        if any(e.verdict == "drop" and not e.table.startswith(nftrace.TABLE_PREFIX) for e in self.evidence.events):
            return True
        src = self.probe.netns
        new, self.checked = self.capture.frames[self.checked:], len(self.capture.frames)
        for frame in new:
            if frame.netns == src and not frame.outgoing and is_ip(frame):
                view = capture.dissect(frame)
                if view is not None and self.sig.leg(view) == REPLY:
                    return True
            if self.stopped is None and (frame.netns, frame.ifname, frame.outgoing) == self.stops_at:
                self.stopped = now
        if self.stopped is not None and now - self.stopped > QUIET:
            return True
        return self._arp_gave_up()

    def _arp_gave_up(self) -> bool:
        """An ARP request, or an NDP neighbour solicitation, sent on the probe's path, that
        nothing answered."""
        asked: dict[str, int] = {}
        answered = set()
        for f in self.capture.frames:
            found = neighbour_request(f)
            if found is None:
                continue
            sender, target, op = found
            if op == ARP_REQUEST and f.outgoing and f.netns in self.path:
                asked.setdefault(target, f.time_ns)
            elif op == ARP_REPLY:
                answered.add(sender)
        now = time.time_ns()
        return any(target not in answered and now - t > ARP_PATIENCE * 1e9 for target, t in asked.items())


def _next_hops(wiring: Wiring, probe: Probe, predicted: Trace | None) -> tuple[str, ...]:
    """The IPv6 addresses the probe's request may need a neighbour lookup for: its
    destination (before and after a DNAT), and the gateway each namespace on its predicted
    path routes it to."""
    found = {str(probe.dst_ip)}
    request = predicted.leg(REQUEST) if predicted else ()
    found |= {h.packet.dst for h in request if ":" in h.packet.dst}
    for ns in {probe.netns} | {h.netns for h in request}:
        if ns in wiring.spaces:
            route = wiring.spaces[ns].route(probe.dst_ip)
            if route.gateway is not None and route.gateway.version == 6:
                found.add(str(route.gateway))
    return tuple(sorted(found))


def _pcap_frames(ev: Evidence, trace: Trace) -> list[tuple[Frame, str]]:
    """The probe's copies (and its reply's), in time order, each with its story as a JSON
    comment (pcap_story.py)."""
    from .pcap_story import pcap_frames
    return pcap_frames(ev, trace)
