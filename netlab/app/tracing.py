"""Traces as the CLI and notebooks ask for them: a live trace of a lab that is up here (its
topology, plan and iptables backend read from the lab's state), or a prediction from a file
or from a lab's snapshot. The one place that decides between them (`for_target`)."""
from __future__ import annotations

import os
from dataclasses import replace

from ..trace.model import Trace
from . import compose_labs, state

__all__ = ["for_target", "live_trace"]


def live_trace(lab: str, src: str, dst: str, proto: str | None = None, port: int | None = None,
               pcap: str | None = None, timeout: float | None = None, family: int | None = None,
               by_name: bool = True, ttl: int = 64) -> Trace:
    """Inject one probe in the live lab LAB and report what happened, beside the prediction;
    `family` 6 traces to a name's IPv6 address (an IPv6 DST needs none); `by_name` (the
    default): DST's name is resolved from SRC for real first (no probe when it does not
    resolve); False: DST as the lab knows it (`--no-resolve`)."""
    from ..trace import session
    session.check_can_trace(pcap)       # root first: before the lab's state is read
    st = state.load(lab)
    if st is None:
        raise state.not_up(lab)
    topo = state.snapshot_topology(lab)
    t = session.trace(topo, st.plan, st.firewall, src, dst, proto=proto,
                      port=port, pcap=pcap, timeout=session.TIMEOUT if timeout is None else timeout,
                      family=family, by_name=by_name, ttl=ttl)
    return replace(t, project=topo.project)     # the observation is made from the kernel's names


def for_target(target: str, src: str, dst: str, proto: str | None = None, port: int | None = None,
               predict: bool = False, pcap: str | None = None, family: int | None = None,
               by_name: bool = True, ttl: int = 64) -> Trace:
    """TARGET as the CLI takes it. With `predict`: a FILE (no root) or a LAB's snapshot,
    walked from the plan. Without: the live LAB (or the lab a FILE names) is traced.
    `by_name`, `ttl` (the probe's TTL / hop limit): as live_trace's."""
    from ..trace.predict import predict_trace
    if predict:
        if pcap:
            from ..trace.target import TraceError
            raise TraceError("--pcap needs a live trace: a prediction captures nothing")
        if os.path.isfile(target):       # a lab file or a Compose file
            return predict_trace(compose_labs.load(target).topology, src, dst, proto=proto, port=port,
                                 family=family, by_name=by_name, ttl=ttl)
        return predict_trace(state.snapshot_topology(compose_labs.lab_of(target)), src, dst, proto=proto,
                             port=port, family=family, by_name=by_name, ttl=ttl)
    target = compose_labs.load(target).topology.name if os.path.isfile(target) else compose_labs.lab_of(target)
    return live_trace(target, src, dst, proto=proto, port=port, pcap=pcap, family=family, by_name=by_name,
                      ttl=ttl)
