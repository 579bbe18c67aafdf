"""This template under test: where it is, the answers every test starts from, rendering
it (`copy_project`), and reading what a render holds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import copier
import yaml

from tests.support.shell import run

ROOT = Path(__file__).resolve().parents[2]
ANSWERS: dict[str, Any] = yaml.safe_load((ROOT / "tests" / "answers.yml").read_text())


def copy_project(
    dst: Path,
    *,
    lock: bool = False,
    template: Path | str = ROOT,
    vcs_ref: str | None = "HEAD",
    answers_file: str | None = None,
    **overrides: Any,
) -> Path:
    """Render a template into dst: by default this working tree (HEAD plus edits).

    Answers are tests/answers.yml with overrides on top, passed as `--data`, so
    Copier validates them. No `--trust`: the template has no tasks. With lock=True,
    `poetry lock` runs in the project afterwards, as the after-copy message's
    `poetry install` does first. vcs_ref=None takes the template's newest tag, as
    `copier copy` does. answers_file: where the answers go (`--answers-file`), e.g.
    for a project in a monorepo, `apps/app-a/.copier-answers.yml`.

    `--skip-tasks` is there for earlier releases only, whose copy task (`poetry lock`)
    Copier would otherwise refuse to run without `--trust`; lock=True does its work.
    """
    answers = {**ANSWERS, **overrides}
    copier.run_copy(
        str(template),
        dst,
        data=answers,
        defaults=True,
        vcs_ref=vcs_ref,
        skip_tasks=True,
        quiet=True,
        answers_file=answers_file or None,  # None: Copier's default, .copier-answers.yml
    )
    if lock:
        run("poetry", "lock", "--no-interaction", cwd=dst / answers.get("project_dir", "."))
    return dst


def sample_file(template: Path, name: str) -> Path:
    """A starter file of the template, by its rendered name: `sample_file(t, "README.md")`.

    They sit in the project's folder and are written only for a new project (`starter`).
    """
    folder = template / "template" / "{{ project_dir }}"
    return folder / f"{{% if starter %}}{name}{{% endif %}}.jinja"


def answers_of(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def read_toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


def tool_versions() -> dict[str, str]:
    """includes/versions.jinja, the one place the template writes each tool's version:
    {"poetry": "2.5.1", "poetry-plugin-export": ..., "uv": ...}."""
    text = (ROOT / "includes" / "versions.jinja").read_text()
    found = re.findall(r'^\{% set (\w+)_version = "([^"]+)" %\}$', text, re.MULTILINE)
    return {name.replace("_", "-"): version for name, version in found}


def break_locked_hashes(lock: Path, package: str) -> None:
    """In poetry.lock, one hex digit changed in each sha256 of the package's files.

    Each one: with only the wheel's hash wrong, an installer rightly takes the sdist,
    whose hash still matches, and builds it."""
    (locked,) = [p for p in read_toml(lock)["package"] if p["name"] == package]
    text = lock.read_text()
    for file in locked["files"]:
        digest = file["hash"].removeprefix("sha256:")
        assert text.count(digest) == 1
        text = text.replace(digest, ("1" if digest[0] == "0" else "0") + digest[1:])
    lock.write_text(text)
