"""The application layer: bring labs up and down (lifecycle), remember what was built
(state), check `expect:` and the embedded DNS (verify, dnscheck), and the `Lab` object that
notebooks hold. It joins the pure layers (model, plan) to the kernel; the CLI and notebooks
call it.

Submodules are imported by name (`from netlab.app.lifecycle import up`), so that importing
the package stays cheap for a CLI command that needs one of them."""

from __future__ import annotations

from typing import Any

from ..trace.model import set_lab_graphs

__all__ = ["demo", "dnscheck", "doctor", "inplace", "lab", "lifecycle", "loop", "observe_lab", "state", "tracing",
           "verify"]


def _known_lab_graph(lab: str) -> Any:
    """A lab that is up here, as a Trace is drawn on it in Jupyter (observe_lab, loaded only
    when a trace is drawn: it imports networkx)."""
    from .observe_lab import known_lab_graph
    return known_lab_graph(lab)


# trace and graph read no kernel: a Trace drawing itself asks the app layer for its live lab
set_lab_graphs(_known_lab_graph)
