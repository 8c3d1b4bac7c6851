"""The project name as Compose computes it, and the short kernel prefix netlab derives from it.

Precedence (compose-go cli/options.go withNamePrecedenceLoad, loader.projectName): `-p`, then
COMPOSE_PROJECT_NAME, then the file's `name:`, then the base name of the project directory
(the first Compose file's directory). `-p` and the variable must already be normal; `name:` and
the directory are normalised (loader.NormalizeProjectName): lowercase, only [a-z0-9_-] kept,
leading '_' and '-' dropped."""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping

from ..model import naming

KEEP = re.compile(r"[a-z0-9_-]")
RULE = ("must consist only of lowercase alphanumeric characters, hyphens, and underscores as well "
        "as start with a letter or number")


class ProjectNameError(ValueError):
    """A project name Compose refuses; `where` says which source gave it."""

    def __init__(self, where: str, message: str):
        super().__init__(message)
        self.where = where


def normalize(name: str) -> str:
    return "".join(KEEP.findall(name.lower())).lstrip("_-")


def project_name(file: str, declared: object, option: str | None = None,
                 env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(name, where it came from: "option", "environment", "name" or "directory")."""
    env = os.environ if env is None else env
    for where, given in (("option", option), ("environment", env.get("COMPOSE_PROJECT_NAME"))):
        if given:
            if normalize(given) != given:
                label = "-p/--project-name" if where == "option" else "COMPOSE_PROJECT_NAME"
                raise ProjectNameError(where, f"invalid project name {given!r} from {label}: {RULE}")
            return given, where
    if isinstance(declared, str) and declared:
        name, where = normalize(declared), "name"
    else:
        base = os.path.basename(os.path.dirname(os.path.abspath(file)))
        name, where = normalize(base), "directory"
    if not name:
        raise ProjectNameError(where, "the project name is empty once normalised (Compose keeps only "
                                      "[a-z0-9_-] and drops leading '_' and '-'); give `name:` or -p")
    return name, where


def kernel_prefix(project: str, taken: Callable[[str, str], bool] = lambda prefix, project: False) -> str:
    """The lab name netlab's kernel objects carry (namespaces `<prefix>-<container>`; 1-8
    [a-z0-9]): the project name itself when it fits, else up to three of its letters and
    digits and a hash of it, stable across runs. `taken(prefix, project)`: that prefix belongs
    to another lab on this machine; the next salt is tried."""
    if naming.LAB_NAME.fullmatch(project):
        return project
    letters = re.sub(r"[^a-z0-9]", "", project)[:3]
    for salt in range(1000):
        prefix = letters + naming.digest("compose", project, str(salt))[:8 - len(letters)]
        if not taken(prefix, project):
            return prefix
    raise ProjectNameError("option", f"no free kernel prefix for project {project!r}")
