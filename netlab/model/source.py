"""Read YAML into plain Python values while remembering the line of every key.

The composer gives nodes with marks; converting them ourselves lets us bound the work
(anchors and aliases can expand exponentially: a "YAML bomb") and keep `path -> line`."""
from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml

from ..errors import Diagnostic, TopologyError

if TYPE_CHECKING:
    from yaml._yaml import CParser as _CParserBase

MAX_BYTES = 16 * 1024 * 1024
MAX_NODES = 2_000_000
MAX_DEPTH = 64
# Aliases may repeat what is written, within limits: a file expands to at most ALIAS_RATIO
# times its own nodes (and at least ALIAS_FLOOR values). A billion laughs stops after about
# 0.1 s, while 10,000 containers that each merge `<<: *defaults` still load.
ALIAS_RATIO = 10
ALIAS_FLOOR = 100_000


@dataclass
class Source:
    """A parsed lab file: its data and the line of each key path ("a.b[0].c"), plus the
    problems found while reading it that did not stop the reading (duplicate keys)."""

    file: str
    data: object
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)     # key path -> a tag the reader was asked to keep

    def line(self, path: str) -> int:
        """Line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get("", 1)

    def diag(self, path: str, message: str) -> Diagnostic:
        return Diagnostic(self.file, self.line(path), shown(path), shown(message))


def shown(text: str) -> str:
    """Text with control and invisible characters escaped: a name may hold a newline, and
    one diagnostic must stay one line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _TooDeep(Exception):
    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


class _Loader(yaml.SafeLoader):
    """SafeLoader that stops at MAX_DEPTH nesting while scanning: PyYAML's scanner is quadratic
    in flow depth (3,000 `[` took a minute) and its composer recurses once per level."""

    def fetch_flow_collection_start(self, TokenClass: type[yaml.Token]) -> None:
        self.check_depth()
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column: int) -> bool:
        self.check_depth()
        return super().add_indent(column)

    def check_depth(self) -> None:
        if self.flow_level + len(self.indents) >= MAX_DEPTH:
            raise _TooDeep(self.get_mark().line + 1)


class _Fallback(Exception):
    """The fast path gives up; the pure loader runs and says precisely what is wrong."""


# libyaml's parser, None when PyYAML was built without libyaml
_CParser: type[_CParserBase] | None = getattr(getattr(yaml, "_yaml", None), "CParser", None)


if _CParser is not None:
    if not TYPE_CHECKING:   # mypy takes the base from the stubs' import above
        _CParserBase = _CParser

    class _FastLoader(yaml.composer.Composer, _CParserBase, yaml.resolver.Resolver):
        """libyaml's scanner and parser (4-5x faster than PyYAML's) under PyYAML's own
        composer, which counts the depth as it goes. Used only for files that load cleanly:
        on any error the pure loader runs again for its messages and line numbers."""

        def __init__(self, stream: str) -> None:
            _CParserBase.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.depth = 0

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            self.depth += 1
            if self.depth >= MAX_DEPTH:
                raise _Fallback
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1


def fits_fast_path(text: str) -> bool:
    """libyaml and PyYAML resolve tags differently in corners (`!` on an empty value: a
    string from libyaml's events, null from PyYAML's parser); lab files use no tags, so any
    `!` at all sends the file to the pure loader, whose reading the error path shares."""
    return _CParser is not None and "!" not in text


def _compose(text: str) -> yaml.Node | None:
    if fits_fast_path(text):
        try:
            # the stubs accept only PyYAML's own loader classes, but compose() needs no more of
            # Loader than Loader(stream).get_single_node() and .dispose(), which _FastLoader has
            return yaml.compose(text, Loader=_FastLoader)  # type: ignore[arg-type]
        except Exception:       # noqa: BLE001 -- anything at all: the pure loader says what
            pass
    return yaml.compose(text, Loader=_Loader)


