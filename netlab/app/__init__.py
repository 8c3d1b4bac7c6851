"""The application layer: bring labs up and down (lifecycle), remember what was built
(state), check `expect:` and the embedded DNS (verify, dnscheck), and the `Lab` object that
notebooks hold. It joins the pure layers (model, plan) to the kernel; the CLI and notebooks
call it.

Submodules are imported by name (`from netlab.app.lifecycle import up`), so that importing
the package stays cheap for a CLI command that needs one of them."""

__all__ = ["demo", "dnscheck", "doctor", "inplace", "lab", "lifecycle", "loop", "state", "verify"]
