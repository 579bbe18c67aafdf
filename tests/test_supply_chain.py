"""The supply chain of every generated project (issue 27): its dependencies audited, its
workflows audited by zizmor, no secret committed, its published image attested.

Every project gets them: a new one at the root, one in a monorepo (`project_dir`) and
an adopted one (`starter=false`, which has no pre-commit configuration, so only CI runs
the checks there). Statically: the workflows' schemas, zizmor, their triggers,
permissions and steps. Then the steps run for real, as a runner runs them
(tests/support/steps.py): the secret scan on a planted token, zizmor on a planted
workflow, and the audit against a stand-in of OSV (tests/support/vulnerability_service.py)
that reports a planted advisory, accepts it until a date, or fails. tests/test_act.py's
sibling, tests/test_act_supply_chain.py, runs the lint and audit jobs whole under act.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.shell import run
from tests.support.steps import Job, StepResult
from tests.support.template import ROOT, copy_project, read_toml, tool_versions
from tests.support.vulnerability_service import VulnerabilityService
from tests.support.workflows import (
    PINS,
    action_of,
    all_steps,
    check_schema,
    load_workflow,
    steps,
    the_step_using,
    zizmor_findings,
)

VERSIONS = tool_versions()
# Each kind of project: its answers, and where the project sits in the repository.
LAYOUTS: dict[str, tuple[dict[str, Any], str]] = {
    "root": ({}, "."),
    "monorepo": ({"project_dir": "apps/x"}, "apps/x"),
    "adopted": ({"starter": False, "docker_command": "hello"}, "."),
}
SECRET_STEP = "No secrets in committed files"
ZIZMOR_STEP = "Workflows, audited by zizmor"
INSTALL_LINT_TOOLS_STEP = "Install detect-secrets and zizmor"
AUDIT_STEP = "pip-audit, on the locked main dependencies"
INSTALL_AUDIT_STEP = "Install pip-audit"
PACKAGE = "acme_widget_service"


def planted_token() -> str:
    """A GitHub token's shape, made here so that no scanner finds one in this file."""
    return "ghp_" + "Zq7Xw2Vb9Kp4" * 3


def workflow_named(project: Path, kind: str) -> Path:
    """ci.yml or audit.yml at the root; <slug>-ci.yml, <slug>-audit.yml in a monorepo."""
    (found,) = (project / ".github" / "workflows").glob(f"*{kind}.yml")
    return found


def commit(project: Path) -> None:
    run("git", "init", "--quiet", cwd=project)
    run("git", "add", "--all", cwd=project)
    run("git", "commit", "--quiet", "--message", "Generated", cwd=project)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Each layout rendered once for this module (no lock), committed to git."""
    cache: dict[str, Path] = {}

    def render(layout: str) -> Path:
        if layout not in cache:
            dst = tmp_path_factory.mktemp(f"supply-{layout}") / "repo"
            copy_project(dst, **LAYOUTS[layout][0])
            commit(dst)
            cache[layout] = dst
        return cache[layout]

    return render


@pytest.fixture(params=list(LAYOUTS))
def layout(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def project_dir(repository: Path, layout: str) -> Path:
    return repository / LAYOUTS[layout][1]


# ── Every project gets each check ────────────────────────────────────────────


def test_every_project_gets_the_files(rendered: Callable[[str], Path], layout: str) -> None:
    repository = rendered(layout)
    project = project_dir(repository, layout)
    baseline = json.loads((project / ".secrets.baseline").read_text())
    assert baseline["version"] == VERSIONS["detect-secrets"]
    assert baseline["results"] == {}
    (own,) = [f for f in baseline["filters_used"] if f["path"].endswith(".is_baseline_file")]
    assert own["filename"] == (project / ".secrets.baseline").relative_to(repository).as_posix()
    accepted = read_toml(project / "accepted-advisories.toml")
    assert accepted == {}, "no advisory accepted: the file only says how"
    for script in ("audit.py", "secret-scan.sh"):
        assert (repository / ".github" / "scripts" / script).is_file()
    check_schema("vendor.github-workflows", workflow_named(repository, "audit"))
    assert zizmor_findings(repository / ".github") == []


def test_the_team_owns_its_accepted_lists() -> None:
    """An update never overwrites the accepted secrets or advisories (`_skip_if_exists`),
    and neither reaches an image's build context."""
    config = (ROOT / "copier.yml").read_text()
    for name in (".secrets.baseline", "accepted-advisories.toml"):
        assert f"project_dir ~ '/' }}}}{name}\"" in config, name
        assert f"**/{name}\n" in (ROOT / "includes" / "dockerignore.jinja").read_text()


