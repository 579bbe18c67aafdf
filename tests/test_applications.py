"""Docker tier: real applications in place of the sample, built with answers only.

Each fixture under tests/fixtures/apps/ (its README says which failure class it
guards against) is used as a team would: the template rendered with the fixture's
answers, the sample's src/ and tests/ deleted, the application's code, manifest and
lock copied over, and the template's Dockerfile, .dockerignore and workflow left
untouched. Each applicable strategy is built once a session; the tests then run
what fixture.yml lists, the generated workflow's own smoke test, and look at what
the image holds and what it does not.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.docker import Image
from tests.support.matrix import STRATEGIES
from tests.support.shell import run
from tests.support.template import ROOT, copy_project, read_toml
from tests.support.workflows import run_checks

pytestmark = pytest.mark.docker

APPS = ROOT / "tests" / "fixtures" / "apps"
FIXTURES = {
    path.parent.name: yaml.safe_load(path.read_text()) for path in APPS.glob("*/fixture.yml")
}
BUILDS = [(name, s) for name, fixture in FIXTURES.items() for s in fixture["strategies"]]
REFUSED = [(name, s) for name, fixture in FIXTURES.items() for s in fixture.get("refused", {})]
RUNS = [
    (name, strategy, number)
    for name, strategy in BUILDS
    for number in range(len(FIXTURES[name]["runs"]))
]
# What an application folder may hold after someone checked it in place.
LEFT_BEHIND = shutil.ignore_patterns(".venv", "dist", ".poetry", "__pycache__")


@dataclass(frozen=True)
class Application:
    name: str
    strategy: str
    project: Path
    fixture: dict[str, Any]


def put_application(name: str, strategy: str, dst: Path) -> Application:
    """Render with the fixture's answers, then replace the sample with the application."""
    fixture = FIXTURES[name]
    project = copy_project(dst, docker_strategy=strategy, **fixture["answers"])
    template_made = template_files(project)
    for sample in ("src", "tests"):
        shutil.rmtree(project / sample)
    shutil.copytree(APPS / name / "app", project, ignore=LEFT_BEHIND, dirs_exist_ok=True)
    assert template_files(project) == template_made, "no template-made file was touched"
    return Application(name, strategy, project, fixture)


def template_files(project: Path) -> dict[str, str]:
    """The infrastructure files the template owns, which a team does not edit."""
    names = ["Dockerfile", ".dockerignore", ".github/workflows/ci.yml"]
    return {name: (project / name).read_text() for name in names}


@pytest.fixture(scope="session")
def application(
    tmp_path_factory: pytest.TempPathFactory, build_image: Callable[..., Image]
) -> Callable[[str, str], tuple[Application, Image]]:
    """Each (fixture, strategy) rendered, filled and built once a session."""
    made: dict[tuple[str, str], tuple[Application, Image]] = {}

    def make(name: str, strategy: str) -> tuple[Application, Image]:
        if (name, strategy) not in made:
            app = put_application(name, strategy, tmp_path_factory.mktemp(name) / "project")
            made[name, strategy] = (app, build_image(app.project, f"app-{name}-{strategy}"))
        return made[name, strategy]

    return make


def ids(case: tuple[Any, ...]) -> str:
    return "-".join(map(str, case))


# ── What fixture.yml promises ────────────────────────────────────────────────


@pytest.mark.parametrize(("name", "strategy", "number"), RUNS, ids=[ids(c) for c in RUNS])
def test_application_runs(
    application: Callable[[str, str], tuple[Application, Image]],
    name: str,
    strategy: str,
    number: int,
) -> None:
    app, image = application(name, strategy)
    expected = app.fixture["runs"][number]
    result = image.run(*expected["argv"], check=False)
    assert result.returncode == 0, result.stderr
    if "stdout" in expected:
        assert result.stdout == expected["stdout"], result.stderr
    else:
        assert re.fullmatch(expected["stdout_regex"], result.stdout), result.stdout


@pytest.mark.parametrize(("name", "strategy"), BUILDS, ids=[ids(c) for c in BUILDS])
def test_generated_workflow_smoke_test_passes(
    application: Callable[[str, str], tuple[Application, Image]],
    name: str,
    strategy: str,
    tmp_path: Path,
) -> None:
    """The image job's own checks, run on the real image: its smoke test (exact
    output, or a log line and a prompt stop) fits the answers, and it is not root."""
    app, image = application(name, strategy)
    codes = run_checks(app.project, tmp_path, {"IMAGE": image.tag})
    mode = app.fixture["answers"].get("smoke_test", "output")
    assert codes == ([0, None, 0] if mode == "output" else [None, 0, 0])


@pytest.mark.parametrize(("name", "strategy"), REFUSED, ids=[ids(c) for c in REFUSED])
def test_strategy_that_cannot_fit_is_refused_at_once(
    tmp_path: Path, docker_engine: str, name: str, strategy: str
) -> None:
    """A package-mode=false project fails the export and wheel builds before any
    dependency is installed, with a message that names the strategy to use."""
    app = put_application(name, strategy, tmp_path / "project")
    result = run(docker_engine, "build", "--progress=plain", ".", cwd=app.project, check=False)
    assert result.returncode != 0
    assert re.search(app.fixture["refused"][strategy], result.stderr), result.stderr
    # By the project stage's build step, the first to see the project.
    steps = dict(re.findall(r"^#(\d+) (\[[^\]]+\] .*)$", result.stderr, re.MULTILINE))
    failed = re.findall(r"^#(\d+) ERROR", result.stderr, re.MULTILINE)
    assert [steps[number].split()[0] for number in failed] == ["[project"], result.stderr


