"""The import contract of netlab's layers (docs/architecture.md), read from every module's
AST: every `import` and `from ... import`, at any depth (an import inside a function counts),
relative imports resolved. Each failure names the importing file, its line and the module.

PENDING lists the violations other work in progress (issue 12) still has to remove: it must
end empty. ALLOWED lists the few uses of a restricted library that are not what the rule is
about, each with its reason."""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "netlab"

TRACE_PURE = tuple(f"netlab.trace.{m}" for m in (
    "walk", "predict", "correlate", "compare", "model", "report", "iptables", "wiring", "target",
    "signature", "listeners", "evidence", "nat", "outcome", "hooks", "nft_model", "nft_eval", "explain",
    "lookups", "pcap_story", "kdrops", "resolve", "vocabulary", "icmp_errors"))
TRACE_LIVE = tuple(f"netlab.trace.{m}" for m in ("session", "capture", "nftrace", "conntrack", "counters",
                                                "nfnetlink", "resolve_live"))
SHELL = ("netlab.kernel", "netlab.app", "netlab.cli", "netlab.agent")

# (who, what it must not import, why)
RULES: list[tuple[tuple[str, ...], tuple[str, ...], str]] = [
    (("netlab.model", "netlab.plan", "netlab.engine", "netlab.drivers", "netlab.compose"),
     SHELL + ("netlab.trace", "netlab.graph"), "the pure core never reaches the kernel, the app or the pictures"),
    (("netlab.graph",), SHELL + TRACE_LIVE,
     "graph is given observed data; it reads no kernel (only trace's pure modules)"),
    (TRACE_PURE, SHELL + TRACE_LIVE, "trace's pure part imports no kernel, not even through trace's live modules"),
]
# third-party libraries (and the stdlib's ctypes) and the only packages that may import them
LIBRARIES: dict[str, tuple[str, ...]] = {
    "scapy": ("netlab.trace",),
    "networkx": ("netlab.graph",),
    "pyroute2": ("netlab.kernel",),
    "iptc": ("netlab.kernel",),
    "ctypes": ("netlab.kernel",),
}
# a module outside kernel/ that runs a subprocess naming one of these tools does kernel work
KERNEL_TOOLS = re.compile(r"^(ip|ip6?tables(-legacy|-nft)?(-save|-restore)?|nft|sysctl|ebtables)$")
SUBPROCESS = {"subprocess", "asyncio.subprocess"}

ALLOWED: dict[tuple[str, str], str] = {
    ("netlab/trace/capture.py", "ctypes"): "bind() of its AF_PACKET socket to every interface through libc "
                                           "(Python's socket API needs a name): a socket, no namespace code",
    ("netlab/agent/commands.py", "ctypes"): "prctl(PR_SET_PDEATHSIG) for the containers' commands",
    ("netlab/trace/resolve.py", "netlab.agent.names"): "the embedded DNS's name lookup, pure (over the plan's "
                                                       "name tables): the prediction asks the very function the "
                                                       "agent answers with, so the two cannot drift",
    ("netlab/trace/__init__.py", "netlab.app.tracing"): "`from netlab.trace import trace`, the documented entry "
                                                        "point, hands a lab's name to the app layer, which reads "
                                                        "its state",
}

