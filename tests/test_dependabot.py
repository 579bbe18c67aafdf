"""Two bots, one line: Dependabot and the template never change the same line.

The generated `.github/dependabot.yml` gives each line one owner: the template owns
the action pins of the workflows it renders and the constraints it writes into
pyproject.toml (Dependabot excludes those workflows, and changes only poetry.lock);
Dependabot owns poetry.lock and the workflows a team adds. The scenario runs
`copier update` for real: a project whose pins Dependabot bumped as its config
allows, then a template release that moves the same pins, ends without a conflict.
The control bumps them as if Dependabot ignored its config: the conflicts appear,
and CI's conflict check fails on them.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.git import git_save, template_repo
from tests.support.steps import conflict_check
from tests.support.template import ROOT, answers_of, copy_project, sample_file
from tests.support.updates import leftovers, render, update
from tests.support.workflows import PINS

CHECKOUT_SHA, CHECKOUT_TAG = PINS["actions/checkout"]
# Made-up releases of actions/checkout: what Dependabot proposes, then the template.
DEPENDABOT_PIN = f"actions/checkout@{'d' * 40} # v7.1.0"
TEMPLATE_PIN = f"actions/checkout@{'e' * 40} # v8.0.0"
RUFF = r'^ruff = ".*"$'
# A workflow of the team's own, next to the template's.
DEPLOY = f"""name: Deploy
on: workflow_dispatch
permissions: {{}}
jobs:
  deploy:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@{CHECKOUT_SHA} # {CHECKOUT_TAG}
        with:
          persist-credentials: false
