"""The developer's day in containers (docs/containers.md): the dev target, compose.yaml
with PostgreSQL and watch, and the dev container, run for real on this machine's engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.apps import put_application
from tests.support.docker import SESSION, Image, build_steps
from tests.support.git import git
from tests.support.matrix import BUILDABLE_PYTHONS, STRATEGIES
from tests.support.shell import package_index_url, run, unavailable
from tests.support.template import ROOT, copy_project

# The Dev Containers CLI, installed with the machine's npm once into build/devcontainer.
DEVCONTAINER_CLI = "@devcontainers/cli@0.89.0"
DEVCONTAINER = ROOT / "build" / "devcontainer" / "node_modules" / ".bin" / "devcontainer"


def dev_build(project: Path, name: str, build_image: Callable[..., Image]) -> Image:
    return build_image(project, f"dev-{name}", "--target", "dev")


# ── The dev target ───────────────────────────────────────────────────────────


@pytest.mark.docker
@pytest.mark.parametrize("python", BUILDABLE_PYTHONS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_dev_image_has_every_group_poetry_and_the_project_editable(
    locked_project: Callable[..., Path],
    build_image: Callable[..., Image],
    strategy: str,
    python: str,
) -> None:
    project = locked_project(docker_strategy=strategy, python_version=python)
    image = dev_build(project, f"{strategy}-{python}", build_image)
    # The runtime's user, who owns the venv: `poetry add` can write it.
    assert image.run("id", "-u").stdout == "10001\n"
    assert image.run("sh", "-c", "stat -c %u /opt/venv /app").stdout == "10001\n10001\n"
    assert image.run("poetry", "--version").stdout.startswith("Poetry (version ")
    # Editable: the package is the source in /app, so an edit is live.
    where = image.run("python", "-c", "import acme_widget_service as p; print(p.__file__)")
    assert where.stdout == "/app/src/acme_widget_service/__init__.py\n"
    # The development group, from the lock; the project's own tests pass in it.
    tests = image.run("poetry", "run", "pytest", "-q", "-p", "no:cacheprovider")
    assert "3 passed" in tests.stdout
    assert image.run("ruff", "check", "--no-cache", "src", "tests").returncode == 0


@pytest.mark.docker
def test_dev_dependencies_survive_a_source_edit_a_version_bump_and_a_tool_setting(
    locked_project: Callable[..., Path], build_image: Callable[..., Image], tmp_path: Path
) -> None:
    """Only the lock's content reaches the dev install step, as in the dependency stage."""
    project = tmp_path / "project"
    shutil.copytree(locked_project(docker_strategy="export", python_version="3.13"), project)
    dev_build(project, "export-3.13-edits", build_image)
    stamp = uuid.uuid4().hex[:8]
    source = project / "src" / "acme_widget_service" / "__init__.py"
    source.write_text(source.read_text() + f"# {stamp}\n")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('version = "0.1.0"', f'version = "0.1.{int(stamp, 16)}"')
        + '\n[tool.ruff.format]\nquote-style = "single"\n'
    )
    rebuilt = dev_build(project, f"export-3.13-edited-{stamp}", build_image)
    steps = build_steps(rebuilt.log)
    (install,) = [name for name in steps if name.startswith("[dev ") and "deps dev" in name]
    assert steps[install], "the dev install came from the cache"
    assert not all(cached for name, cached in steps.items() if name.startswith("[dev ")), (
        "the project itself was installed again"
    )


@pytest.mark.docker
def test_poetry_add_works_in_the_dev_image(
    locked_project: Callable[..., Path], build_image: Callable[..., Image]
) -> None:
    """The user owns the venv and the project: a dependency added inside imports at once."""
    project = locked_project(docker_strategy="export", python_version="3.13")
    image = dev_build(project, "export-3.13", build_image)
    added = image.run(
        "sh", "-c", "poetry add --no-interaction six > /dev/null && python -c 'import six'"
        " && grep -c six pyproject.toml",
        docker_args=("--env", f"POETRY_PYPI_MIRROR_URL={package_index_url()}"),
    )  # fmt: skip
    assert added.stdout == "1\n"


