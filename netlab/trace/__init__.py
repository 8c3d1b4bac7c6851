"""The traffic tracer: one packet's hops, rules and address rewrites, observed in a live lab
and predicted from the plan.

    from netlab.trace import trace, predict
    t = trace("demo", "a1", "203.0.113.10")          # live (root): observed + predicted
    p = predict("topologies/demo.yaml", "a1", "web")  # from the file alone, no root
    t.hops, t.rules, t.nat, t.outcome, t.differences, t.to_dict()
"""
from .model import (Difference, Hop, NatRewrite, Outcome, PacketView, RuleHit, Trace)

__all__ = ["Difference", "Hop", "NatRewrite", "Outcome", "PacketView", "RuleHit", "Trace",
           "predict", "trace"]


def trace(lab: str, src: str, dst: str, **kw) -> Trace:
    """Inject one probe in a live lab and report what happened, beside the prediction."""
    from .session import trace as run
    return run(lab, src, dst, **kw)


def predict(file_or_topology, src: str, dst: str, **kw) -> Trace:
    """Walk the plan alone (no root, no kernel): the path the probe should take."""
    from .predict import predict_trace
    return predict_trace(file_or_topology, src, dst, **kw)