def _child(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


MERGE = "tag:yaml.org,2002:merge"
COLLECTIONS = {f"tag:yaml.org,2002:{t}" for t in ("map", "omap", "pairs", "set", "seq")}
# tags the resolver gives plain scalars by their look: if constructing one fails
# ("2001-13-45", "0b_"), the text was only shaped like a date or number; keep it as text
IMPLICIT = {f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float", "null", "timestamp")}


class _Converter:
    def __init__(self, src: Source, root: yaml.Node, tags: Collection[str] = ()):
        self.src, self.tags = src, tags
        self.count = 0
        self.limit = min(MAX_NODES, max(ALIAS_FLOOR, ALIAS_RATIO * _distinct(root)))
        self.loader = yaml.SafeLoader("")

    def tick(self, path: str) -> None:
        self.count += 1
        if self.count > self.limit:
            raise _Abort(_top(path), f"the document expands to more than {self.limit} values "
                                     "(anchors/aliases that multiply?); write it out plainly")

    def convert(self, node: yaml.Node, path: str, depth: int) -> object:
        self.tick(path)
        if depth > MAX_DEPTH:
            raise _Abort(_top(path), f"nested deeper than {MAX_DEPTH} levels; a lab file needs only a few",
                         node.start_mark.line + 1)
        self.src.lines.setdefault(path, node.start_mark.line + 1)
        if node.tag in self.tags:      # noted by path, the value read as if untagged
            self.src.tags[path] = node.tag
            node = _untagged(node)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in COLLECTIONS:
            self.bad_tag(node, path)    # `!!python/object/apply:os.system [id]` and the like
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(v, _child(path, i), depth + 1) for i, v in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:int" and ":" in node.value:
            return node.value  # YAML 1.1 sexagesimal: "22:22" is a port mapping, not 1342
        try:
            return self.loader.construct_object(node, deep=False)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            if node.tag not in IMPLICIT:
                self.bad_tag(node, path)
            return node.value

    def bad_tag(self, node: yaml.Node, path: str) -> None:
        """Report a tag a lab file has no use for, and read on as if it were not there."""
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        self.src.problems.append(Diagnostic(self.src.file, node.start_mark.line + 1, shown(path),
                                            shown(f"cannot read the value tagged {tag}; remove the tag")))

    def mapping(self, node: yaml.MappingNode, path: str, depth: int) -> dict:
        out: dict = {}
        first: dict = {}    # key -> line, for keys written in this mapping (not merged in)
        for knode, vnode, merged in self.pairs(node, path, 0):
            if not isinstance(knode, yaml.ScalarNode):
                raise _Abort(path, "a mapping key must be a plain name, not a list or mapping",
                             knode.start_mark.line + 1)
            key = self.loader.construct_scalar(knode)
            kpath = _child(path, key)
            line = knode.start_mark.line + 1
            if key in out:
                if not merged:  # report it, keep the first, read on: all errors at once
                    self.src.problems.append(Diagnostic(
                        self.src.file, line, shown(kpath), f"{key!r} appears twice in this mapping (first "
                                                           f"on line {first[key]}); remove or rename one"))
                continue
            if not merged:
                first[key] = line
            self.src.lines[kpath] = line
            out[key] = self.convert(vnode, kpath, depth + 1)
        return out

    def pairs(self, node: yaml.MappingNode, path: str, depth: int) -> list[tuple]:
        """(key, value, merged) nodes with YAML merge keys (`<<: *base`) applied as PyYAML's
        flatten_mapping does: the mapping's own keys first, so they win over merged ones."""
        if depth > MAX_DEPTH:
            raise _Abort(_top(path), "`<<` merges nest too deeply (does an anchor merge itself?)",
                         node.start_mark.line + 1)
        own, merged = [], []
        for knode, vnode in node.value:
            if knode.tag != MERGE:
                own.append((knode, vnode, False))
                continue
            for sub in vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]:
                if not isinstance(sub, yaml.MappingNode):
                    raise _Abort(path, "`<<` merges a mapping (such as *base) or a list of them",
                                 knode.start_mark.line + 1)
                for k, v, _ in self.pairs(sub, path, depth + 1):
                    self.tick(path)
                    merged.append((k, v, True))
        return own + merged


def _untagged(node: yaml.Node) -> yaml.Node:
    if isinstance(node, yaml.MappingNode):
        return yaml.MappingNode("tag:yaml.org,2002:map", node.value, node.start_mark, node.end_mark)
    if isinstance(node, yaml.SequenceNode):
        return yaml.SequenceNode("tag:yaml.org,2002:seq", node.value, node.start_mark, node.end_mark)
    assert isinstance(node, yaml.ScalarNode)
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, node.value, (node.style is None, False))
    return yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark, node.style)


