"""netlab: Docker's container networks rebuilt from a YAML file with real kernel objects.

The Python API that the CLI and notebooks share:

    from netlab.model import load_file      # validate (pure)
    from netlab.plan.planner import build_plan # what `up` would build (pure)
    from netlab.app.lifecycle import up, down, ls  # build, change and remove labs (root)
    netlab.Lab, netlab.Trace                   # a lab and a trace as notebooks show them
"""

__version__ = "0.1.0"
__all__ = ["Lab", "Trace", "__version__"]


def __getattr__(name: str):
    """`netlab.Lab` and `netlab.Trace` load on first use, so `import netlab` stays light."""
    if name == "Lab":
        from .app.lab import Lab
        return Lab
    if name == "Trace":
        from .trace.model import Trace
        return Trace
    raise AttributeError(f"module 'netlab' has no attribute {name!r}")