def test_pre_commit_runs_the_scanner_and_zizmor_as_ci_pins_them(
    rendered: Callable[[str], Path], layout: str
) -> None:
    """A new project's hooks run its locked tools, pinned to the versions CI runs; an
    adopted project has no pre-commit configuration (its own tooling stays), so CI
    alone runs them there."""
    repository = rendered(layout)
    project = project_dir(repository, layout)
    config = project / ".pre-commit-config.yaml"
    if layout == "adopted":
        assert not config.exists()
        return
    prefix = "" if LAYOUTS[layout][1] == "." else f"{LAYOUTS[layout][1]}/"
    repos = yaml.safe_load(config.read_text())["repos"]
    hooks = {hook["id"]: hook for repo in repos for hook in repo["hooks"]}
    secrets, zizmor = hooks["detect-secrets"], hooks["zizmor"]
    baseline = f"{prefix}.secrets.baseline"
    assert secrets["entry"].endswith(f" run detect-secrets-hook --baseline {baseline}")
    # detect-secrets leaves out only a baseline in ./ itself; the hook's `exclude:` does.
    assert re.search(secrets["exclude"], baseline)
    assert zizmor["entry"].endswith(" run zizmor --offline .github")
    assert zizmor["pass_filenames"] is False
    # pre-commit runs from the repository's root; in a monorepo `files:` is the project's.
    assert zizmor.get("always_run") is (True if prefix else None)
    dev = read_toml(project / "pyproject.toml")["tool"]["poetry"]["group"]["dev"]["dependencies"]
    assert dev["detect-secrets"] == VERSIONS["detect-secrets"]
    assert dev["zizmor"] == VERSIONS["zizmor"]


# ── The lint job ─────────────────────────────────────────────────────────────


def test_lint_job_scans_for_secrets_and_audits_the_workflows(
    rendered: Callable[[str], Path], layout: str
) -> None:
    """Two steps every project runs, with the pinned tools; pre-commit skips its own
    copies of them, so each runs once."""
    lint = load_workflow(workflow_named(rendered(layout), "ci"))["jobs"]["lint"]
    named = {step.get("name"): step for step in steps(lint)}
    scan, zizmor = named[SECRET_STEP], named[ZIZMOR_STEP]
    install = named[INSTALL_LINT_TOOLS_STEP]
    assert install["env"] == {
        "DETECT_SECRETS_VERSION": VERSIONS["detect-secrets"], "ZIZMOR_VERSION": VERSIONS["zizmor"],
    }  # fmt: skip
    assert install["run"].split() == [
        "python", "-m", "pip", "install",
        '"detect-secrets==$DETECT_SECRETS_VERSION"', '"zizmor==$ZIZMOR_VERSION"',
    ]  # fmt: skip
    assert scan["run"] == 'bash "$GITHUB_WORKSPACE/$SCRIPTS/secret-scan.sh"'
    assert zizmor["run"] == 'zizmor --offline "$GITHUB_WORKSPACE/.github"'
    order = [step.get("name") or action_of(step) for step in steps(lint)]
    # After the Python that pip installs into; the tools before their steps, before pre-commit.
    assert order.index("./.github/actions/poetry") < order.index(INSTALL_LINT_TOOLS_STEP)
    assert order.index(INSTALL_LINT_TOOLS_STEP) < order.index(SECRET_STEP)
    assert order.index(INSTALL_LINT_TOOLS_STEP) < order.index(ZIZMOR_STEP)
    pre_commit = named.get("pre-commit")
    if pre_commit is not None:
        assert order.index(ZIZMOR_STEP) < order.index("pre-commit")
        assert {"detect-secrets", "zizmor"} <= set(pre_commit["env"]["SKIP"].split(","))