def _distinct(root: yaml.Node) -> int:
    """Nodes written in the document, each alias counted once: the size before expansion."""
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            todo += [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value
    return len(seen)


def _top(path: str) -> str:
    """The top-level key of a path: a bomb's or a deep nest's full path says nothing useful."""
    cut = min((i for i in (path.find("."), path.find("[")) if i > 0), default=len(path))
    return path[:cut]


class _Abort(Exception):
    def __init__(self, path: str, message: str, line: int | None = None):
        super().__init__(message)
        self.path, self.message, self.at = path, message, line


def parse_text(text: str | bytes, file: str = "<string>", tags: Collection[str] = ()) -> Source:
    """Parse one YAML document; raise TopologyError with a located message on any failure.
    `tags`: local tags (Compose's `!reset`) kept in Source.tags instead of reported."""
    src = Source(file, None)
    if len(text) > MAX_BYTES:
        raise TopologyError([Diagnostic(file, 1, "", f"the file is larger than {MAX_BYTES >> 20} MiB; "
                                                     "a lab file is a few kilobytes")])
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise TopologyError([Diagnostic(file, raw[: e.start].count(b"\n") + 1, "",
                                            "the file is not UTF-8 text; save it as UTF-8")]) from None
    if "\x00" in text:
        raise TopologyError([Diagnostic(file, text[: text.index("\x00")].count("\n") + 1, "",
                                        "the file contains a NUL byte: it is not a YAML text file")])
    try:
        node = _compose(text)
    except _TooDeep as e:
        raise TopologyError([Diagnostic(file, e.line, "", f"nested deeper than {MAX_DEPTH} levels; "
                                                          "a lab file needs only a few")]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        raise TopologyError([Diagnostic(file, line, "", shown(_syntax(e)))]) from None
    except yaml.reader.ReaderError as e:
        bad = chr(e.character) if isinstance(e.character, int) else "\x00"
        at = max(text.find(bad), 0)
        raise TopologyError([Diagnostic(file, text[:at].count("\n") + 1, "",
                                        f"the file contains a control character (U+{ord(bad):04X}, column "
                                        f"{at - text.rfind(chr(10), 0, at)}) that YAML does not allow; "
                                        "remove it")]) from None
    except yaml.YAMLError as e:
        raise TopologyError([Diagnostic(file, 1, "", shown(f"YAML syntax: {str(e).splitlines()[0]}"))]) from None
    except (ValueError, OverflowError):
        # PyYAML's scanner lets chr() fail on a "\U" escape beyond U+10FFFF
        escape = re.search(r"\\U[0-9A-Fa-f]{8}", text)
        line = text[:escape.start()].count("\n") + 1 if escape else 1
        raise TopologyError([Diagnostic(file, line, "", "YAML syntax: an escape sequence names a character "
                                                        "beyond U+10FFFF; write the character itself")]) from None
    if node is None:
        raise TopologyError([Diagnostic(file, 1, "", "the file is empty; a lab needs at least "
                                                     "`name:` (for example `name: demo`)")])
    conv = _Converter(src, node, tags)
    try:
        src.data = conv.convert(node, "", 0)
    except _Abort as e:
        raise TopologyError(src.problems + [Diagnostic(file, e.at or src.line(e.path), shown(e.path),
                                                       e.message)]) from None
    return src


def _syntax(e: yaml.MarkedYAMLError) -> str:
    """PyYAML's message, with the line where the broken construct began and a hint."""
    problem, context = e.problem or e.context or "unreadable", e.context or ""
    if "'\\t'" in problem:
        return "YAML syntax: a tab character; YAML indents with spaces only"
    if problem == "but found another document":
        return "YAML syntax: a second document (after `---`); a lab file holds one"
    hint = ""
    if problem.startswith("mapping values are not allowed"):
        hint = "; put a value that contains ': ' in quotes"
    elif "cannot start any token" in problem:
        hint = "; put the value in quotes"
    elif "<block end>" in problem:
        hint = "; check the indentation"
    begun = e.context_mark.line + 1 if e.context_mark else 0
    if context and begun and e.problem_mark and begun != e.problem_mark.line + 1:
        if context.startswith("while "):
            what = context.split(" ", 2)[-1]
            hint += f" (in {what} that starts on line {begun})"
        else:
            return f"YAML syntax: {context} on line {begun}, {problem} here"
    return f"YAML syntax: {problem}{hint}"


def parse_file(path: str, tags: Collection[str] = ()) -> Source:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise TopologyError([Diagnostic(path, 0, "", f"cannot read the file: {e.strerror}")]) from None
    return parse_text(raw, path, tags)
