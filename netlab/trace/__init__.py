"""The traffic tracer: one packet's hops, rules and address rewrites, observed in a live lab
and predicted from the plan.

    from netlab.trace import trace, predict_trace
    t = trace("demo", "a1", "203.0.113.10")                  # live (root): observed + predicted
    p = predict_trace("topologies/demo.yaml", "a1", "web")    # from the file alone, no root:
                                                              # `web` as a1 resolves it (unresolved)
    q = predict_trace("topologies/demo.yaml", "a1", "web", by_name=False)   # the lab's web
    t.hops, t.rules, t.nat, t.outcome, t.differences, t.to_dict()

The live part (session.py, capture.py, and the kernel readers nftrace, conntrack, counters)
gathers the evidence; everything else here is pure. (`netlab.trace.predict` is the module
that walks the plan; the function is `predict_trace`.)
"""
from typing import Any

from .model import Difference, Hop, NatRewrite, NeighbourLookup, Outcome, PacketView, RuleHit, Trace

__all__ = ["Difference", "Hop", "NatRewrite", "NeighbourLookup", "Outcome", "PacketView", "RuleHit", "Trace",
           "predict_trace", "trace"]


def trace(lab: str, src: str, dst: str, **kw: Any) -> Trace:
    """Inject one probe in a live lab and report what happened, beside the prediction. The
    lab's state is read by the app layer: this is its entry point under the tracer's name
    (netlab.app.tracing.live_trace)."""
    from ..app.tracing import live_trace
    return live_trace(lab, src, dst, **kw)


def predict_trace(file_or_topology: Any, src: str, dst: str, **kw: Any) -> Trace:
    """Walk the plan alone (no root, no kernel): the path the probe should take."""
    from .predict import predict_trace as walk
    return walk(file_or_topology, src, dst, **kw)
