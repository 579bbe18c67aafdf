"""A project in a folder of a monorepo (`project_dir`): rendered at the repository's root,
its answers file in its own folder.

Its template-update workflow is its own (named after it, its own concurrency group), no
`dependabot.yml` claims the repository's, `copier update --answers-file` updates it in
place, and its `Dockerfile.dockerignore` keeps secrets and environments out of the build
context, which is the whole repository. The workflows' schemas and zizmor are checked on
a monorepo render in tests/test_workflows.py; its image in tests/test_dependencies.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.git import git_save, template_repo
from tests.support.shell import run
from tests.support.template import answers_of, copy_project
from tests.support.updates import change_template, leftovers, render, status, update
from tests.support.workflows import load_workflow

APP = "apps/app-a"
ANSWERS_FILE = f"{APP}/.copier-answers.yml"


def in_monorepo(dst: Path, folder: str = APP, **answers: Any) -> Path:
    """`copier copy` at the repository's root, the project and its answers in folder."""
    name = folder.rsplit("/", 1)[-1].replace("-", " ").title()
    return copy_project(dst, project_name=name, project_dir=folder,
                        answers_file=f"{folder}/.copier-answers.yml", **answers)  # fmt: skip


# ── The repository's .github: each project's own files ──────────────────────


def test_each_projects_template_update_workflow_is_its_own(tmp_path: Path) -> None:
    """Two projects in one repository: two update workflows, each named after its
    project (so in its own concurrency group: `github.workflow` is the name), each
    updating its own folder on its own branch."""
    repo = in_monorepo(tmp_path / "repo")
    in_monorepo(repo, "apps/app-b")
    workflows = repo / ".github" / "workflows"
    found = {}
    for slug in ("app-a", "app-b"):
        path = workflows / f"{slug}-template-update.yml"
        assert path.is_file(), sorted(p.name for p in workflows.iterdir())
        found[slug] = load_workflow(path)
        workflow = found[slug]
        assert workflow["name"] == f"Template update ({slug})"
        assert workflow["concurrency"]["group"] == "${{ github.workflow }}"
        assert workflow["env"]["PROJECT_DIR"] == f"apps/{slug}"
        assert workflow["env"]["ANSWERS_FILE"] == f"apps/{slug}/.copier-answers.yml"
        assert workflow["env"]["BRANCH"] == f"template-update-{slug}"
    assert not (workflows / "template-update.yml").exists()
    assert found["app-a"]["name"] != found["app-b"]["name"]


@pytest.mark.parametrize("bot", ["workflow", "renovate", "both"])
def test_no_dependabot_configuration_in_a_monorepo(tmp_path: Path, bot: str) -> None:
    """The repository's dependabot.yml (and Renovate's renovate.json) are the team's:
    a project in a folder writes neither, whatever brings its updates."""
    repo = in_monorepo(tmp_path / "repo", update_bot=bot)
    assert answers_of(repo / APP)["update_bot"] == bot
    assert not (repo / ".github" / "dependabot.yml").exists()
    assert list(repo.rglob("dependabot.y*ml")) == []
    assert list(repo.rglob("renovate.json")) == []
    # The control: the same answers at the root do write it.
    if bot == "workflow":
        root = copy_project(tmp_path / "root", update_bot=bot)
        assert (root / ".github" / "dependabot.yml").is_file()


# ── copier update --answers-file ─────────────────────────────────────────────


def test_update_with_the_answers_file_in_the_projects_folder(tmp_path: Path) -> None:
    """v1 -> v2 from the repository's root, as the project's README and its update
    workflow run it: `copier update --answers-file apps/app-a/.copier-answers.yml`.
    The change lands in the project's folder, the team's edit stays, nothing strays
    to the root."""
    template = template_repo(tmp_path / "template")
    repo = render(template, tmp_path / "repo", vcs_ref="v1.0.0", project_name="App A",
                  project_dir=APP, answers_file=ANSWERS_FILE)  # fmt: skip
    project = repo / APP
    (project / "NOTES.md").write_text("Ours.\n")
    ours = project / "Dockerfile"
    ours.write_text("# Our own line.\n" + ours.read_text())
    git_save(repo, "Our notes")
    change_template(template)

    update(repo, answers_file=ANSWERS_FILE)

    assert yaml.safe_load((repo / ANSWERS_FILE).read_text())["_commit"] == "v2.0.0"
    assert leftovers(repo) == []
    assert (project / "CONTRIBUTING.md").read_text() == "# Contributing to App A\n"
    dockerfile = (project / "Dockerfile").read_text()
    assert 'LABEL org.opencontainers.image.title="app-a"\n' in dockerfile
    assert dockerfile.startswith("# Our own line.\n")
    assert (
        (project / "README.md")
        .read_text()
        .endswith("## Support\n\nQuestions about App A go to test-team@example.com.\n")
    )
    changed = {line[3:] for line in status(repo).splitlines()}
    assert changed == {f"{APP}/{name}" for name in (
        ".copier-answers.yml", "CONTRIBUTING.md", "Dockerfile", "README.md", "pyproject.toml",
    )}  # fmt: skip
    assert not (repo / ".copier-answers.yml").exists()
    assert sorted(p.name for p in repo.iterdir()) == [".git", ".github", "apps"]


# ── What the build context lets in ───────────────────────────────────────────

# Planted in the repository the build sends whole: next to the project, in it, in a
# library beside it, in another project.
KEPT = {
    f"{APP}/pyproject.toml", f"{APP}/poetry.lock", f"{APP}/README.md",
    f"{APP}/src/app_a/__init__.py", "libs/lib-x/pyproject.toml", "libs/lib-x/lib_x/__init__.py",
    "apps/app-b/README.md", "README.md",
}  # fmt: skip
LEFT_OUT = {
    # Secrets, by the conventions of includes/secrets.jinja, at every depth.
    ".env", f"{APP}/.env", f"{APP}/.env.local", "libs/lib-x/.env", "apps/app-b/server.key",
    f"{APP}/secrets/api-token", f"{APP}/src/app_a/.secrets/db-password", ".aws/credentials",
    f"{APP}/prod-service-account.json",
    # Environments, wherever Poetry or a team put them.
    ".venv/bin/python", f"{APP}/.venv/bin/python", "libs/lib-x/.venv/lib/site.py",
    # Version control and the template's files.
    ".git/HEAD", ".github/workflows/app-a-ci.yml", f"{APP}/.copier-answers.yml",
}  # fmt: skip


@pytest.mark.docker
def test_dockerfile_dockerignore_keeps_secrets_and_venvs_out_of_the_repository_context(
    tmp_path: Path, docker_engine: str
) -> None:
    """The project's Dockerfile.dockerignore applies to the repository-wide context (BuildKit
    reads `<Dockerfile>.dockerignore`): a Dockerfile in its place that copies the whole
    context out (FROM scratch) shows, by Docker's own rules, what a build may see."""
    repo = in_monorepo(tmp_path / "repo")
    shutil.rmtree(repo / APP / "src")
    for name in KEPT | LEFT_OUT:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        if not (repo / name).exists():
            (repo / name).write_text("planted\n")
    (repo / APP / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    out = tmp_path / "context"
    run(docker_engine, "build", "--file", f"{APP}/Dockerfile", "--output",
        f"type=local,dest={out}", ".", cwd=repo)  # fmt: skip
    sent = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert sent >= KEPT, KEPT - sent
    assert sent & LEFT_OUT == set()
    assert not [name for name in sent if ".venv" in name.split("/")]
