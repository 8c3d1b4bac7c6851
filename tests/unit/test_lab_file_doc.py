"""docs/lab-file.md stays the whole truth about the lab file: every complete lab on the page
loads, every key the schema accepts (and every driver option and engine) is documented under
its key path, and the page and the README point only at files in the repository."""
from __future__ import annotations

import os
import re

import pytest
import yaml

from netlab import drivers
from netlab.engine import ENGINES
from netlab.model import load_text, schema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(ROOT, "docs", "lab-file.md")
README = os.path.join(ROOT, "README.md")
# what a mapping's keys are called on the page, after the key that holds the mapping
PLACEHOLDERS = {"hosts": "<host>", "networks": "<network>", "containers": "<container>",
                "driver_opts": "<option>"}


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def yaml_blocks(text: str) -> list[tuple[int, str]]:
    """(line of the opening fence, body) of each ```yaml block."""
    out = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```yaml":
            start = i + 1
            j = start
            while lines[j].strip() != "```":
                j += 1
            out.append((start, "".join(lines[start:j])))
            i = j
        i += 1
    return out


def whole_labs(text: str) -> list[tuple[int, str]]:
    return [(line, body) for line, body in yaml_blocks(text)
            if isinstance(yaml.safe_load(body), dict) and "name" in yaml.safe_load(body)]


def key_paths(spec: schema.Spec, prefix: str = "", holder: str = "") -> list[str]:
    """Every key the schema accepts, by its path: `hosts.<host>.daemon.bip`, `expect[].to`."""
    if isinstance(spec, schema.Obj):
        out = []
        for key, sub in spec.fields.items():
            path = f"{prefix}.{key}" if prefix else key
            out += [path] + key_paths(sub, path, key)
        return out
    if isinstance(spec, schema.ListOf):
        return key_paths(spec.item, f"{prefix}[]", holder)
    if isinstance(spec, schema.MapOf):
        return key_paths(spec.item, f"{prefix}.{PLACEHOLDERS.get(holder, '<name>')}", holder)
    if isinstance(spec, schema.Either):
        return [p for choice in spec.choices for p in key_paths(choice, prefix, holder)]
    return []


PAGE_TEXT = read(PAGE)
LABS = whole_labs(PAGE_TEXT)
KEYS = list(dict.fromkeys(key_paths(schema.LAB)))


def test_the_page_has_complete_labs_to_check():
    # one per section at least: a page whose examples lost their `name:` would test nothing
    assert len(LABS) >= 10, [line for line, _ in LABS]


@pytest.mark.parametrize("line,body", LABS, ids=[f"line{line}" for line, _ in LABS])
def test_every_complete_lab_on_the_page_loads(line, body):
    topo = load_text(body, file=f"docs/lab-file.md:{line}")
    assert topo.name == yaml.safe_load(body)["name"]


def test_every_yaml_block_is_yaml():
    for line, body in yaml_blocks(PAGE_TEXT):
        try:
            yaml.safe_load(body)
        except yaml.YAMLError as e:
            pytest.fail(f"docs/lab-file.md:{line}: {e}")


def test_key_paths_come_from_the_schema():
    # the walk itself: nested objects, lists and user-named mappings all reached
    assert {"name", "hosts.<host>.daemon.default-address-pools[].base", "outside.routes[].via",
            "networks.<network>.ipam.config[].ip_range", "expect[].port",
            "containers.<container>.networks.<network>.ipv6_address"} <= set(KEYS)
    assert len(KEYS) >= 60


def test_every_key_of_the_schema_is_documented():
    missing = [k for k in KEYS if f"`{k}`" not in PAGE_TEXT]
    assert not missing, f"keys the schema accepts but docs/lab-file.md does not describe: {missing}"


def test_every_driver_option_is_documented():
    options = {o.key for d in drivers.DRIVERS.values() for o in d.options}
    missing = sorted(k for k in options if f"`{k}`" not in PAGE_TEXT)
    assert not missing, f"driver options not in docs/lab-file.md: {missing}"


def test_every_engine_is_named():
    missing = [name for name in ENGINES if f'"{name}"' not in PAGE_TEXT]
    assert not missing, missing


@pytest.mark.parametrize("path", [PAGE, README], ids=["lab-file.md", "README.md"])
def test_links_stay_in_the_repository(path):
    text = read(path)
    assert "/work/" not in text and "../shared" not in text
    base = os.path.dirname(path)
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+:", target):
            continue        # a web address, not a path
        resolved = os.path.normpath(os.path.join(base, target))
        assert resolved.startswith(ROOT + os.sep), f"{target} points outside the repository"
        assert os.path.exists(resolved), f"{target} does not exist"


def test_the_readme_links_the_reference():
    assert "](docs/lab-file.md)" in read(README)
