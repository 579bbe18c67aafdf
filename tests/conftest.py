"""Fixtures only: an isolated environment, rendered and installed projects, the Docker
engine and images built once a session. Plain helpers are in tests/support/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import plumbum
import pytest

from tests.support import apps, docker
from tests.support.shell import in_ci, package_index_url, run, skip_reason, unavailable
from tests.support.template import copy_project

# Fixture projects carry their own tests, run inside their rendered copies, never from here.
collect_ignore = ["fixtures"]


# ── In CI no test skips ──────────────────────────────────────────────────────
# Whatever the skip (pytest.skip, a skip or skipif mark, a module that skips itself), with
# CI set it is reported as a failure: CI runs every tier. An empty parametrization fails
# at collection anyway (empty_parameter_set_mark in pyproject.toml). xfail stays xfail.


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped with CI set, where no test may skip: {skip_reason(report)}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if in_ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped with CI set, where no test may skip: {skip_reason(report)}"
    return report


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep git, Copier and Poetry away from the user's configuration and caches."""
    home = tmp_path_factory.mktemp("home")
    (home / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    (home / "copier-settings.yml").write_text("{}\n")
    env = {
        # The dev venv's tools (poetry, hadolint, ...) even when pytest is run directly.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GIT_AUTHOR_NAME": "Template Tests",
        "GIT_AUTHOR_EMAIL": "tests@example.com",
        "GIT_COMMITTER_NAME": "Template Tests",
        "GIT_COMMITTER_EMAIL": "tests@example.com",
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "COPIER_CACHE_DIR": str(home / "copier-cache"),
        "COPIER_SETTINGS_PATH": str(home / "copier-settings.yml"),
        "POETRY_CACHE_DIR": str(home / "poetry-cache"),
        "POETRY_CONFIG_DIR": str(home / "poetry-config"),
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        # Each generated project keeps its venv inside its own tmp directory.
        "POETRY_VIRTUALENVS_IN_PROJECT": "true",
        # Poetry resolves through the simple index (see scripts/bootstrap.sh).
        "POETRY_PYPI_MIRROR_URL": package_index_url(),
    }
    # An activated venv (the dev one, when pytest runs from a shell that activated it)
    # would be the one Poetry uses for every generated project.
    unset = ["VIRTUAL_ENV"]
    saved = {key: os.environ.get(key) for key in [*env, *unset]}
    os.environ.update(env)
    for key in unset:
        os.environ.pop(key, None)
    # Copier runs tasks with plumbum's copy of the environment, taken at import.
    with plumbum.local.env(**env):
        for key in unset:
            if key in plumbum.local.env:
                del plumbum.local.env[key]
        yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def locked_project(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Path]:
    """A factory of rendered and locked projects, one per set of answers a session.

    Treat the result as read-only: copy it (shutil.copytree) before changing it.
    """
    cache: dict[tuple[tuple[str, Any], ...], Path] = {}

    def make(**overrides: Any) -> Path:
        key = tuple(sorted(overrides.items()))
        if key not in cache:
            name = "-".join(str(value) for _, value in key) or "defaults"
            dst = tmp_path_factory.mktemp(f"project-{name}")
            cache[key] = copy_project(dst, lock=True, **overrides)
        return cache[key]

    return make


@pytest.fixture(scope="session")
def installed_project(
    locked_project: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Path]:
    """A factory of locked projects committed to git and `poetry install`ed, one per
    set of answers a session (slow tier). Read-only too: copy it before changing it.
    """
    cache: dict[tuple[tuple[str, Any], ...], Path] = {}

    def make(**overrides: Any) -> Path:
        key = tuple(sorted(overrides.items()))
        if key not in cache:
            dst = tmp_path_factory.mktemp("installed") / "acme"
            shutil.copytree(locked_project(**overrides), dst)
            run("git", "init", "--quiet", cwd=dst)
            run("git", "add", "--all", cwd=dst)
            run("git", "commit", "--quiet", "--message", "Generated", cwd=dst)
            run("poetry", "install", "--no-interaction", cwd=dst)
            cache[key] = dst
        return cache[key]

    return make


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[str]:
    """The docker CLI, once an engine answers; without one, skip (or fail under CI).

    At the session's end, every image tagged for this session goes (tests/support/docker.py).
    """
    found = shutil.which("docker")
    answered = (
        found is not None
        and subprocess.run([found, "info"], capture_output=True, check=False).returncode == 0
    )
    if not answered:
        unavailable("no Docker engine answers `docker info`", "docker")
    assert found is not None
    yield found
    docker.remove_session_images(found)


@pytest.fixture(scope="session")
def build_image(docker_engine: str) -> Callable[..., docker.Image]:
    """Build a project directory's image once a session per (directory, name); the
    image is tagged for this session only (`docker.session_tag(name)`)."""
    built: dict[tuple[Path, str], docker.Image] = {}

    def build(project: Path, name: str, *extra: str, **options: Any) -> docker.Image:
        key = (project, name)
        if key not in built:
            built[key] = docker.build_image(project, name, *extra, **options)
        return built[key]

    return build


@pytest.fixture(scope="session")
def application(
    tmp_path_factory: pytest.TempPathFactory, build_image: Callable[..., docker.Image]
) -> Callable[[str, str], tuple[apps.Application, docker.Image]]:
    """Each fixture application, in place of the sample with the fixture's answers,
    built once a session per strategy (tests/support/apps.py)."""
    made: dict[tuple[str, str], tuple[apps.Application, docker.Image]] = {}

    def make(name: str, strategy: str) -> tuple[apps.Application, docker.Image]:
        if (name, strategy) not in made:
            app = apps.put_application(name, strategy, tmp_path_factory.mktemp(name) / "project")
            image = build_image(app.project, f"app-{name}-{strategy}", *app.build_args())
            made[name, strategy] = (app, image)
        return made[name, strategy]

    return make
