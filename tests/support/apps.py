"""The fixture applications (tests/fixtures/apps/): put in place of the sample as a team
would, with the fixture's answers, never touching a file the template made."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.git import git
from tests.support.shell import run
from tests.support.template import ROOT, copy_project

APPS = ROOT / "tests" / "fixtures" / "apps"
FIXTURES: dict[str, dict[str, Any]] = {
    path.parent.name: yaml.safe_load(path.read_text()) for path in APPS.glob("*/fixture.yml")
}
# What an application folder may hold after someone checked it in place.
LEFT_BEHIND = shutil.ignore_patterns(".venv", "dist", ".poetry", "__pycache__")
# The files the template owns, which a team never edits (docker/build-steps.sh is the
# team's: the template writes it once).
TEMPLATE_FILES = [
    "Dockerfile", ".dockerignore", "compose.yaml", ".github/workflows/ci.yml",
    ".github/workflows/release.yml",
    ".github/scripts/smoke-test.sh", "docker/stages/__main__.py", "docker/stages/project.py",
]  # fmt: skip


@dataclass(frozen=True)
class Application:
    name: str
    strategy: str
    project: Path
    fixture: dict[str, Any]

    def build_args(self) -> list[str]:
        """PROJECT_VERSION, derived from git as the generated CI derives it, when the
        fixture's project is a tagged git repository."""
        if "git_tag" not in self.fixture:
            return []
        version = run(sys.executable, "docker/stages", "project-version", cwd=self.project)
        return ["--build-arg", f"PROJECT_VERSION={version.stdout.strip()}"]


def put_application(name: str, strategy: str, dst: Path) -> Application:
    """Render with the fixture's answers, then replace the sample with the application
    (and, for a fixture with `git_tag`, commit it and tag it)."""
    fixture = FIXTURES[name]
    project = copy_project(dst, docker_strategy=strategy, **fixture["answers"])
    template_made = template_files(project)
    for sample in ("src", "tests"):
        shutil.rmtree(project / sample)
    shutil.copytree(APPS / name / "app", project, ignore=LEFT_BEHIND, dirs_exist_ok=True)
    assert template_files(project) == template_made, "no template-made file was touched"
    if "git_tag" in fixture:
        git(project, "init", "--quiet")
        git(project, "add", "--all")
        git(project, "commit", "--quiet", "--message", "The application")
        git(project, "tag", fixture["git_tag"])
    return Application(name, strategy, project, fixture)


def template_files(project: Path) -> dict[str, str]:
    return {name: (project / name).read_text() for name in TEMPLATE_FILES}
