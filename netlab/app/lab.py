"""A lab as a notebook holds it: bring it up, look, trace, draw, take it down.

    import netlab
    with netlab.Lab("topologies/demo.yaml", name="nb02") as lab:
        lab                                   # Jupyter draws it
        lab.run("a1", "ip -br addr")          # what the container sees
        lab.trace("a1", "a2")                 # a live trace; Jupyter draws its path
    # down, whatever happened inside the block

A Lab made from YAML text (`Lab(yaml=...)`) or renamed (`name=`) is written to
/tmp/netlab-labs/<name>.yaml, so a rerun of the same notebook finds the same lab. The file or
text may be a Compose file (`name=` is then its project's name)."""
from __future__ import annotations

import atexit
import os
import re
import tempfile

from ..errors import LabError
from .loop import off_loop

LAB_DIR = os.path.join(tempfile.gettempdir(), "netlab-labs")
NAME_LINE = re.compile(r"^name:[^\n]*$", re.M)


class Lab:
    def __init__(self, file: str | None = None, *, yaml: str | None = None, name: str | None = None,
                 keep: bool = False):
        if (file is None) == (yaml is None):
            raise LabError("a Lab needs a lab file or YAML text (one of them)")
        if file is not None:
            try:
                with open(file) as f:
                    text = f.read()
            except OSError as e:
                raise LabError(f"cannot read lab file {file}: {e.strerror}") from None
        else:
            text = yaml
        if name is None and file is not None:
            self.file = os.path.abspath(file)
        else:
            self.file = self._write(text, name)
        from .compose_labs import load  # a lab file or a Compose file
        self.topology = load(self.file).topology
        self.name = self.topology.name
        self.result = None
        self.keep, self._guarded = keep, False

    @staticmethod
    def _write(text: str, name: str | None) -> str:
        if name is not None:
            line = f"name: {name}"
            text = NAME_LINE.sub(line, text, count=1) if NAME_LINE.search(text) else f"{line}\n{text}"
        from ..compose import load_source
        from ..model.source import parse_text
        # a bad file fails here, nothing written; Compose text is read as from LAB_DIR
        lab = load_source(parse_text(text.encode(), os.path.join(LAB_DIR, "lab.yaml"))).topology.name
        os.makedirs(LAB_DIR, exist_ok=True)
        path = os.path.join(LAB_DIR, f"{lab}.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    # ---- life ------------------------------------------------------------------------
    def up(self, say=None) -> Lab:
        """Build the lab (or converge it). A lab brought up here goes down when this Python
        process ends (a notebook's kernel stopped or restarted, a failed cell under nbclient),
        unless `keep=True` was given: no lab outlives the notebook that made it."""
        from . import state
        from .lifecycle import up
        before = state.load(self.name)
        if not self.keep and not self._guarded and (before is None or before.file == self.file):
            # registered before building: a half-built lab goes too (never another file's lab)
            atexit.register(self._down_at_exit)
            self._guarded = True
        self.result = off_loop(up, self.file, say=say or (lambda m: None))
        return self

    def _down_at_exit(self) -> None:
        try:
            from . import state
            if state.load(self.name) is not None:
                self.down()
        except Exception:           # the interpreter is going away: say it, don't raise
            print(f"netlab: could not take lab {self.name} down; run `netlab down {self.name}`")

    def down(self) -> list[str]:
        from .lifecycle import down
        return off_loop(down, self.name, say=lambda m: None)

    def __enter__(self) -> Lab:
        from . import state
        before = state.load(self.name)
        try:
            return self.up()
        except BaseException:
            if before is None or before.file == self.file:
                self.down()         # a half-built lab goes too (never another file's lab)
            raise

    def __exit__(self, *exc) -> None:
        self.down()

    @property
    def is_up(self) -> bool:
        from . import state
        st = state.load(self.name)
        return st is not None and st.complete

    # ---- looking -----------------------------------------------------------------------
    def run(self, name: str, command: str, check: bool = False) -> str:
        """Run a shell command in a container, a host or `outside` (as `netlab exec` does);
        its output (stdout and stderr) as text."""
        from ..kernel.processes import run_shell
        from ..model.targets import endpoint
        from ..plan.hostnames import uts_of
        from .lifecycle import require_root
        require_root()
        ns = endpoint(self.topology, name).netns
        proc = run_shell(ns, command, timeout=60, uts=uts_of(self.topology, name))
        if check and proc.returncode != 0:
            raise LabError(f"{name}: `{command}` exited {proc.returncode}: {proc.stderr.strip()}")
        return proc.stdout + proc.stderr

    def rules(self, host: str | None = None) -> str:
        """Each host's rules as its engine leaves them (from the file): iptables-save text,
        then the ip6tables and nftables sections the engine writes."""
        from ..plan.firewall.lab import lab_rules
        return lab_rules(self.topology, host)

    def verify(self):
        """The file's `expect:` entries, checked in the live lab."""
        from .verify import check
        return off_loop(check, self.topology)

    def trace(self, src: str, dst: str, proto: str | None = None, port: int | None = None,
              family: int | None = None, by_name: bool = True):
        """One probe through the live lab, observed, with the prediction beside it;
        `family=6` goes to DST's IPv6 address (`-6`). A DST that is a name is resolved as
        SRC would first (no probe when it does not resolve); `by_name=False` takes it as
        the lab knows it (`--no-resolve`)."""
        from .tracing import live_trace
        return off_loop(live_trace, self.name, src, dst, proto=proto, port=port, family=family, by_name=by_name)

    def predict(self, src: str, dst: str, proto: str | None = None, port: int | None = None,
                family: int | None = None, by_name: bool = True):
        """The path the plan says a probe takes (no probe is sent); `by_name` as trace's."""
        from ..trace.predict import predict_trace
        return predict_trace(self.topology, src, dst, proto=proto, port=port, family=family, by_name=by_name)

    def graph(self):
        """The topology graph (networkx): live when the lab is up, else from the file."""
        from .observe_lab import lab_graph
        return off_loop(lab_graph, self.name if self.is_up else self.topology)

    def draw(self, path: str, trace=None) -> str:
        """Save the lab's picture (and a trace's path on it) as .svg, .png, .dot or .html."""
        from .. import graph
        g = self.graph()
        return graph.save(path, g, graph.trace_graph(trace, g) if trace is not None else None)

    def __repr__(self) -> str:
        return f"Lab({self.name!r}, file={self.file!r}, {'up' if self.is_up else 'down'})"

    def _repr_svg_(self) -> str:
        from .. import graph
        return graph.svg(self.graph())

    def _repr_html_(self) -> str:
        from .. import graph
        from ..graph.webpage import fragment
        g = self.graph()
        return fragment(graph.svg(g), g, None, styled=True)
