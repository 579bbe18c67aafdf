"""The rollout: a new template release reaches a project as one reviewed pull request.

The update job of the generated `.github/workflows/template-update.yml` runs for
real (tests/support/steps.py): the project is committed to a git repository, cloned
as actions/checkout would (every branch), and the job's `run:` steps run in the clone
against a template repository this test makes and tags (tests/support/git.py):
Copier updates to the newest tag, conflicts are listed, `poetry lock` runs when
pyproject.toml changed, and CI's conflict check fails where a conflict is left.
What needs GitHub (the App tokens, the pull request) is checked statically.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.git import git, git_save, template_repo
from tests.support.shell import run
from tests.support.steps import CONFLICT_CHECK, Job, StepResult, conflict_check
from tests.support.template import ROOT, answers_of, copy_project, read_toml, sample_file
from tests.support.updates import append, edit, render
from tests.support.workflows import action_of, load_workflow, the_step_using

WORKFLOW = Path(".github/workflows/template-update.yml")
# The step that installs Copier and Poetry: the test environment has those versions
# already (test_tools_are_the_tested_versions), so the tests skip it.
INSTALL = "Install Copier and Poetry"
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
UV_PIN = r"uv==[0-9][0-9.]*"


# ── Helpers ──────────────────────────────────────────────────────────────────


def release(template: Path, tag: str, text: str = "") -> None:
    """A template release that adds a line to the README and a new file."""
    append(sample_file(template, "README.md"), f"\n{text or tag} of the template.\n")
    (template / "template" / f"NOTES-{tag}.md").write_text(f"Since {tag}.\n")
    git_save(template, f"Template {tag}", tag=tag)


def checkout(project: Path, dst: Path) -> Path:
    """The project as actions/checkout leaves it with fetch-depth 0: every branch."""
    run("git", "clone", "--quiet", f"file://{project}", dst)
    return dst


# Stands in for GitHub's CLI: `gh pr list` counts the branch's open pull requests.
FAKE_GH = """#!/bin/sh
[ "$*" = "pr list --head template-update --state open --json number --jq length" ] || exit 2
echo "$FAKE_OPEN_PULL_REQUESTS"
"""


def run_update(
    workspace: Path, runner_temp: Path, version: str = "", open_pull_requests: int = 0
) -> tuple[dict[str, StepResult], str]:
    """The update job's steps in the workspace; its results and the pull request's text."""
    bin_dir = runner_temp.parent / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    results = Job(workspace / WORKFLOW, "update").run(
        workspace,
        runner_temp,
        values={
            "inputs.version": version,
            "github.token": "a-dummy-token",
            "github.repository": "acme/widget-service",
            "steps.template-token.outputs.token": "",
        },
        skip=(INSTALL,),
        env={
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_OPEN_PULL_REQUESTS": str(open_pull_requests),
        },
    )
    for result in results.values():
        assert result.returncode in (None, 0), f"{result.name}:\n{result.stdout}{result.stderr}"
    body = runner_temp / "template-update.md"
    return results, body.read_text() if body.exists() else ""


def staged(workspace: Path) -> dict[str, str]:
    """`git status --porcelain`: path -> its two status letters."""
    lines = git(workspace, "status", "--porcelain", "--untracked-files=all").splitlines()
    return {line[3:]: line[:2] for line in lines}


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return template_repo(tmp_path / "template")


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    return render(template, tmp_path / "project", vcs_ref="v1.0.0")


# ── The update job, run ──────────────────────────────────────────────────────


def test_update_job_brings_the_newest_release_into_one_staged_change(
    template: Path, project: Path, tmp_path: Path
) -> None:
    release(template, "v1.1.0")
    release(template, "v2.0.0")
    workspace = checkout(project, tmp_path / "workspace")

    results, body = run_update(workspace, tmp_path / "runner")

    assert results["plan"].outputs == {"skip": "false"}, "a local template: no token"
    assert not results["template-token"].condition_met
    assert results["update"].outputs == {
        "version": "v2.0.0", "changed": "true", "conflicts": "false", "lock": "unchanged",
    }  # fmt: skip
    assert answers_of(workspace)["_commit"] == "v2.0.0"
    # Everything staged for create-pull-request to commit; nothing unmerged.
    assert staged(workspace) == {
        ".copier-answers.yml": "M ",
        "NOTES-v1.1.0.md": "A ",
        "NOTES-v2.0.0.md": "A ",
        "README.md": "M ",
    }
    assert "from template version `v1.0.0` to `v2.0.0`" in body
    assert "None: your changes and the template's merged cleanly." in body
    assert "pyproject.toml did not change, so neither did poetry.lock." in body
    assert "- A `NOTES-v2.0.0.md`" in body
    # The pull request is opened (or refreshed) with the App's token.
    assert results["token"].condition_met
    assert results["pull-request"].condition_met
    assert conflict_check(workspace).returncode == 0


@pytest.mark.parametrize(("version", "expected"), [("", "v3.0.0"), ("v2.0.0", "v2.0.0")])
def test_run_on_demand_takes_the_version_asked_for(
    template: Path, project: Path, tmp_path: Path, version: str, expected: str
) -> None:
    """`workflow_dispatch` with `version`: a pilot project can try a release first."""
    release(template, "v2.0.0")
    release(template, "v3.0.0")
    workspace = checkout(project, tmp_path / "workspace")

    results, body = run_update(workspace, tmp_path / "runner", version)

    assert results["update"].outputs["version"] == expected
    assert answers_of(workspace)["_commit"] == expected
    assert f"to `{expected}`" in body


def test_nothing_new_changes_nothing_and_still_reaches_the_pull_request_step(
    project: Path, tmp_path: Path
) -> None:
    """No newer release: nothing staged; create-pull-request then closes a stale PR."""
    workspace = checkout(project, tmp_path / "workspace")

    results, _ = run_update(workspace, tmp_path / "runner")

    assert results["update"].outputs["changed"] == "false"
    assert staged(workspace) == {}
    assert results["pull-request"].condition_met


def test_a_conflict_is_listed_staged_and_fails_ci(
    template: Path, project: Path, tmp_path: Path
) -> None:
    """The team and the template move the same pin: the PR says so, CI stays red."""
    edit(project / "Dockerfile", UV_PIN, "uv==0.13.99")
    git_save(project, "Our uv")
    edit(template / "includes" / "docker" / "tools.jinja", UV_PIN, "uv==0.42.0")
    git_save(template, "Template's uv", tag="v2.0.0")
    workspace = checkout(project, tmp_path / "workspace")

    results, body = run_update(workspace, tmp_path / "runner")

    assert results["update"].outputs["conflicts"] == "true"
    assert "You and the template changed the same lines in these files." in body
    assert re.search(r"^- `Dockerfile`$", body, re.MULTILINE), body
    dockerfile = (workspace / "Dockerfile").read_text()
    assert "<<<<<<< before updating\n" in dockerfile
    assert ">>>>>>> after updating\n" in dockerfile
    # Staged, markers and all (create-pull-request cannot commit an unmerged index).
    assert git(workspace, "diff", "--name-only", "--diff-filter=U") == ""
    assert staged(workspace)["Dockerfile"] == "M "
    check = conflict_check(workspace)
    assert check.returncode == 1
    assert "::error file=Dockerfile,line=" in check.stdout


def test_a_conflict_in_pyproject_is_reported_when_the_lock_cannot_follow(
    template: Path, project: Path, tmp_path: Path
) -> None:
    """`poetry lock` cannot read a pyproject.toml with markers: the PR says to re-run it."""
    pin = r'^ruff = ".*"$'
    edit(project / "pyproject.toml", pin, 'ruff = ">=0.13"')
    git_save(project, "Our ruff")
    edit(sample_file(template, "pyproject.toml"), pin, 'ruff = ">=0.14"')
    git_save(template, "Template's ruff", tag="v2.0.0")
    workspace = checkout(project, tmp_path / "workspace")

    results, body = run_update(workspace, tmp_path / "runner")

    assert results["update"].outputs["lock"] == "failed"
    assert re.search(r"^- `pyproject.toml`$", body, re.MULTILINE), body
    assert "`poetry lock` failed" in body
    assert not (workspace / "poetry.lock").exists()


@pytest.mark.parametrize(
    ("pushed_by", "open_pull_requests", "left_alone"),
    [("bot", 1, False), ("someone", 1, True), ("someone", 0, False)],
    ids=["only-the-bot", "someone-and-open", "someone-but-closed"],
)
def test_a_branch_someone_else_pushed_to_is_left_alone_while_its_pr_is_open(
    template: Path,
    project: Path,
    tmp_path: Path,
    pushed_by: str,
    open_pull_requests: int,
    left_alone: bool,
) -> None:
    """create-pull-request force-pushes: the job must not erase a resolved conflict.

    Once the pull request is closed or squash-merged, a leftover branch is replaced.
    """
    release(template, "v2.0.0")
    git(project, "switch", "--quiet", "--create", "template-update")
    append(project / "README.md", "\nThe update of last week.\n")
    bot = {"GIT_AUTHOR_NAME": BOT[0], "GIT_AUTHOR_EMAIL": BOT[1]}
    run("git", "commit", "--quiet", "-am", "Update", cwd=project, env={**os.environ, **bot})
    if pushed_by == "someone":
        append(project / "README.md", "Resolved by hand.\n")
        git_save(project, "Resolve the conflict")
    git(project, "switch", "--quiet", "main")
    workspace = checkout(project, tmp_path / "workspace")

    results, _ = run_update(workspace, tmp_path / "runner", open_pull_requests=open_pull_requests)

    assert results["plan"].outputs["skip"] == str(left_alone).lower()
    notice = "::notice::The branch template-update has commits by Template Tests <"
    assert (notice in results["plan"].stdout) is left_alone
    for step in ("update", "token", "pull-request"):
        assert results[step].condition_met is not left_alone, step
    assert (staged(workspace) == {}) is left_alone


@pytest.mark.slow
def test_update_job_refreshes_the_lock_when_pyproject_changed(
    template: Path, tmp_path: Path, locked_project: Callable[..., Path]
) -> None:
    """A release adds a dependency: the job locks it, and the lock is in step again."""
    project = render(template, tmp_path / "project", vcs_ref="v1.0.0")
    locked = locked_project()
    assert (project / "pyproject.toml").read_text() == (locked / "pyproject.toml").read_text()
    shutil.copy2(locked / "poetry.lock", project / "poetry.lock")
    git_save(project, "Locked")
    edit(
        sample_file(template, "pyproject.toml"),
        r"^dependencies = \[\]$",
        'dependencies = ["idna>=3.7"]',
    )
    git_save(template, "Template v2: idna", tag="v2.0.0")
    workspace = checkout(project, tmp_path / "workspace")

    results, body = run_update(workspace, tmp_path / "runner")

    assert results["update"].outputs["lock"] == "refreshed"
    assert "`poetry lock` ran: the lock is up to date." in body
    assert staged(workspace)["poetry.lock"] == "M "
    assert 'name = "idna"' in (workspace / "poetry.lock").read_text()
    run("poetry", "check", "--lock", cwd=workspace)


# ── The workflow, read ───────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def workflow(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = copy_project(tmp_path_factory.mktemp("rollout") / "project", python_version="3.12")
    return load_workflow(project / WORKFLOW)


def test_runs_weekly_and_on_demand_only(workflow: dict[str, Any]) -> None:
    on = workflow["on"]
    assert set(on) == {"schedule", "workflow_dispatch"}
    (schedule,) = on["schedule"]
    assert re.fullmatch(r"\d+ \d+ \* \* [0-6]", schedule["cron"]), "once a week"
    assert set(on["workflow_dispatch"]["inputs"]) == {"version"}
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_tools_are_the_tested_versions(workflow: dict[str, Any]) -> None:
    """Copier as the template is tested with; Python, Poetry as the project's CI."""
    env = workflow["env"]
    dev = read_toml(ROOT / "pyproject.toml")["tool"]["poetry"]["group"]["dev"]["dependencies"]
    assert env["COPIER_VERSION"] == dev["copier"]
    assert env["POETRY_VERSION"] == dev["poetry"]
    assert env["POETRY_PLUGIN_EXPORT_VERSION"] == dev["poetry-plugin-export"]
    assert env["PYTHON_VERSION"] == "3.12"
    (install,) = [s for s in workflow["jobs"]["update"]["steps"] if s.get("name") == INSTALL]
    assert install["run"] == (
        'python -m pip install "copier==$COPIER_VERSION" "poetry==$POETRY_VERSION"'
        ' "poetry-plugin-export==$POETRY_PLUGIN_EXPORT_VERSION"'
    )