# ── The rules of "Your code in the image" ────────────────────────────────────


def test_environment_ships_the_files_of_the_context(
    application: Callable[[str, str], tuple[Application, Image]],
) -> None:
    """/app holds what the build context holds (and its bytecode), nothing else."""
    _, image = application("django-like-no-package", "environment")
    listing = image.run("find", "/app", "-path", "/app/.venv", "-prune", "-o", "-type", "f",
                        "-print").stdout  # fmt: skip
    shipped = {p.removeprefix("/app/") for p in listing.split() if "/__pycache__/" not in p}
    assert shipped == {
        "README.md", "alembic.ini", "gunicorn.py", "manage.py", "poetry.lock",
        "pyproject.toml", "migrations/__init__.py", "migrations/0001_initial.py",
        "mysite/__init__.py", "mysite/settings.py", "mysite/wsgi.py",
    }  # fmt: skip
    assert image.run("python", "-c", "import sys; print('/app' in sys.path[1:])").stdout == (
        "True\n"
    ), "/app on the import path, after site-packages"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_compiled_dependencies_leave_the_compiler_behind(
    application: Callable[[str, str], tuple[Application, Image]], strategy: str
) -> None:
    """psycopg2 is compiled from source in the builder; the image has only libpq."""
    _, image = application("psycopg-from-source", strategy)
    found = image.run("sh", "-c", "command -v gcc cc pg_config; ls /usr/include/postgresql",
                      check=False)  # fmt: skip
    assert found.stdout == ""
    assert "No such file" in found.stderr
    assert image.run("python", "-c", "import psycopg2; print(psycopg2.__file__)").stdout.startswith(
        "/app/.venv/lib/"
    )
    wheels = image.run("sh", "-c", "ls /app/.venv/lib/*/site-packages | grep -i binary",
                       check=False)  # fmt: skip
    assert wheels.stdout == "", "built from the sdist, not psycopg2-binary"


def test_every_strategy_installs_the_same_distributions_with_the_extras(
    application: Callable[[str, str], tuple[Application, Image]],
) -> None:
    installed = {
        strategy: distributions(application("service-extras-home", strategy)[1])
        for strategy in STRATEGIES
    }
    assert installed["export"] == installed["wheel"] == installed["environment"]
    assert ("idna", locked_version("service-extras-home", "idna")) in installed["export"]
    assert ("acme-service", "0.3.0") in installed["export"]


def distributions(image: Image) -> set[tuple[str, str]]:
    listing = image.run("python", "-c", (
        "import importlib.metadata as m, json;"
        "print(json.dumps([(d.metadata['Name'], d.version) for d in m.distributions()]))"
    )).stdout  # fmt: skip
    return {(name.lower(), version) for name, version in json.loads(listing)}


def locked_version(name: str, package: str) -> str:
    lock = read_toml(APPS / name / "app" / "poetry.lock")
    version: str
    (version,) = [p["version"] for p in lock["package"] if p["name"] == package]
    return version


@pytest.mark.parametrize("strategy", ["export", "environment"])
def test_home_is_writable_and_read_only_needs_a_tmpfs_there(
    application: Callable[[str, str], tuple[Application, Image]], strategy: str
) -> None:
    _, image = application("service-extras-home", strategy)
    saved = "saved /home/app/.config/acme-service/last-run\n"
    assert image.run("remember").stdout == saved
    read_only = image.run("remember", docker_args=("--read-only",), check=False)
    assert read_only.returncode != 0
    assert "Read-only file system" in read_only.stderr
    # The README's recipe for --read-only: a tmpfs on the home directory.
    with_tmpfs = image.run(
        "remember", docker_args=("--read-only", "--tmpfs", "/home/app:uid=10001")
    )
    assert with_tmpfs.stdout == saved


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_docker_stop_ends_a_long_running_program_at_once(
    application: Callable[[str, str], tuple[Application, Image]],
    docker_engine: str,
    strategy: str,
) -> None:
    """The program installs no signal handler: the init passes SIGTERM on, so it
    ends well within docker stop's 10 s grace, and no zombie is left behind."""
    _, image = application("service-extras-home", strategy)
    container = run(docker_engine, "run", "--detach", image.tag).stdout.strip()
    try:
        wait_for_log(docker_engine, container, "acme-service ready")
        started = time.monotonic()
        run(docker_engine, "stop", container)
        took = time.monotonic() - started
        code = int(run(docker_engine, "wait", container).stdout)
        assert took < 2, f"docker stop took {took:.1f} s"
        assert code == 143, "ended by SIGTERM (128 + 15), not killed (137)"
    finally:
        run(docker_engine, "rm", "--force", container, check=False)


def wait_for_log(docker: str, container: str, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = run(docker, "logs", container)
        if text in logs.stdout + logs.stderr:
            return
        time.sleep(0.2)
    pytest.fail(f"{text!r} never reached the logs")