"""
# Stands in for the lock the copy task writes: Copier never reads or renders it.
LOCK = '[[package]]\nname = "ruff"\nversion = "0.12.0"\n'


def config(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / ".github" / "dependabot.yml").read_text())
    return loaded


def dependabot_may_change(config: dict[str, Any], ecosystem: str, path: str) -> bool:
    """Whether Dependabot's version updates, configured so, may change the file.

    What the options mean (GitHub's Dependabot options reference): an ecosystem not
    listed is not updated; `exclude-paths` globs are relative to the repository's root;
    `versioning-strategy: lockfile-only` changes the lock file, never the manifest.
    """
    for entry in config["updates"]:
        if entry["package-ecosystem"] != ecosystem:
            continue
        if any(fnmatch(path, pattern) for pattern in entry.get("exclude-paths", [])):
            continue
        manifest = ecosystem == "pip" and path == "pyproject.toml"
        if manifest and entry.get("versioning-strategy") == "lockfile-only":
            continue
        return True
    return False


# What Dependabot would change in each file, by ecosystem.
FILES = {
    ".github/workflows/ci.yml": "github-actions",
    ".github/workflows/release.yml": "github-actions",
    ".github/workflows/template-update.yml": "github-actions",
    ".github/workflows/audit.yml": "github-actions",
    ".github/actions/poetry/action.yml": "github-actions",
    ".github/workflows/deploy.yml": "github-actions",
    "pyproject.toml": "pip",
    "poetry.lock": "pip",
    "Dockerfile": "docker",
}
OWNED_BY_DEPENDABOT = {".github/workflows/deploy.yml", "poetry.lock"}


def test_each_file_has_one_owner(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    rendered = {
        path.relative_to(project).as_posix()
        for path in (project / ".github" / "workflows").glob("*.yml")
    }
    assert rendered < set(FILES), "every workflow the template renders is in FILES"
    owned = {path for path, ecosystem in FILES.items()
             if dependabot_may_change(config(project), ecosystem, path)}  # fmt: skip
    assert owned == OWNED_BY_DEPENDABOT
    assert not list((ROOT / "template").glob("poetry.lock*")), "the template has no lock"


@pytest.mark.parametrize(
    ("update_bot", "dependabot"), [("workflow", True), ("both", False), ("renovate", False)]
)
def test_dependabot_only_where_renovate_is_not_the_dependency_bot(
    tmp_path: Path, update_bot: str, dependabot: bool
) -> None:
    """One dependency bot per repository: with Renovate (tests/test_renovate.py), two
    bots would propose the same poetry.lock update twice."""
    project = copy_project(tmp_path / "project", update_bot=update_bot)
    assert (project / ".github" / "dependabot.yml").exists() is dependabot
    assert (project / "renovate.json").exists() is not dependabot


def bump(path: Path, pattern: str, replacement: str) -> None:
    """Replace every match (at least one) of a regex in a file."""
    text, found = re.subn(pattern, replacement, path.read_text(), flags=re.MULTILINE)
    assert found, f"{pattern!r} is not in {path}"
    path.write_text(text)


def dependabot_bumps(project: Path, *, as_configured: bool) -> set[str]:
    """Bump checkout's pin and ruff the way Dependabot does, where its config allows."""
    checkout = rf"actions/checkout@{CHECKOUT_SHA} # {CHECKOUT_TAG}"
    changes = {
        ".github/workflows/ci.yml": (checkout, DEPENDABOT_PIN),
        ".github/workflows/release.yml": (checkout, DEPENDABOT_PIN),
        ".github/workflows/template-update.yml": (checkout, DEPENDABOT_PIN),
        ".github/workflows/deploy.yml": (checkout, DEPENDABOT_PIN),
        # versioning-strategy `increase`, had it been allowed to change pyproject.toml.
        "pyproject.toml": (RUFF, 'ruff = ">=0.15.0"'),
        "poetry.lock": (r'^version = "0.12.0"$', 'version = "0.15.0"'),
    }
    bumped = set()
    for path, (pattern, replacement) in changes.items():
        if dependabot_may_change(config(project), FILES[path], path) or not as_configured:
            bump(project / path, pattern, replacement)
            bumped.add(path)
    git_save(project, "Bump the actions group and ruff (Dependabot)")
    return bumped


@pytest.mark.parametrize("as_configured", [True, False], ids=["as-configured", "config-ignored"])
def test_template_update_after_dependabot_ends_without_a_conflict(
    tmp_path: Path, as_configured: bool
) -> None:
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project", vcs_ref="v1.0.0")
    (project / ".github" / "workflows" / "deploy.yml").write_text(DEPLOY)
    (project / "poetry.lock").write_text(LOCK)
    git_save(project, "Our deploy workflow; the lock")
    bumped = dependabot_bumps(project, as_configured=as_configured)
    # The next template release moves the same pin and the same constraint.
    for workflow in (template / "template" / ".github" / "workflows").glob("*.jinja"):
        bump(workflow, rf"actions/checkout@{CHECKOUT_SHA} # {CHECKOUT_TAG}", TEMPLATE_PIN)
    bump(sample_file(template, "pyproject.toml"), RUFF, 'ruff = ">=0.14"')
    git_save(template, "Template v2: checkout v8, ruff 0.14", tag="v2.0.0")

    update(project)

    assert answers_of(project)["_commit"] == "v2.0.0"
    fresh = render(template, tmp_path / "fresh", vcs_ref="v2.0.0")
    check = conflict_check(project, script=fresh / ".github" / "scripts" / "conflict-check.sh")
    if as_configured:
        assert bumped == OWNED_BY_DEPENDABOT
        assert leftovers(project) == []
        assert check.returncode == 0, check.stdout
        workflows = project / ".github" / "workflows"
        assert TEMPLATE_PIN in (workflows / "ci.yml").read_text()
        assert DEPENDABOT_PIN not in (workflows / "ci.yml").read_text()
        assert TEMPLATE_PIN in (workflows / "template-update.yml").read_text()
        assert TEMPLATE_PIN in (workflows / "release.yml").read_text()
        assert DEPENDABOT_PIN in (workflows / "deploy.yml").read_text()
        assert 'ruff = ">=0.14"' in (project / "pyproject.toml").read_text()
        assert 'version = "0.15.0"' in (project / "poetry.lock").read_text()
    else:
        # Both changed the template's lines: every one of them is a conflict, and CI fails.
        assert leftovers(project) == sorted(bumped - OWNED_BY_DEPENDABOT)
        assert check.returncode == 1