def test_least_privilege(workflow: dict[str, Any]) -> None:
    """GITHUB_TOKEN reads; one App token reads the template, one writes the PR."""
    job = workflow["jobs"]["update"]
    assert workflow["permissions"] == {}
    # Pull requests: whether the branch's is open (the branch guard's `gh pr list`).
    assert job["permissions"] == {"contents": "read", "pull-requests": "read"}
    checkout = the_step_using(job, "actions/checkout")["with"]
    assert checkout == {"persist-credentials": False, "fetch-depth": 0}
    tokens = {
        step["id"]: step["with"]
        for step in job["steps"]
        if action_of(step) == "actions/create-github-app-token"
    }
    app = {
        "client-id": "${{ vars.TEMPLATE_UPDATE_CLIENT_ID }}",
        "private-key": "${{ secrets.TEMPLATE_UPDATE_PRIVATE_KEY }}",
    }
    assert tokens == {
        "template-token": {
            **app,
            "owner": "${{ steps.plan.outputs.template-owner }}",
            "repositories": "${{ steps.plan.outputs.template-repository }}",
            "permission-contents": "read",
        },
        "token": {
            **app,
            "permission-contents": "write",
            "permission-pull-requests": "write",
            "permission-workflows": "write",
        },
    }
    # The write token reaches create-pull-request only, never a script.
    for step in job["steps"]:
        if "run" in step:
            assert "steps.token." not in str(step.get("env", {})), step["name"]


