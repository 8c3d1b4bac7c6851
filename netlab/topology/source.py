"""Read YAML into plain Python values while remembering the line of every key.

The composer gives nodes with marks; converting them ourselves lets us bound the work
(anchors and aliases can expand exponentially: a "YAML bomb") and keep `path -> line`."""
from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ..errors import Diagnostic, TopologyError

MAX_BYTES = 16 * 1024 * 1024
MAX_NODES = 2_000_000
MAX_DEPTH = 64


@dataclass
class Source:
    """A parsed lab file: its data and the line of each key path ("a.b[0].c")."""

    file: str
    data: object
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, path: str) -> int:
        """Line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get("", 1)

    def diag(self, path: str, message: str) -> Diagnostic:
        return Diagnostic(self.file, self.line(path), path, message)


def _child(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class _Converter:
    def __init__(self, src: Source):
        self.src = src
        self.count = 0
        self.loader = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, path: str, depth: int) -> object:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Abort(path, f"the document expands to more than {MAX_NODES} values "
                               "(anchors/aliases that multiply?); write it out plainly")
        if depth > MAX_DEPTH:
            raise _Abort(path, f"nested deeper than {MAX_DEPTH} levels")
        self.src.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict = {}
            for knode, vnode in node.value:
                if not isinstance(knode, yaml.ScalarNode):
                    raise _Abort(path, "a mapping key must be a plain value", knode.start_mark.line + 1)
                key = self.loader.construct_scalar(knode)
                kpath = _child(path, key)
                if key in out:
                    raise _Abort(kpath, "this key appears twice in the same mapping", knode.start_mark.line + 1)
                self.src.lines[kpath] = knode.start_mark.line + 1
                out[key] = self.convert(vnode, kpath, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(v, _child(path, i), depth + 1) for i, v in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:int" and ":" in node.value:
            return node.value  # YAML 1.1 sexagesimal: "22:22" is a port mapping, not 1342
        return self.loader.construct_object(node, deep=False)


class _Abort(Exception):
    def __init__(self, path: str, message: str, line: int | None = None):
        super().__init__(message)
        self.path, self.message, self.at = path, message, line


def parse_text(text: str | bytes, file: str = "<string>") -> Source:
    """Parse one YAML document; raise TopologyError with a located message on any failure."""
    src = Source(file, None)
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise TopologyError([Diagnostic(file, 0, "", f"the file is larger than {MAX_BYTES >> 20} MiB")])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise TopologyError([Diagnostic(file, text[: e.start].count(b"\n") + 1, "",
                                            "the file is not UTF-8 text")]) from None
    if "\x00" in text:
        raise TopologyError([Diagnostic(file, text[: text.index("\x00")].count("\n") + 1, "",
                                        "the file contains a NUL byte: it is not a YAML text file")])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 0
        raise TopologyError([Diagnostic(file, line, "", f"YAML syntax: {e.problem or e.context}")]) from None
    except yaml.YAMLError as e:
        raise TopologyError([Diagnostic(file, 0, "", f"YAML syntax: {e}")]) from None
    if node is None:
        raise TopologyError([Diagnostic(file, 1, "", "the file is empty; a lab needs at least `name:`")])
    conv = _Converter(src)
    try:
        src.data = conv.convert(node, "", 0)
    except _Abort as e:
        raise TopologyError([Diagnostic(file, e.at or src.line(e.path), e.path, e.message)]) from None
    except (yaml.YAMLError, ValueError, TypeError) as e:
        raise TopologyError([Diagnostic(file, 0, "", f"YAML value: {e}")]) from None
    return src


def parse_file(path: str) -> Source:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise TopologyError([Diagnostic(path, 0, "", f"cannot read the file: {e.strerror}")]) from None
    return parse_text(raw, path)
