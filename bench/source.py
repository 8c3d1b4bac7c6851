"""Which netlab is measured: a copy of the working tree's netlab/ taken at the start
(default), or a git revision exported (--rev). A copy, because other developers edit the
tree while a run of several minutes goes on, and one run must measure one version."""
from __future__ import annotations

import compileall
import os
import shutil
import subprocess

import paths


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", paths.REPO, *args], capture_output=True, text=True).stdout.strip()


def describe(rev: str | None) -> str:
    if rev:
        return f"git {rev} ({_git('rev-parse', '--short', rev)}), exported"
    dirty = len([l for l in _git("status", "--porcelain", "--", "netlab").splitlines() if l])
    head = _git("rev-parse", "--short", "HEAD")
    return f"working tree at {head}" + (f" with {dirty} uncommitted files under netlab/" if dirty else "") + \
        ", copied at the start"


def environment(rev: str | None, scratch: str) -> dict:
    """The environment for every netlab subprocess: the copy comes first on PYTHONPATH, ahead
    of the editable install's finder. Subprocesses run with the scratch folder as their cwd,
    so `python -m netlab` never picks up the repository's netlab/ instead."""
    dest = os.path.join(scratch, "src")
    os.makedirs(dest)
    if rev:
        archive = subprocess.run(["git", "-C", paths.REPO, "archive", rev, "netlab"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", dest], input=archive.stdout, check=True)
    else:
        shutil.copytree(os.path.join(paths.REPO, "netlab"), os.path.join(dest, "netlab"),
                        ignore=shutil.ignore_patterns("__pycache__"))
    # byte-compile now, or the first timed command would pay for it
    compileall.compile_dir(os.path.join(dest, "netlab"), quiet=1)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [dest, env.get("PYTHONPATH")]))
    return env