def test_pull_request_is_one_branch_with_the_jobs_text(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["update"]
    pull_request = the_step_using(job, "peter-evans/create-pull-request")["with"]
    env = workflow["env"]
    assert pull_request["token"] == "${{ steps.token.outputs.token }}", "not GITHUB_TOKEN"
    assert pull_request["branch"] == "${{ env.BRANCH }}"
    assert env["BRANCH"] == "template-update"
    assert pull_request["delete-branch"] is True
    assert pull_request["body-path"] == "${{ runner.temp }}/template-update.md"
    update = next(step for step in job["steps"] if step.get("id") == "update")
    assert 'body="$RUNNER_TEMP/template-update.md"' in update["run"]
    # The identity the branch guard recognises as its own.
    identity = "${{ env.BOT_NAME }} <${{ env.BOT_EMAIL }}>"
    assert pull_request["author"] == pull_request["committer"] == identity
    assert (env["BOT_NAME"], env["BOT_EMAIL"]) == BOT


def test_scripts_take_values_from_env_and_pass_shellcheck(
    workflow: dict[str, Any], tmp_path: Path
) -> None:
    steps = [step for step in workflow["jobs"]["update"]["steps"] if "run" in step]
    for step in steps:
        assert "${{" not in step["run"], step["name"]
        script = tmp_path / "step.sh"
        script.write_text(step["run"])
        run("shellcheck", "--shell=bash", script)


def test_ci_and_the_update_job_agree_on_what_a_conflict_is(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    ci = Job(project / ".github/workflows/ci.yml", "lint")
    check = ci.step_named(CONFLICT_CHECK)
    assert (
        check["env"]["CONFLICT_MARKERS"]
        == load_workflow(project / WORKFLOW)["env"]["CONFLICT_MARKERS"]
    )
    script = tmp_path / "check.sh"
    script.write_text(check["run"])
    run("shellcheck", "--shell=bash", script)
    # Right after the checkout: it needs nothing else, and fails fast.
    assert ci.steps.index(check) == 1
    assert action_of(ci.steps[0]) == "actions/checkout"
