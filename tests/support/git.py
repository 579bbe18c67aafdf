"""git in a test's repositories, and the template as a git repository of its own.

Like Copier's own tests, a test that needs template versions builds a template
repository under tmp_path from this checkout's template files (copier.yml, template/,
includes/, the working tree with uncommitted edits), commits and tags it. Nothing
depends on this repository's own tags, which a CI clone may lack.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from tests.support.shell import run
from tests.support.template import ROOT

# What a template release is made of; everything else in this repository stays behind.
TEMPLATE_PATHS = ("copier.yml", "template", "includes")


def git(repo: Path, *args: str) -> str:
    return run("git", *args, cwd=repo).stdout


def git_save(repo: Path, message: str, tag: str | None = None) -> None:
    """Commit everything (even nothing) and optionally tag it, as Copier's tests do."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "--message", message)
    if tag:
        git(repo, "tag", tag)


def template_from_working_tree(dst: Path) -> Path:
    """This checkout's template files as they are on disk, untracked ones included.

    The same files Copier itself renders from a dirty checkout (`copy_project`).
    """
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--")
    for name in listed.split("\0"):
        source = ROOT / name
        if name.startswith(TEMPLATE_PATHS) and source.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dst / name)
    return dst


def template_from_commit(revision: str, dst: Path) -> Path:
    """This repository's template files as committed at revision (`git archive`)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(TEMPLATE_PATHS)]
        tar.extractall(dst, members=members, filter="data")
    return dst


def template_repo(path: Path, tag: str = "v1.0.0") -> Path:
    """A git repository of the working tree's template, committed and tagged."""
    path.mkdir()
    template_from_working_tree(path)
    run("git", "init", "--quiet", cwd=path)
    git_save(path, "Template v1", tag=tag)
    return path
