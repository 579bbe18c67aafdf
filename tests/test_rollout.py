"""The rollout: a new template release reaches a project as one reviewed pull request.

The update job of the generated `.github/workflows/template-update.yml` runs for
real (tests/support/steps.py): the project is committed to a git repository, cloned
as actions/checkout would (every branch), and the job's `run:` steps, which call
`.github/scripts/template-update.sh`, run in the clone against a template repository
this test makes and tags (tests/support/git.py): Copier updates to the newest tag
without `--trust`, conflicts are listed, so are the answers a release added or
dropped, a change of the team's to a file the template moved is kept as a `.rej`,
`poetry lock` runs when pyproject.toml changed, and CI's conflict check fails where a
conflict is left. What needs GitHub (the App tokens, the pull request) is checked
statically.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.git import git, git_save, template_repo
from tests.support.shell import run
from tests.support.steps import CONFLICT_CHECK, Job, StepResult, conflict_check
from tests.support.template import (
    ROOT,
    answers_of,
    copy_project,
    sample_file,
    tool_versions,
)
from tests.support.updates import (
    append,
    conflicting_uv_pins,
    edit,
    project_of_a_release_with_tasks,
    rename_question,
    render,
)
from tests.support.workflows import action_of, load_workflow, the_step_using

WORKFLOW = Path(".github/workflows/template-update.yml")
SCRIPT = Path(".github/scripts/template-update.sh")
# The step that installs Copier: the test environment has that version already
# (test_tools_are_the_tested_versions), so the tests skip it. Poetry comes with the
# local action, a `uses:` step, which does not run here.
INSTALL = "Install Copier"
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


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
    workspace: Path,
    runner_temp: Path,
    version: str = "",
    open_pull_requests: int = 0,
    *,
    succeeds: bool = True,
) -> tuple[dict[str, StepResult], str]:
    """The update job's steps in the workspace; its results and the pull request's text.

    succeeds: every step that runs passes (else the test looks at the failure itself).
    """
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
        if succeeds:
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
    assert "with `copier update --defaults --conflict inline" in body, "no --trust"
    assert "**A new major version (1 → 2).**" in body
    assert "None: your changes and the template's merged cleanly." in body
    assert "The same questions as before, with your answers." in body
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


def test_a_minor_release_says_nothing_of_manual_steps(
    template: Path, project: Path, tmp_path: Path
) -> None:
    release(template, "v1.1.0")
    workspace = checkout(project, tmp_path / "workspace")

    _, body = run_update(workspace, tmp_path / "runner")

    assert "to `v1.1.0`" in body
    assert "major version" not in body


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
    conflicting_uv_pins(project, template, ours="0.13.99", theirs="0.42.0")
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


@pytest.mark.parametrize("edited", [True, False], ids=["edited", "unedited"])
def test_a_moved_file_keeps_the_teams_change_as_a_rej_file(
    template: Path, tmp_path: Path, edited: bool
) -> None:
    """Copier deletes a file the template moved or removed, with the team's changes in
    it and no word. The job puts those changes into `<file>.rej` (a patch from the
    file as the template had rendered it), so the PR lists it and CI fails until
    they are carried over; an unchanged file just moves."""
    (template / "template" / "docs").mkdir()
    (template / "template" / "docs" / "GUIDE.md").write_text("# Guide\n\nRead me.\n")
    git_save(template, "A guide", tag="v1.1.0")
    project = render(template, tmp_path / "project", vcs_ref="v1.1.0")
    if edited:
        append(project / "docs" / "GUIDE.md", "\nOur deployment notes.\n")
        git_save(project, "Our notes in the guide")
    git(template, "mv", "template/docs/GUIDE.md", "template/GUIDE.md")
    git_save(template, "The guide moves to the root", tag="v2.0.0")
    workspace = checkout(project, tmp_path / "workspace")

    results, body = run_update(workspace, tmp_path / "runner")

    assert (workspace / "GUIDE.md").read_text() == "# Guide\n\nRead me.\n"
    assert not (workspace / "docs" / "GUIDE.md").exists()
    rejected = workspace / "docs" / "GUIDE.md.rej"
    assert rejected.exists() is edited
    assert results["update"].outputs["conflicts"] == str(edited).lower()
    check = conflict_check(workspace)
    assert check.returncode == (1 if edited else 0), check.stdout
    if edited:
        assert re.search(r"^\+Our deployment notes\.$", rejected.read_text(), re.MULTILINE)
        assert re.search(r"^- `docs/GUIDE.md.rej`$", body, re.MULTILINE), body
        assert staged(workspace)["docs/GUIDE.md.rej"] == "A "


def test_answers_a_release_added_or_dropped_are_listed(template: Path, tmp_path: Path) -> None:
    """A question renamed without keeping the old name: Copier drops the answer and the
    new question takes its default. No migration (those need --trust) says so; the
    pull request does, next to the CHANGELOG link."""
    project = render(template, tmp_path / "project", vcs_ref="v1.0.0", coverage_threshold="75")
    rename_question(template, "coverage_threshold", "coverage_minimum", keep_old_name=False)
    git_save(template, "Rename coverage_threshold, plainly", tag="v2.0.0")
    workspace = checkout(project, tmp_path / "workspace")

    _, body = run_update(workspace, tmp_path / "runner")

    answers = body.split("### Answers\n")[1].split("\n### ")[0]
    assert "- new: `coverage_minimum`, answered `90` (the default)" in answers
    assert "- no longer asked: `coverage_threshold` (it was `75`)" in answers


def test_a_project_of_a_release_with_tasks_is_told_the_one_manual_step(
    tmp_path: Path,
) -> None:
    """Copier refuses to update a project from a version with tasks without --trust.
    Such a project's own workflow (of that release) passes it; this job does not, and
    says what to run once by hand instead of failing obscurely."""
    _, project = project_of_a_release_with_tasks(tmp_path)
    # v1.0.0 is this working tree plus the task: the project has this tree's job.
    workspace = checkout(project, tmp_path / "workspace")

    results, _ = run_update(workspace, tmp_path / "runner", succeeds=False)

    assert results["update"].returncode == 1
    assert "::error::This project's template version (v1.0.0) has tasks" in (
        results["update"].stdout
    )
    assert "copier update --trust --conflict inline" in results["update"].stdout
    assert not results["pull-request"].condition_met
    assert answers_of(workspace)["_commit"] == "v1.0.0"


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
    """Copier as the template is tested with, from includes/versions.jinja; Python and
    Poetry as the project's CI, through the same local action."""
    env = workflow["env"]
    assert env["COPIER_VERSION"] == tool_versions()["copier"]
    assert env["PYTHON_VERSION"] == "3.12"
    steps = workflow["jobs"]["update"]["steps"]
    poetry = the_step_using(workflow["jobs"]["update"], "./.github/actions/poetry")
    assert poetry["with"] == {"python-version": "${{ env.PYTHON_VERSION }}"}
    (install,) = [s for s in steps if s.get("name") == INSTALL]
    assert install["run"] == 'python -m pip install "copier==$COPIER_VERSION"'
    assert steps.index(poetry) < steps.index(install), "the project's Python first"


