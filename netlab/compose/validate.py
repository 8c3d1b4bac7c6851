"""A Compose file checked against the Compose specification's JSON schema (schema/README.md),
each violation turned into a netlab diagnostic: file, line, key path, what to do."""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic
from ..model.schema import _describe
from ..model.source import Source

if TYPE_CHECKING:     # jsonschema costs 0.1 s to import: only a Compose file needs it
    import jsonschema
    from jsonschema.exceptions import ValidationError

SCHEMA = Path(__file__).with_name("schema") / "compose-spec.json"
MAX_REPORTED = 50          # a fuzzed file can break every key; the first ones say enough


@cache
def _validator() -> jsonschema.Draft7Validator:
    import jsonschema
    with open(SCHEMA) as f:
        schema = json.load(f)
    return jsonschema.Draft7Validator(schema)


def check_compose_schema(src: Source) -> list[Diagnostic]:
    """Every place where `src` departs from the Compose specification."""
    out: list[Diagnostic] = []
    errors = sorted(_validator().iter_errors(_plain(src.data)), key=lambda e: [str(p) for p in e.absolute_path])
    for e in errors[:MAX_REPORTED]:
        out.extend(_diagnose(src, e))
    return out


def _plain(value: object) -> object:
    """JSON's view of a YAML value: the schema knows no dates or non-string keys; a date
    stays text (the schema then says what it expected)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def key_path(parts: Iterable[object]) -> str:
    """jsonschema's path as netlab writes key paths: services.web.ports[0]."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _diagnose(src: Source, e: ValidationError) -> list[Diagnostic]:
    e = _inner(e)
    path = key_path(e.absolute_path)
    if e.validator == "additionalProperties" and isinstance(e.instance, dict):
        return [src.diag(f"{path}.{k}" if path else str(k), _unknown(k, e.schema, path))
                for k in _unexpected(e.instance, e.schema)]
    return [src.diag(path, _message(e, path))]


def _inner(e: ValidationError) -> ValidationError:
    """For a value that fits none of oneOf/anyOf's shapes: the deepest problem inside the
    shapes of its own type (a mapping's unknown key, say), not "expected a list or a mapping"."""
    while e.validator in ("oneOf", "anyOf") and e.context:
        depth = len(e.absolute_path)
        # a branch of another type fails at the value itself by `type`: it says nothing more
        inside = [c for c in e.context if not (c.validator == "type" and len(c.absolute_path) == depth)]
        if not inside:
            break
        e = max(inside, key=lambda c: len(c.absolute_path))
    return e


def _unexpected(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    known = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    return [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]


def _unknown(key: str, schema: dict[str, Any], path: str) -> str:
    known = [k for k in schema.get("properties", {})]
    if not known:       # a mapping of names (services, networks) with a name the spec refuses
        return (f"{key!r} is not a valid name here: use letters, digits, '.', '_' or '-'")
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    where = f"under `{path}`" if path else "at the top of a Compose file"
    hint = f"; did you mean {close[0]!r}?" if close else \
        "; keys of your own go under an `x-` key (netlab's under `x-netlab`)"
    return f"unknown key {key!r} {where} (Compose specification){hint}"


TYPES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
         "array": "a list", "object": "a mapping", "null": "nothing"}


def _message(e: ValidationError, path: str) -> str:
    got = _describe(e.instance)
    if e.validator == "type":
        want = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
        return f"expected {' or '.join(TYPES.get(str(t), str(t)) for t in want)}, got {got}"
    if e.validator in ("oneOf", "anyOf"):
        return f"expected {_shapes(e.validator_value)}, got {got} (Compose specification)"
    if e.validator == "required":
        return f"{e.message.split(' ')[0]} is required here (Compose specification)"
    if e.validator == "enum":
        return f"expected one of {', '.join(repr(v) for v in e.validator_value)}, got {got}"
    if e.validator == "uniqueItems":
        return "a value is listed twice; list each once"
    if e.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{got} is out of range ({e.validator} {e.validator_value})"
    if e.validator == "not":
        return f"{got} is not allowed here (Compose specification)"
    return f"{e.message} (Compose specification)"


def _shapes(choices: object) -> str:
    """What a oneOf/anyOf takes, in words: its alternatives' types."""
    words: list[str] = []
    for c in choices if isinstance(choices, list) else []:
        t = c.get("type") if isinstance(c, dict) else None
        if isinstance(c, dict) and "$ref" in c:
            ref = str(c["$ref"]).rsplit("/", 1)[-1]
            t = {"list_of_strings": "array", "string_or_list": "string or a list"}.get(ref, ref.replace("_", " "))
        for one in t if isinstance(t, list) else [t]:
            word = TYPES.get(str(one), str(one)) if one else "another shape"
            if word not in words:
                words.append(word)
    return " or ".join(words) or "another shape"
