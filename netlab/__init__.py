"""netlab: Docker's container networks rebuilt from a YAML file with real kernel objects.

The Python API that the CLI and notebooks share:

    from netlab.topology import load_file      # validate (pure)
    from netlab.plan.planner import build_plan # what `up` would build (pure)
    from netlab.lifecycle import up, down, ls  # build, change and remove labs (root)
"""

__version__ = "0.1.0"