@pytest.mark.docker
@pytest.mark.parametrize(
    ("name", "strategy"),
    [("service-extras-home", "wheel"), ("django-like-no-package", "environment"),
     ("path-dependency", "export"), ("no-root-app", "environment")],
)  # fmt: skip
def test_dev_image_of_a_real_application(
    tmp_path: Path, build_image: Callable[..., Image], name: str, strategy: str
) -> None:
    """A real app's dev loop: its code importable from /app, as the developer edits it."""
    app = put_application(name, strategy, tmp_path / "project")
    image = dev_build(app.project, f"app-{name}-{strategy}", build_image)
    command, output = {
        "service-extras-home": (["remember"], "saved /home/app/.config/acme-service/last-run\n"),
        "django-like-no-package": (["python", "-c", "import mysite; print(mysite.__file__)"],
                                   "/app/mysite/__init__.py\n"),
        "path-dependency": (["python", "-c", "import acme_report as r; print(r.__file__)"],
                            "/app/src/acme_report/__init__.py\n"),
        "no-root-app": (["python", "bot.py"], "media-bot: ready, as files xn--bcher-kva.example\n"),
    }[name]  # fmt: skip
    assert image.run(*command).stdout == output


# ── compose.yaml ─────────────────────────────────────────────────────────────


@pytest.mark.docker
@pytest.mark.parametrize(
    "answers",
    [{}, {"database": "postgres"},
     {"smoke_test": "log", "docker_port": "8000", "docker_env": "MODE=dev",
      "docker_secrets": "TOKEN"},
     {"project_dir": "apps/api"}],
    ids=["cli", "postgres", "server", "monorepo"],
)  # fmt: skip
def test_compose_file_is_valid(docker_engine: str, tmp_path: Path, answers: dict[str, Any]) -> None:
    copy_project(tmp_path / "p", **answers)
    folder = tmp_path / "p" / answers.get("project_dir", ".")
    env = {**os.environ, "TOKEN": "x", "PIP_INDEX_URL": ""}
    config = run(docker_engine, "compose", "config", "--format", "json", cwd=folder, env=env)
    services = yaml.safe_load(config.stdout)["services"]
    assert services["app"]["build"]["target"] == "dev"
    assert set(services) == ({"app", "db"} if answers.get("database") else {"app"})
    watch = services["app"]["develop"]["watch"]
    assert [w["action"] for w in watch] == [
        "sync+restart" if answers.get("smoke_test") == "log" else "sync",
        "rebuild",
    ]
    assert watch[1]["path"].endswith("poetry.lock"), "a lock change rebuilds, nothing else"
    assert ".venv/" in watch[0]["ignore"], "the host's venv never reaches the container"


@pytest.fixture
def compose_project(tmp_path: Path, locked_project: Callable[..., Path]) -> Iterator[Path]:
    """A locked project with PostgreSQL, its password made as its README says, and a
    compose project name of this session's; everything goes at the end."""
    project = tmp_path / "project"
    shutil.copytree(locked_project(database="postgres", python_version="3.13"), project)
    (project / ".secrets" / "db-password").write_text(uuid.uuid4().hex + "\n")
    yield project
    compose(project, "down", "--volumes", "--remove-orphans", check=False)


COMPOSE_PROJECT = f"pdt-{SESSION}-compose"


def compose_env() -> dict[str, str]:
    return {**os.environ, "COMPOSE_PROJECT_NAME": COMPOSE_PROJECT,
            "PIP_INDEX_URL": package_index_url()}  # fmt: skip


