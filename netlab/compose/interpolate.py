"""Compose's variable interpolation, applied to every value (never a key) before anything
else reads the file, as compose-go's loader does: `$VAR`, `${VAR}`, `${VAR:-default}`,
`${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}` (defaults and
alternatives interpolated in turn), `$$` for a literal `$`. The variables come from the
environment, then the project directory's `.env` file."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import Diagnostic
from ..model.source import Source

NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
OPERATORS = (":?", "?", ":-", "-", ":+", "+")
MAX_DEPTH = 32          # `${A:-${B:-${C...}}}` nests; a fuzzed file must not recurse forever


class TemplateError(ValueError):
    pass


@dataclass
class Interpolation:
    env: Mapping[str, str]
    unset: list[str] = field(default_factory=list)      # variables used but not set, in order

    def text(self, template: str, depth: int = 0) -> str:
        if depth > MAX_DEPTH:
            raise TemplateError("variables nest too deeply")
        out: list[str] = []
        i = 0
        while i < len(template):
            c = template[i]
            if c != "$" or i + 1 >= len(template):
                out.append(c)
                i += 1
                continue
            nxt = template[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt == "{":
                end = _closing(template, i + 1)
                if end < 0:
                    raise TemplateError("a `${` has no closing `}`")
                out.append(self.braced(template[i + 2:end], depth))
                i = end + 1
            else:
                m = NAME.match(template, i + 1)
                if m is None:           # a lone `$` stays as written
                    out.append(c)
                    i += 1
                    continue
                out.append(self.lookup(m.group()))
                i = m.end()
        return "".join(out)

    def braced(self, inner: str, depth: int) -> str:
        m = NAME.match(inner)
        if m is None:
            raise TemplateError(f"`${{{inner}}}` does not start with a variable name")
        name, rest = m.group(), inner[m.end():]
        if not rest:
            return self.lookup(name)
        op = next((o for o in OPERATORS if rest.startswith(o)), None)
        if op is None:
            raise TemplateError(f"`${{{inner}}}`: after the name comes `}}` or one of {' '.join(OPERATORS)}")
        arg = rest[len(op):]
        value = self.env.get(name)
        empty = value is None or (op.startswith(":") and value == "")
        if op in (":?", "?"):
            if empty:
                why = self.text(arg, depth + 1)
                raise TemplateError(f"required variable {name} is missing a value" + (f": {why}" if why else ""))
            return value or ""
        if op in (":-", "-"):
            return self.text(arg, depth + 1) if empty else value or ""
        return "" if empty else self.text(arg, depth + 1)       # :+ and +

    def lookup(self, name: str) -> str:
        value = self.env.get(name)
        if value is None:
            if name not in self.unset:
                self.unset.append(name)
            return ""
        return value


def _closing(text: str, start: int) -> int:
    """The `}` that closes the `{` at `start`, nested `${...}` skipped."""
    depth = 0
    i = start
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def interpolate(src: Source, env: Mapping[str, str]) -> tuple[Source, list[Diagnostic], list[str]]:
    """(the file with every value interpolated, errors, notes on unset variables)."""
    job = Interpolation(env)
    diags: list[Diagnostic] = []

    def walk(value: object, path: str) -> object:
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str) and "$" in value:
            try:
                return job.text(value)
            except TemplateError as e:
                diags.append(src.diag(path, f"invalid interpolation in {value!r}: {e} (write $$ for a literal $)"))
        return value

    data = walk(src.data, "")
    notes = [f"the {name!r} variable is not set; defaulting to a blank string (as Compose warns)"
             for name in job.unset]
    return Source(src.file, data, src.lines, src.problems), diags, notes


def project_env(file: str, env: Mapping[str, str]) -> dict[str, str]:
    """The variables a Compose file sees: the project directory's `.env`, then the
    environment, which wins."""
    out = read_dotenv(os.path.join(os.path.dirname(os.path.abspath(file)), ".env"))
    out.update(env)
    return out


def read_dotenv(path: str) -> dict[str, str]:
    """KEY=VALUE lines (`export` allowed, `#` comments, single quotes literal, double quotes
    with \\n escapes); a missing or unreadable file is none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read(1 << 20).splitlines()
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not NAME.fullmatch(key):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace("\\n", "\n").replace('\\"', '"')
        else:
            value = value.split(" #", 1)[0].rstrip()
        out[key] = value
    return out
