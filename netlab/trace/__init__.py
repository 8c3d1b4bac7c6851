"""The traffic tracer: one packet's hops, rules and address rewrites, observed in a live lab
and predicted from the plan.

    from netlab.trace import trace, predict_trace
    t = trace("demo", "a1", "203.0.113.10")                  # live (root): observed + predicted
    p = predict_trace("topologies/demo.yaml", "a1", "web")    # from the file alone, no root
    t.hops, t.rules, t.nat, t.outcome, t.differences, t.to_dict()

(`netlab.trace.predict` is the module that walks the plan; the function is `predict_trace`.)
"""
from .model import Difference, Hop, NatRewrite, Outcome, PacketView, RuleHit, Trace

__all__ = ["Difference", "Hop", "NatRewrite", "Outcome", "PacketView", "RuleHit", "Trace",
           "predict_trace", "trace"]


def trace(lab: str, src: str, dst: str, **kw) -> Trace:
    """Inject one probe in a live lab and report what happened, beside the prediction."""
    from .capture import warm
    warm()      # scapy's import (a third of a second) overlaps the rest of the set-up
    from .session import trace as run
    return run(lab, src, dst, **kw)


def predict_trace(file_or_topology, src: str, dst: str, **kw) -> Trace:
    """Walk the plan alone (no root, no kernel): the path the probe should take."""
    from .predict import predict_trace as walk
    return walk(file_or_topology, src, dst, **kw)


def for_target(target: str, src: str, dst: str, proto: str | None = None, port: int | None = None,
               predict: bool = False, pcap: str | None = None) -> Trace:
    """TARGET as the CLI takes it. With `predict`: a FILE (no root) or a LAB's snapshot,
    walked from the plan. Without: the live LAB (or the lab a FILE names) is traced."""
    import os
    if predict:
        if pcap:
            from .target import TraceError
            raise TraceError("--pcap needs a live trace: a prediction captures nothing")
        if os.path.isfile(target):
            return predict_trace(target, src, dst, proto=proto, port=port)
        from ..app.state import snapshot_topology
        return predict_trace(snapshot_topology(target), src, dst, proto=proto, port=port)
    if os.path.isfile(target):
        from ..model import load_file
        target = load_file(target).name
    return trace(target, src, dst, proto=proto, port=port, pcap=pcap)
