"""An existing Poetry project adopts the template: only infrastructure files appear.

Each fixture under tests/fixtures/adopt/ is a project as a team has it: committed,
with its own pyproject.toml (PEP 621, or Poetry 1.x's [tool.poetry]), lock, code in
src/ or at the root, tests, README and .gitignore, one with an old Dockerfile. The
adoption command of docs/adopting.md runs in it, as a user types it (the answers read
off pyproject.toml and poetry.lock by its short program); then every file of the project
is as it was, the lock untouched, and the image builds, runs the project's command and
passes the generated CI's own smoke test.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.docker import Image
from tests.support.git import git_save, template_repo
from tests.support.shell import run
from tests.support.template import ROOT, answers_of
from tests.support.updates import append, update
from tests.support.workflows import run_checks

ADOPT = ROOT / "tests" / "fixtures" / "adopt"
# Each fixture: the command's extra answers, and what its command prints.
CASES = {
    "pep621-src": (["--data", "docker_strategy=export"],
                   "inventory-sync: 0 changes from shop.example"),
    "poetry1-flat": (["--data", "docker_strategy=wheel"],
                     "report-job: done (idna example.org)"),
    "caret38-old": (["--data", "docker_strategy=export"], "legacy-report: rows: 3"),
    "min310": (["--data", "docker_strategy=wheel"], "feed-api: &lt;feed&gt;"),
    # No console script to take the command from: the team gives it.
    "no-package-bot": (["--data", "docker_strategy=environment",
                        "--data", "docker_command='python bot.py'"], "chat-bot: hello"),
}  # fmt: skip
# What the program reads off each project: its name, the newest Python its constraint
# and its lock's wheels allow, its one console script.
DERIVED = {
    "pep621-src": ("inventory-sync", "3.13", "inventory-sync"),  # >=3.13,<3.14
    "poetry1-flat": ("report-job", "3.11", "report-job"),  # ~3.11
    "caret38-old": ("legacy-report", "3.13", "legacy-report"),  # ^3.8; pyyaml has no cp314
    "min310": ("feed-api", "3.13", "feed-api"),  # >=3.10; markupsafe has no cp314
    "no-package-bot": ("chat-bot", "3.13", "python bot.py"),  # package-mode = false
}
INFRASTRUCTURE = {
    "Dockerfile", ".dockerignore", ".copier-answers.yml", "compose.yaml",
    ".devcontainer/devcontainer.json", ".devcontainer/compose.yaml",
    "docker/stages/__main__.py", "docker/stages/base.py", "docker/stages/dependencies.py",
    "docker/stages/project.py", ".github/dependabot.yml", ".github/actions/poetry/action.yml",
    ".github/scripts/conflict-check.sh", ".github/scripts/smoke-test.sh",
    ".github/scripts/test-in-image.sh", ".github/scripts/template-update.sh",
    ".github/workflows/ci.yml", ".github/workflows/release.yml",
    ".github/workflows/template-update.yml",
    # The supply chain (issue 27): the audit, the secret scan and what they accept.
    ".github/workflows/audit.yml", ".github/scripts/audit.py", ".github/scripts/secret-scan.sh",
    ".secrets.baseline", "accepted-advisories.toml",
}  # fmt: skip


def docs_command() -> str:
    """The adoption command of docs/adopting.md, as a shell would run it."""
    page = (ROOT / "docs" / "adopting.md").read_text()
    block = re.search(r"<!-- adopt:begin -->\n```console\n(.*?)```\n<!-- adopt:end -->",
                      page, re.DOTALL)  # fmt: skip
    assert block, "docs/adopting.md shows the adoption command"
    return block[1]


def adopt(
    project: Path, *extra: str, output: str, template: str = f"--vcs-ref HEAD {ROOT}"
) -> None:
    """The documented command in project, from template (this working tree by default)."""
    command = (
        docs_command()
        .replace(
            '--data smoke_test_text="the line your command prints"',
            f'--data smoke_test_text="{output}" ' + " ".join(extra),
        )
        .replace("<template-url-or-path>", template or f"--vcs-ref HEAD {ROOT}")
    )
    # `copier` and `python3` as the user's PATH has them, here the dev environment's.
    bin_dir = Path(sys.executable).parent
    run("bash", "-ec", command, cwd=project,
        env={**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"})  # fmt: skip


def git(project: Path, *args: str) -> str:
    return run("git", *args, cwd=project).stdout


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, str]]:
    """Per fixture: the project after adoption, and the commit it had before."""
    made: dict[str, tuple[Path, str]] = {}

    def make(name: str) -> tuple[Path, str]:
        if name not in made:
            project = tmp_path_factory.mktemp(f"adopt-{name}") / "project"
            shutil.copytree(ADOPT / name / "project", project)
            git(project, "init", "--quiet")
            git(project, "add", "--all")
            git(project, "commit", "--quiet", "--message", "Our project")
            extra, output = CASES[name]
            adopt(project, *extra, output=output)
            made[name] = (project, git(project, "rev-parse", "HEAD").strip())
        return made[name]

    return make


@pytest.mark.parametrize("name", CASES)
def test_adoption_adds_only_the_infrastructure(
    adopted: Callable[[str], tuple[Path, str]], name: str
) -> None:
    project, _ = adopted(name)
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    changed = {line[3:] for line in status.splitlines()}
    assert changed <= INFRASTRUCTURE, changed - INFRASTRUCTURE
    assert {".copier-answers.yml", "Dockerfile", ".github/workflows/ci.yml"} <= changed
    assert ".adopt-answers.yml" not in changed, "the command cleans up after itself"
    # Every file the project had is byte for byte what it committed, except an old
    # Dockerfile and .dockerignore, which the template's replace (--overwrite).
    modified = {line[3:] for line in status.splitlines() if line[:2] == " M"}
    assert modified <= {"Dockerfile", ".dockerignore"}
    assert git(project, "diff", "--stat", "--", ":!Dockerfile", ":!.dockerignore") == ""


@pytest.mark.parametrize("name", CASES)
def test_the_answers_come_from_the_project(
    adopted: Callable[[str], tuple[Path, str]], name: str
) -> None:
    project, _ = adopted(name)
    answers = answers_of(project)
    derived = (answers["project_name"], answers["python_version"], answers["docker_command"])
    assert derived == DERIVED[name]
    assert answers["starter"] is False
    assert "author_name" not in answers, "questions only the sample needs are not asked"


@pytest.mark.docker
@pytest.mark.parametrize("name", CASES)
def test_the_adopted_project_builds_runs_and_passes_ci_smoke_test(
    adopted: Callable[[str], tuple[Path, str]],
    build_image: Callable[..., Image],
    name: str,
    tmp_path: Path,
) -> None:
    project, _ = adopted(name)
    image = build_image(project, f"adopt-{name}")
    assert image.run().stdout == CASES[name][1] + "\n"
    assert run_checks(project, tmp_path, {"IMAGE": image.tag}) == [0, 0]


# A line of the template's own in the generated .dockerignore and in the CI workflow.
V2_IGNORE = "**/.template-v2-cache\n"
V2_WORKFLOW = "# Template v2: a line of the template's own.\n"


@pytest.mark.parametrize("name", ["pep621-src", "poetry1-flat"])
def test_an_update_brings_the_template_change_and_leaves_the_project_files_alone(
    tmp_path: Path, name: str
) -> None:
    """Adopted at a template's v1 (its newest tag then, as `copier copy` takes it),
    updated to v2: the template's files carry v2's change, and pyproject.toml, the lock,
    README, code and tests stay byte for byte as the team committed them."""
    template = template_repo(tmp_path / "template")
    project = tmp_path / "project"
    shutil.copytree(ADOPT / name / "project", project)
    git(project, "init", "--quiet")
    git_save(project, "Our project")
    extra, output = CASES[name]
    adopt(project, *extra, output=output, template=str(template))
    assert answers_of(project)["_commit"] == "v1.0.0"
    git_save(project, "Adopt the template")
    ours = {
        path: path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file()
        and ".git" not in path.relative_to(project).parts
        and path.relative_to(project).as_posix() not in INFRASTRUCTURE
    }
    assert project / "pyproject.toml" in ours
    append(template / "includes" / "dockerignore.jinja", V2_IGNORE)
    workflows = template / "template" / ".github" / "workflows"
    (ci,) = workflows.glob("{{ 'ci' if *")
    append(ci, V2_WORKFLOW)
    git_save(template, "Template v2", tag="v2.0.0")

    update(project)

    assert answers_of(project)["_commit"] == "v2.0.0"
    assert (project / ".dockerignore").read_text().endswith(V2_IGNORE)
    assert (project / ".github" / "workflows" / "ci.yml").read_text().endswith(V2_WORKFLOW)
    changed = {line[3:] for line in git(project, "status", "--porcelain").splitlines()}
    assert changed == {".copier-answers.yml", ".dockerignore", ".github/workflows/ci.yml"}
    assert {path: path.read_bytes() for path in ours} == ours


def test_a_command_that_cannot_be_derived_is_asked_for(tmp_path: Path) -> None:
    """A package-mode = false project installs no console script: the command stops,
    writing nothing of the template's, and says which answer to give."""
    project = tmp_path / "project"
    shutil.copytree(ADOPT / "no-package-bot" / "project", project)
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Our project")
    with pytest.raises(AssertionError, match="--data docker_command="):
        adopt(project, output="chat-bot: hello")
    assert not (project / "Dockerfile").exists()
    assert git(project, "status", "--porcelain") == "?? .adopt-answers.yml\n"


def test_no_python_fits_a_constraint_beyond_the_choices(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ADOPT / "min310" / "project", project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('">=3.10"', '">=3.10,<3.11"'))
    refusal = re.escape("No Python from 3.11 to 3.14 fits '>=3.10,<3.11'")
    with pytest.raises(AssertionError, match=refusal):
        adopt(project, output="feed-api")
    assert not (project / ".copier-answers.yml").exists()