# Temporary: violations in files other work of issue 12 is still moving. Must end empty.
PENDING: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    file: str           # relative to the repository, e.g. netlab/graph/build.py
    line: int
    module: str         # absolute: netlab.kernel.netns, networkx, ...


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(file: str, name: str, is_package: bool, source: str) -> Iterator[Import]:
    """Every import in SOURCE (module NAME), at any depth, as absolute module names. `from X
    import a` yields X and X.a (a may be a submodule)."""
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, file)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(file, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield Import(file, node.lineno, target)
            for alias in node.names:
                yield Import(file, node.lineno, f"{target}.{alias.name}")


def kernel_tools(file: str, source: str) -> Iterator[Import]:
    """`subprocess:<tool>` for each call given a kernel tool as its program, in a module that
    runs subprocesses."""
    tree = ast.parse(source, file)
    uses = any(isinstance(n, (ast.Import, ast.ImportFrom)) and
               any(m in SUBPROCESS for m in ([a.name for a in n.names] if isinstance(n, ast.Import) else [n.module]))
               for n in ast.walk(tree)) or "create_subprocess_exec" in source
    if not uses:
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]        # run(["ip", ...]), create_subprocess_exec("ip", ...), which("nft")
        if isinstance(first, (ast.List, ast.Tuple)) and first.elts:
            first = first.elts[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and KERNEL_TOOLS.match(first.value):
            yield Import(file, first.lineno, f"subprocess:{first.value}")


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(modules: dict[str, tuple[str, bool, str]]) -> list[tuple[str, str, str]]:
    """(file, what, message) for every broken rule; `modules`: name -> (file, is_package, source).
    One finding per line and rule: `from X import a, b` reports X, not X.a and X.b too."""
    out: dict[tuple[str, int, str], tuple[str, str, str]] = {}

    def broken(imp: Import, what: str, why: str) -> None:
        out.setdefault((imp.file, imp.line, why), (imp.file, what, f"{imp.file}:{imp.line} imports {what}: {why}"))

    for name, (file, is_package, source) in sorted(modules.items()):
        for imp in imports(file, name, is_package, source):
            for who, banned, why in RULES:
                if within(name, who) and within(imp.module, banned):
                    broken(imp, imp.module, why)
            if within(name, ("netlab.engine",)) and within(imp.module, ("netlab",)) \
                    and not within(imp.module, ("netlab.engine",)):
                broken(imp, imp.module, "the engine profiles import nothing else from netlab")
            library = imp.module.split(".")[0]
            if library in LIBRARIES and not within(name, LIBRARIES[library]):
                broken(imp, library, f"only {', '.join(LIBRARIES[library])} may import {library}")
        if not within(name, ("netlab.kernel",)):
            for imp in kernel_tools(file, source):
                out.setdefault((file, imp.line, imp.module), (file, imp.module, (
                    f"{file}:{imp.line} runs {imp.module.partition(':')[2]} through subprocess: "
                    "only netlab.kernel runs the kernel's tools")))
    return list(out.values())


def excused(file: str, what: str, table: dict[tuple[str, str], str]) -> bool:
    return any(f == file and (what == w or what.startswith(w + ".")) for f, w in table)


def netlab_modules() -> dict[str, tuple[str, bool, str]]:
    return {module_name(p): (str(p.relative_to(PACKAGE.parent)), p.name == "__init__.py", p.read_text())
            for p in sorted(PACKAGE.rglob("*.py"))}


# ---- the contract --------------------------------------------------------------------
def test_imports_follow_the_layers():
    found = [m for f, w, m in violations(netlab_modules())
             if not excused(f, w, ALLOWED) and not excused(f, w, PENDING)]
    assert not found, "layer violations:\n" + "\n".join(found)


def test_every_package_has_a_public_face():
    missing = []
    for init in [PACKAGE / "__init__.py", *sorted(PACKAGE.rglob("*/__init__.py"))]:
        file = str(init.relative_to(PACKAGE.parent))
        names = {t.id for n in ast.walk(ast.parse(init.read_text())) if isinstance(n, ast.Assign)
                 for t in n.targets if isinstance(t, ast.Name)}
        if "__all__" not in names and not excused(file, "__all__", PENDING):
            missing.append(f"{file}: no __all__")
    for folder in sorted(p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__"):
        if any(folder.glob("*.py")) and not (folder / "__init__.py").exists():
            missing.append(f"{folder.relative_to(PACKAGE.parent)}: Python modules but no __init__.py")
    assert not missing, "\n".join(missing)


def test_pending_entries_are_still_needed():
    """A PENDING entry whose violation is gone must be removed (the list must end empty)."""
    found = {(f, w) for f, w, _ in violations(netlab_modules())}
    stale = [key for key in PENDING if key[1] != "__all__" and not any(excused(f, w, {key: ""}) for f, w in found)]
    assert not stale, f"PENDING entries no longer needed, remove them: {stale}"


# ---- the checker checks ----------------------------------------------------------------
def fake(name: str, source: str, is_package: bool = False) -> dict[str, tuple[str, bool, str]]:
    return {name: (name.replace(".", "/") + ("/__init__.py" if is_package else ".py"), is_package, source)}


def test_a_lazy_forbidden_import_is_caught():
    source = "import os\n\n\ndef live(lab):\n    if lab:\n        from ..kernel.observe import read_netns\n"
    found = violations(fake("netlab.graph.fake", source))
    assert [m for _, _, m in found] == [
        "netlab/graph/fake.py:6 imports netlab.kernel.observe: graph is given observed data; it reads no "
        "kernel (only trace's pure modules)"]


def test_relative_imports_are_resolved():
    assert {i.module for i in imports("x", "netlab.trace", True, "from . import session\nfrom ..app import state")} \
        == {"netlab.trace", "netlab.trace.session", "netlab.app", "netlab.app.state"}
    found = violations(fake("netlab.trace.walk", "def f():\n    from . import capture\n"))
    assert [(f, w) for f, w, _ in found] == [("netlab/trace/walk.py", "netlab.trace.capture")]


def test_libraries_and_kernel_tools_are_caught():
    found = violations(fake("netlab.app.fake", "import subprocess\nimport networkx as nx\n\n\ndef f():\n"
                                               "    from pyroute2 import IPRoute\n"
                                               "    subprocess.run(['iptables-save'])\n"))
    assert sorted(w for _, w, _ in found) == ["networkx", "pyroute2", "subprocess:iptables-save"]
    assert violations(fake("netlab.kernel.fake", "import subprocess\nimport pyroute2\nsubprocess.run(['nft'])\n")) \
        == []


def test_every_trace_module_is_pure_or_live():
    """A new module of the tracer says which side it is on, so the import rules cover it."""
    modules = {f"netlab.trace.{p.stem}" for p in (PACKAGE / "trace").glob("*.py") if p.stem != "__init__"}
    assert modules - set(TRACE_PURE) - set(TRACE_LIVE) == set()


def test_the_engine_imports_only_itself():
    found = violations(fake("netlab.engine.fake", "from ..errors import LabError\nfrom .profile import Engine\n"))
    assert [w for _, w, _ in found] == ["netlab.errors"]


def test_importing_the_pure_modules_loads_no_kernel_code():
    """The same contract at run time: loading the pure trace and the graph pulls in no kernel
    module, no app module, no ctypes and no scapy."""
    import subprocess
    import sys
    code = ("import sys\n" + "".join(f"import {m}\n" for m in TRACE_PURE + ("netlab.graph",)) +
            "print(' '.join(sorted(m for m in sys.modules if m.startswith("
            "('netlab.kernel', 'netlab.app', 'netlab.agent', 'ctypes', 'scapy', 'pyroute2', 'iptc')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent).stdout.split()
    assert out == []
