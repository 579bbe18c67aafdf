"""No conflict is ever committed silently: CI's lint job fails on markers and .rej files.

`copier update` leaves git-style markers (`<<<<<<< before updating` ...
`>>>>>>> after updating`) where a team and the template changed the same lines, or,
with `--conflict rej`, a `<file>.rej` beside the file. The lint job's step "No
conflict markers, no .rej files" runs the script `.github/scripts/conflict-check.sh`:
it runs here for real in a rendered project committed to git, with one such leftover
planted at a time, and once through the lint job's own step (tests/support/steps.py).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.support.git import git_save
from tests.support.shell import run
from tests.support.steps import CONFLICT_CHECK, Job, StepResult, conflict_check
from tests.support.template import copy_project

# What a project may hold (a file's path and text) and whether the check must fail.
CASES: dict[str, tuple[str, str, bool]] = {
    "inline-conflict": (
        "src/acme_widget_service/__init__.py",
        "<<<<<<< before updating\nours = 1\n=======\ntheirs = 2\n>>>>>>> after updating\n",
        True,
    ),
    "only-the-end-marker": ("Dockerfile", "RUN true\n>>>>>>> after updating\n", True),
    "bare-marker": ("README.md", "text\n<<<<<<<\n", True),
    "diff3-base-marker": ("pyproject.toml", "||||||| base\n", True),
    "rej-file": ("pyproject.toml.rej", "@@ -1 +1 @@\n-a\n+b\n", True),
    "rej-file-in-a-folder": ("src/acme_widget_service/app.py.rej", "@@ -1 +1 @@\n", True),
    # Not conflicts: a Markdown heading's underline, markers inside a line.
    "setext-heading": ("docs/GUIDE.md", "Guide12\n=======\n\nText.\n", False),
    "marker-inside-a-line": ("tests/test_text.py", 'MARKER = "<<<<<<< before"\n', False),
    "eight-angle-brackets": ("NOTES.md", "<<<<<<<< not git's\n", False),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("conflicts") / "project")


def check(project: Path) -> StepResult:
    result = conflict_check(project)
    assert "::error" not in result.stderr, "annotations go to stdout, where GitHub reads them"
    return result


def committed_copy(rendered: Path, dst: Path) -> Path:
    shutil.copytree(rendered, dst)
    run("git", "init", "--quiet", cwd=dst)
    git_save(dst, "Generated")
    return dst


def test_a_rendered_project_passes(rendered: Path, tmp_path: Path) -> None:
    result = check(committed_copy(rendered, tmp_path / "project"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "No conflict markers, no .rej files.\n"


@pytest.mark.parametrize("planted", [False, True], ids=["clean", "a-conflict"])
def test_the_lint_job_runs_the_script(rendered: Path, tmp_path: Path, planted: bool) -> None:
    """The step as GitHub runs it: `bash "$GITHUB_WORKSPACE/$SCRIPTS/conflict-check.sh"`."""
    project = committed_copy(rendered, tmp_path / "project")
    if planted:
        (project / "README.md").write_text("<<<<<<< before updating\n")
    job = Job(project / ".github" / "workflows" / "ci.yml", "lint")
    assert job.step_named(CONFLICT_CHECK)["run"] == (
        'bash "$GITHUB_WORKSPACE/$SCRIPTS/conflict-check.sh"'
    )
    result = job.run(project, tmp_path / "runner-temp", only=CONFLICT_CHECK)[CONFLICT_CHECK]
    assert result.ran
    assert result.returncode == (1 if planted else 0), result.stdout + result.stderr
    assert ("::error file=README.md,line=1::" in result.stdout) is planted


def test_the_script_passes_shellcheck(rendered: Path) -> None:
    run("shellcheck", "--shell=bash", rendered / ".github" / "scripts" / "conflict-check.sh")


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "untracked"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_leftover_fails_and_is_named(
    rendered: Path, tmp_path: Path, case: str, committed: bool
) -> None:
    """Committed (CI's case) or not yet (the check run by hand before a commit)."""
    name, text, fails = CASES[case]
    project = committed_copy(rendered, tmp_path / "project")
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if committed:
        git_save(project, "A leftover")

    result = check(project)

    assert result.returncode == (1 if fails else 0), result.stdout + result.stderr
    assert (f"::error file={name}" in result.stdout) is fails


def test_every_leftover_is_reported_not_only_the_first(rendered: Path, tmp_path: Path) -> None:
    project = committed_copy(rendered, tmp_path / "project")
    failing = {name: text for name, text, fails in CASES.values() if fails}
    for name, text in failing.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    git_save(project, "Leftovers")

    result = check(project)

    assert result.returncode == 1
    assert set(re.findall(r"^::error file=([^,:]+)", result.stdout, re.MULTILINE)) == set(failing)