def compose(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run("docker", "compose", *args, cwd=project, env=compose_env(), check=check)


@pytest.mark.docker
def test_compose_runs_the_app_beside_its_database_and_leaves_nothing(
    compose_project: Path,
) -> None:
    compose(compose_project, "up", "--detach", "--wait")
    states = compose(compose_project, "ps", "--format", "{{.Service}} {{.Health}}").stdout
    assert "db healthy" in states.splitlines()
    # The application's own code queries the database, and its tests pass against it.
    version = compose(compose_project, "exec", "-T", "app", "db-version").stdout
    assert version.startswith("PostgreSQL 17.")
    tests = compose(compose_project, "run", "--rm", "app", "pytest", "-q", "-p",
                    "no:cacheprovider").stdout  # fmt: skip
    assert "5 passed" in tests
    compose(compose_project, "down", "--volumes", "--remove-orphans")
    prefix = f"pdt-{SESSION}-compose"
    left = [run("docker", kind, "ls", "--quiet", "--filter", f"name={prefix}").stdout
            for kind in ("container", "network", "volume")]  # fmt: skip
    assert left == ["", "", ""]


@pytest.mark.docker
def test_watch_syncs_an_edit_and_rebuilds_on_a_new_lock(compose_project: Path) -> None:
    """`up --watch`: a source edit is live in the running app without a rebuild; a new
    dependency (pyproject.toml and poetry.lock) rebuilds the dev image, and it imports."""
    log = compose_project.parent / "watch.log"
    with log.open("w") as output:
        command = ["docker", "compose", "up", "--watch"]
        watcher = subprocess.Popen(command, cwd=compose_project, env=compose_env(),
                                   stdout=output, stderr=subprocess.STDOUT)  # fmt: skip

    def app(*command: str) -> subprocess.CompletedProcess[str]:
        return compose(compose_project, "exec", "-T", "app", *command, check=False)

    def image_id() -> str:
        return run("docker", "image", "inspect", "--format", "{{.Id}}",
                   f"{COMPOSE_PROJECT}-app").stdout  # fmt: skip

    try:
        until(lambda: "Watch enabled" in log.read_text(), 300)
        until(lambda: app("true").returncode == 0, 60)
        built = image_id()
        source = compose_project / "src" / "acme_widget_service" / "__init__.py"
        source.write_text(source.read_text().replace("Hello, World!", "Hello, watch!"))
        until(lambda: app("hello").stdout == "Hello, watch!\n", 30)
        assert image_id() == built, "synced, not rebuilt"
        run("poetry", "add", "--lock", "six", cwd=compose_project)
        until(lambda: app("python", "-c", "import six").returncode == 0, 300)
        assert image_id() != built, "a new lock rebuilt the dev image"
    finally:
        watcher.terminate()
        watcher.wait(timeout=60)


def until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    pytest.fail(f"not within {seconds} s")


def test_no_password_is_written_and_the_secret_folder_ignores_itself(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", database="postgres")
    db = yaml.safe_load((project / "compose.yaml").read_text())["services"]["db"]
    assert db["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db-password"
    assert "POSTGRES_PASSWORD" not in db["environment"]
    git(project, "init", "--quiet")
    (project / ".secrets" / "db-password").write_text("hunter2\n")
    ignored = run("git", "check-ignore", "--no-index", ".secrets/db-password", cwd=project)
    assert ignored.stdout == ".secrets/db-password\n"
    assert "**/.secrets" in (project / ".dockerignore").read_text().splitlines()
    git(project, "add", "--all")
    assert ".secrets/.gitignore" in git(project, "ls-files")


# ── The dev container ────────────────────────────────────────────────────────


@pytest.fixture(scope="session")
def devcontainer_cli() -> Path:
    if not DEVCONTAINER.exists():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is missing, so the Dev Containers CLI cannot be installed", "docker")
        run(npm, "install", "--prefix", str(DEVCONTAINER.parents[2]), "--no-audit", "--no-fund",
            DEVCONTAINER_CLI)  # fmt: skip
    return DEVCONTAINER


@pytest.mark.docker
def test_dev_container_opens_and_runs_the_gates(
    compose_project: Path, devcontainer_cli: Path
) -> None:
    """`devcontainer up`, then the tests and ruff inside, on the mounted workspace. The
    workspace belongs to the container's user, as `updateRemoteUserUID` arranges for a
    developer whose UID differs (this machine's user is root, whom it leaves alone)."""
    run("chown", "-R", "10001:10001", str(compose_project))
    env = {**os.environ, "PIP_INDEX_URL": package_index_url()}
    up = run(str(devcontainer_cli), "up", "--workspace-folder", str(compose_project), env=env)
    assert '"outcome":"success"' in up.stdout
    try:

        def inside(*command: str) -> str:
            return run(str(devcontainer_cli), "exec", "--workspace-folder", str(compose_project),
                       *command, env=env).stdout  # fmt: skip

        assert inside("id", "-u") == "10001\n"
        assert "5 passed" in inside("poetry", "run", "pytest", "-q")
        inside("ruff", "check", ".")
        inside("touch", "made-in-the-container")
        assert (compose_project / "made-in-the-container").stat().st_uid == 10001
    finally:
        project_name = yaml.safe_load((compose_project / "compose.yaml").read_text())["name"]
        run("docker", "compose", "--project-name", project_name, "down", "--volumes",
            cwd=compose_project, check=False)  # fmt: skip