def lint_step(repository: Path, layout: str, name: str, tmp_path: Path) -> StepResult:
    """One step of the lint job, run in the project as a runner runs it."""
    job = Job(workflow_named(repository, "ci"), "lint")
    results = job.run(repository, tmp_path / "runner-temp", only=name,
                      env={"GITHUB_WORKSPACE": str(repository)})  # fmt: skip
    return results[name]


@pytest.fixture
def repository(rendered: Callable[[str], Path], layout: str, tmp_path: Path) -> Path:
    """A copy of the layout's committed render, to plant things in."""
    copy = tmp_path / "repo"
    shutil.copytree(rendered(layout), copy)
    return copy


def test_the_clean_sample_passes_the_secret_scan(
    repository: Path, layout: str, tmp_path: Path
) -> None:
    result = lint_step(repository, layout, SECRET_STEP, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No secret that" in result.stdout


def test_a_planted_token_fails_the_secret_scan_naming_the_place_not_the_value(
    repository: Path, layout: str, tmp_path: Path
) -> None:
    project = project_dir(repository, layout)
    planted = project / "settings.py"
    planted.write_text(f'"""Settings."""\n\nTOKEN = "{planted_token()}"\n')
    run("git", "add", "--all", cwd=repository)
    result = lint_step(repository, layout, SECRET_STEP, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    where = planted.relative_to(repository).as_posix()
    assert f"::error file={where},line=3::A possible secret." in output
    assert "Secret Type: GitHub Token" in output
    assert planted_token() not in output
    assert planted_token()[4:16] not in output, "not even part of it"


def test_a_finding_accepted_in_the_baseline_passes(
    repository: Path, layout: str, tmp_path: Path
) -> None:
    """The README's way to accept a false positive: `detect-secrets scan --baseline`."""
    project = project_dir(repository, layout)
    (project / "fixtures.py").write_text(f'"""Test data."""\n\nFAKE = "{planted_token()}"\n')
    run("git", "add", "--all", cwd=repository)
    baseline = (project / ".secrets.baseline").relative_to(repository).as_posix()
    where = LAYOUTS[layout][1]
    run("detect-secrets", "scan", "--baseline", baseline, where, cwd=repository)
    results = json.loads((project / ".secrets.baseline").read_text())["results"]
    accepted = (project / "fixtures.py").relative_to(repository).as_posix()
    assert list(results) == [accepted], "accepted under the path pre-commit passes"
    run("git", "add", "--all", cwd=repository)
    result = lint_step(repository, layout, SECRET_STEP, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflows_pass_zizmor_and_a_planted_weakness_fails_it(
    repository: Path, layout: str, tmp_path: Path
) -> None:
    """A workflow a team adds that expands a pull request's title in its script (template
    injection) fails the lint job's zizmor step; the generated ones pass it."""
    result = lint_step(repository, layout, ZIZMOR_STEP, tmp_path / "clean")
    assert result.returncode == 0, result.stdout + result.stderr
    (repository / ".github" / "workflows" / "greet.yml").write_text(INJECTABLE_WORKFLOW)
    result = lint_step(repository, layout, ZIZMOR_STEP, tmp_path / "planted")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "template-injection" in output
    assert "greet.yml" in output


INJECTABLE_WORKFLOW = """\
name: Greet
on: pull_request
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "Thanks for ${{ github.event.pull_request.title }}"
"""


# ── The audit workflow ───────────────────────────────────────────────────────


def test_audit_runs_on_lock_changes_and_weekly(
    rendered: Callable[[str], Path], layout: str
) -> None:
    repository = rendered(layout)
    path = workflow_named(repository, "audit")
    workflow = load_workflow(path)
    prefix = "" if LAYOUTS[layout][1] == "." else f"{LAYOUTS[layout][1]}/"
    assert set(workflow["on"]) == {"pull_request", "schedule", "workflow_dispatch"}
    assert workflow["on"]["pull_request"]["paths"] == [
        f"{prefix}poetry.lock",
        f"{prefix}accepted-advisories.toml",
        f".github/workflows/{path.name}",
        ".github/scripts/audit.py",
    ]
    (schedule,) = workflow["on"]["schedule"]
    _minute, _hour, day, month, weekday = schedule["cron"].split()
    assert (day, month) == ("*", "*"), "every week"
    assert re.fullmatch(r"[0-6]", weekday), "on one day of it"
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    assert workflow["env"]["PIP_AUDIT_VERSION"] == VERSIONS["pip-audit"]
    checkout = the_step_using(job, "actions/checkout")
    assert checkout["with"] == {"persist-credentials": False}
    for _, step in all_steps(workflow):
        assert "${{" not in step.get("run", "")
        if "uses" in step and not step["uses"].startswith("./"):
            action, _, sha = step["uses"].partition("@")
            assert PINS[action][0] == sha
    # In a monorepo the job runs in the project's folder, where poetry.lock is.
    working = workflow.get("defaults", {}).get("run", {}).get("working-directory", ".")
    assert working == LAYOUTS[layout][1]


@pytest.fixture(scope="module")
def audited(
    locked_project: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """A locked project with main dependencies (PostgreSQL's driver), on the Python of
    this test run (the audit reads the lock's markers for its own Python), and pip-audit
    installed by the job's own step. The project, and the runner's temp folder."""
    project = locked_project(database="postgres", python_version="3.11")
    temp = tmp_path_factory.mktemp("audit-runner")
    job = Job(workflow_named(project, "audit"), "audit")
    result = job.run(project, temp, only=INSTALL_AUDIT_STEP)[INSTALL_AUDIT_STEP]
    assert result.returncode == 0, result.stdout + result.stderr
    return project, temp


def locked_main(project: Path) -> dict[str, str]:
    """The lock's main dependencies that Linux installs: name -> version."""
    return {
        package["name"]: package["version"]
        for package in read_toml(project / "poetry.lock")["package"]
        if "main" in package.get("groups", []) and "win32" not in package.get("markers", "")
    }


def audit(
    audited: tuple[Path, Path], tmp_path: Path, service: VulnerabilityService, accepted: str = ""
) -> StepResult:
    """The audit step, in a copy of the project, against the stand-in."""
    source, temp = audited
    project = tmp_path / "project"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns(".venv"))
    if accepted:
        (project / "accepted-advisories.toml").write_text(accepted)
    job = Job(workflow_named(project, "audit"), "audit")
    env = {"GITHUB_WORKSPACE": str(project), "PIP_AUDIT_OSV_URL": service.url}
    return job.run(project, temp, only=AUDIT_STEP, env=env)[AUDIT_STEP]


def test_the_audit_asks_for_every_locked_main_dependency_and_passes_without_advisories(
    audited: tuple[Path, Path], tmp_path: Path
) -> None:
    project, _ = audited
    main = locked_main(project)
    assert {"psycopg", "psycopg-binary"} <= set(main)
    with VulnerabilityService() as service:
        result = audit(audited, tmp_path, service)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No known vulnerabilities found" in result.stdout + result.stderr
    # The main group only: no development tool is audited.
    assert sorted(service.queries) == sorted(main.items())


def accept(advisory: str, expires: datetime.date) -> str:
    return f'[[advisory]]\nid = "{advisory}"\nreason = "Not reachable from our code."\n' \
           f"expires = {expires.isoformat()}\n"  # fmt: skip


def test_a_known_vulnerability_fails_the_audit_naming_it(
    audited: tuple[Path, Path], tmp_path: Path
) -> None:
    project, _ = audited
    with VulnerabilityService() as service:
        service.plant("psycopg", locked_main(project)["psycopg"], "GHSA-test-0001", "99.0")
        result = audit(audited, tmp_path, service)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Found 1 known vulnerability in 1 package" in output
    assert re.search(r"^psycopg +[\d.]+ +CVE-2099-\d{4} +99\.0 ", output, re.MULTILINE), output


def test_an_accepted_advisory_passes_until_it_expires(
    audited: tuple[Path, Path], tmp_path: Path
) -> None:
    project, _ = audited
    today = datetime.datetime.now(datetime.UTC).date()
    version = locked_main(project)["psycopg"]
    with VulnerabilityService() as service:
        service.plant("psycopg", version, "GHSA-test-0002", "99.0")
        still = audit(audited, tmp_path / "still", service, accept("GHSA-test-0002", today))
        expired = audit(audited, tmp_path / "expired", service,
                        accept("GHSA-test-0002", today - datetime.timedelta(days=1)))  # fmt: skip
    assert still.returncode == 0, still.stdout + still.stderr
    assert f"Accepted until {today}: GHSA-test-0002 (Not reachable from our code.)" in still.stdout
    assert "1 ignored" in still.stdout + still.stderr
    assert expired.returncode == 1, expired.stdout + expired.stderr
    assert "::error::accepted-advisories.toml: GHSA-test-0002 was accepted until" in expired.stdout


@pytest.mark.parametrize(
    "entry",
    ['id = "GHSA-x"\nexpires = 2099-01-01\n', 'id = "GHSA-x"\nreason = "r"\n',
     'id = "GHSA-x"\nreason = "r"\nexpires = "2099-01-01"\n',
     'reason = "r"\nexpires = 2099-01-01\n'],
    ids=["no-reason", "no-expiry", "expiry-not-a-date", "no-id"],
)  # fmt: skip
def test_an_entry_without_reason_or_date_fails_the_audit(
    audited: tuple[Path, Path], tmp_path: Path, entry: str
) -> None:
    with VulnerabilityService() as service:
        result = audit(audited, tmp_path, service, f"[[advisory]]\n{entry}")
    assert result.returncode == 1
    assert "entry 1 needs an id, a reason and a date" in result.stdout
    assert service.queries == [], "refused before anything is asked"


def test_an_unanswering_service_fails_the_audit(audited: tuple[Path, Path], tmp_path: Path) -> None:
    """No answer is not a clean bill of health."""
    with VulnerabilityService(failing=True) as service:
        result = audit(audited, tmp_path, service)
    assert result.returncode != 0, result.stdout + result.stderr
    assert service.queries, "it asked"


# ── The publish job (release.yml) ────────────────────────────────────────────


def test_publish_job_attests_the_pushed_digest(
    rendered: Callable[[str], Path], layout: str
) -> None:
    """GitHub's artifact attestation of the very digest the build pushed, stored with
    the repository and pushed beside the image; signing rights in this job alone."""
    repository = rendered(layout)
    jobs = load_workflow(workflow_named(repository, "release"))["jobs"]
    publish = jobs["publish"]
    build = the_step_using(publish, "docker/build-push-action")
    attest = the_step_using(publish, "actions/attest")
    assert steps(publish).index(build) < steps(publish).index(attest)
    assert build["id"] == "build"
    assert build["with"]["push"] is True
    meta = the_step_using(publish, "docker/metadata-action")
    assert attest["with"] == {
        "subject-name": meta["with"]["images"],
        "subject-digest": "${{ steps.build.outputs.digest }}",
        "push-to-registry": True,
        "create-storage-record": False,
    }
    assert attest["if"] == "vars.IMAGE_ATTESTATION != 'off'"
    signing = {"id-token", "attestations"}
    assert {k: v for k, v in publish["permissions"].items() if k in signing} == {
        "id-token": "write",
        "attestations": "write",
    }
    workflows = sorted((repository / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) == 4
    for path in workflows:
        for name, job in load_workflow(path)["jobs"].items():
            if (path.name, name) != (workflow_named(repository, "release").name, "publish"):
                assert not signing & set(job.get("permissions", {})), (path.name, name)