def test_steps_run_the_templates_script(workflow: dict[str, Any]) -> None:
    """The shell lives in .github/scripts/template-update.sh, called as CI calls its own."""
    steps = {step.get("id"): step for step in workflow["jobs"]["update"]["steps"]}
    assert workflow["env"]["SCRIPTS"] == ".github/scripts"
    for name in ("plan", "update"):
        assert steps[name]["run"] == f'bash "$GITHUB_WORKSPACE/$SCRIPTS/template-update.sh" {name}'


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
    script = (ROOT / "template" / ".github" / "scripts").glob("*template-update.sh*")
    assert 'body="$RUNNER_TEMP/template-update.md"' in next(script).read_text()
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
    project = copy_project(tmp_path / "project")
    run("shellcheck", "--shell=bash", project / SCRIPT)


def test_the_job_finds_conflicts_with_cis_own_check(tmp_path: Path) -> None:
    """One definition of a conflict: the update script runs the lint job's script."""
    project = copy_project(tmp_path / "project")
    ci = Job(project / ".github/workflows/ci.yml", "lint")
    check = ci.step_named(CONFLICT_CHECK)
    assert check["run"] == 'bash "$GITHUB_WORKSPACE/$SCRIPTS/conflict-check.sh"'
    assert 'bash "$here/conflict-check.sh"' in (project / SCRIPT).read_text()
    # Right after the checkout: it needs nothing else, and fails fast.
    assert ci.steps.index(check) == 1
    assert action_of(ci.steps[0]) == "actions/checkout"


@pytest.mark.parametrize(
    ("update_bot", "rendered"), [("workflow", True), ("both", True), ("renovate", False)]
)
def test_the_workflow_and_its_script_come_unless_renovate_alone_updates(
    tmp_path: Path, update_bot: str, rendered: bool
) -> None:
    project = copy_project(tmp_path / "project", update_bot=update_bot)
    assert (project / WORKFLOW).exists() is rendered
    assert (project / SCRIPT).exists() is rendered
    names = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert names["update_bot"] == update_bot
