"""Docker tier: the rules of "Your code in the image" (docs/your-code.md), each on the
fixture application that guards it (tests/fixtures/apps/, tests/support/apps.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.apps import Application, put_application
from tests.support.docker import Image, session_tag, writable_by_the_user
from tests.support.matrix import STRATEGIES
from tests.support.shell import run

pytestmark = pytest.mark.docker


def test_environment_ships_the_files_of_the_context(
    application: Callable[[str, str], tuple[Application, Image]],
) -> None:
    """/app holds what the build context holds (and its bytecode), nothing else: not the
    template's build steps (docker/stages), not the tests."""
    _, image = application("django-like-no-package", "environment")
    listing = image.run("find", "/app", "-path", "/app/.venv", "-prune", "-o", "-print").stdout
    shipped = {p.removeprefix("/app/") for p in listing.split() if "__pycache__" not in p}
    assert shipped == {
        "/app", "README.md", "alembic.ini", "gunicorn.py", "manage.py", "poetry.lock",
        "pyproject.toml", "migrations", "migrations/__init__.py", "migrations/0001_initial.py",
        "mysite", "mysite/__init__.py", "mysite/settings.py", "mysite/wsgi.py",
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


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_data_folder_is_the_one_writable_place_in_app(
    application: Callable[[str, str], tuple[Application, Image]], strategy: str
) -> None:
    """The docker_data_dir answer (/app/data) is the user's; the rest of /app stays
    read-only to it."""
    app, image = application("data-writer", strategy)
    data = app.fixture["answers"]["docker_data_dir"]
    writable = writable_by_the_user(image.tag)
    assert data in writable, "the check sees the one folder the user may write"
    assert [path for path in writable if not path.startswith(f"{data}/")] == [data]


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
    # The docs' recipe for --read-only: a tmpfs on the home directory.
    with_tmpfs = image.run(
        "remember", docker_args=("--read-only", "--tmpfs", "/home/app:uid=10001")
    )
    assert with_tmpfs.stdout == saved


# PID 1 of a container the program's container joins (`--pid container:<it>`): the
# program's orphans come to it, and it reports how each one ended.
OBSERVER = """
import os, time
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        time.sleep(0.05)
        continue
    how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "an exit"
    print(f"reaped {pid}: {how}", flush=True)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_docker_stop_ends_a_long_running_program_and_its_child_at_once(
    application: Callable[[str, str], tuple[Application, Image]],
    docker_engine: str,
    strategy: str,
) -> None:
    """`serve` installs no signal handler and starts a child. The init sends SIGTERM to
    the program's process group: the program ends by it (exit 143, not 137: killed) well
    within docker stop's grace, and so does its child, reaped, nothing left running.

    The child is seen from outside: the program's container joins the PID namespace of
    an observer, to which the child falls when the program ends, and which reports how
    it ended (a child the signal missed is SIGKILLed by the runtime when the container
    goes, signal 9, or lives on)."""
    _, image = application("service-extras-home", strategy)
    docker = docker_engine
    observer = run(docker, "run", "--detach", "--entrypoint", "python", image.tag,
                   "-c", OBSERVER).stdout.strip()  # fmt: skip
    container = ""
    try:
        container = run(docker, "run", "--detach", "--pid", f"container:{observer}",
                        image.tag).stdout.strip()  # fmt: skip
        started = wait_for_log(docker, container, r"helper process (\d+) started")
        child = started[1]
        timer = time.monotonic()
        # A long grace, so that only the exit code tells SIGTERM from a kill.
        run(docker, "stop", "--time", "30", container)
        took = time.monotonic() - timer
        assert int(run(docker, "wait", container).stdout) == 143, "SIGTERM (128 + 15)"
        assert took < 10, f"docker stop took {took:.1f} s: longer than its default grace"
        reaped = wait_for_log(docker, observer, rf"reaped {child}: (.*)")
        assert reaped[1] == "signal 15", "the child got SIGTERM too"
        left = run(docker, "exec", observer, "python", "-c",
                   "import os; print([p for p in os.listdir('/proc') if p.isdigit()"
                   " and int(p) not in (1, os.getpid())])").stdout  # fmt: skip
        assert left == "[]\n", "nothing of the program is left, running or a zombie"
    finally:
        run(docker, "rm", "--force", *filter(None, [container, observer]), check=False)


def test_without_the_init_docker_stop_kills_the_program(
    application: Callable[[str, str], tuple[Application, Image]], docker_engine: str
) -> None:
    """The control: `serve` as PID 1 ignores SIGTERM, and is killed at the grace's end."""
    _, image = application("service-extras-home", "export")
    container = run(docker_engine, "run", "--detach", "--entrypoint", "serve",
                    image.tag).stdout.strip()  # fmt: skip
    try:
        wait_for_log(docker_engine, container, "acme-service ready")
        timer = time.monotonic()
        run(docker_engine, "stop", "--time", "2", container)
        assert time.monotonic() - timer >= 2
        assert int(run(docker_engine, "wait", container).stdout) == 137, "killed"
    finally:
        run(docker_engine, "rm", "--force", container, check=False)


def wait_for_log(docker: str, container: str, pattern: str, timeout: float = 30) -> re.Match[str]:
    """The first line of the container's logs that the pattern matches, once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = run(docker, "logs", container)
        if found := re.search(pattern, logs.stdout + logs.stderr):
            return found
        time.sleep(0.2)
    pytest.fail(f"{pattern!r} never reached the logs")


# ── The project's own build backend, and its version ─────────────────────────


def test_without_project_version_a_git_versioned_project_stops_saying_how(
    tmp_path: Path, docker_engine: str
) -> None:
    """The control for the dynamic-versioning fixture: .git is not in the build context,
    so without the build argument the image would carry a wrong version; the build stops
    in the project stage and names the argument (the backend alone fails on git)."""
    app = put_application("dynamic-versioning", "export", tmp_path / "project")
    result = run(docker_engine, "build", "--progress=plain", ".", cwd=app.project, check=False)
    assert result.returncode != 0
    assert "takes the version from git, which the build does not" in result.stderr
    assert "PROJECT_VERSION=$(python docker/stages project-version)" in result.stderr


def test_an_old_sdist_without_its_build_constraints_fails_saying_what_to_pin(
    tmp_path: Path, docker_engine: str
) -> None:
    """The control for the old-sdist fixture: without [tool.poetry.build-constraints],
    anyjson's setup.py meets today's setuptools, and the build says what to do."""
    app = put_application("old-sdist", "export", tmp_path / "project")
    pyproject = app.project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().split("# anyjson 0.3.3 has no wheel")[0])
    result = run(docker_engine, "build", "--progress=plain", ".", cwd=app.project, check=False)
    assert result.returncode != 0
    assert "use_2to3 is invalid" in result.stderr
    assert re.search(r"pin them for it in pyproject.toml,\s+.*\[tool.poetry.build-constraints\]",
                     result.stderr)  # fmt: skip
    assert "--build-arg BUILD_CONSTRAINTS=" in result.stderr


def test_a_path_dependencys_backend_not_named_stops_saying_what_to_name(
    tmp_path: Path, docker_engine: str
) -> None:
    """The control for the path-dependency-own-backend fixture: without hatchling in the
    project's [build-system] requires, the project stage (no network) cannot build the
    library, and says what to name."""
    app = put_application("path-dependency-own-backend", "export", tmp_path / "project")
    pyproject = app.project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(', "hatchling>=1.26,<2"]', "]"))
    result = run(docker_engine, "build", "--progress=plain", ".", cwd=app.project, check=False)
    assert result.returncode != 0
    assert "acme-helpers is built by hatchling.build, which the build tools lack" in (result.stderr)
    assert "[build-system] requires, for the backend stage to install: ['hatchling" in (
        result.stderr
    )


# ── Secrets in the build context ─────────────────────────────────────────────

# One file of each convention .dockerignore knows, at the project's root and deep in
# its package, each holding a marker no image may contain.
PLANTED = [
    ".env.production", ".envrc", ".netrc", ".pypirc", ".npmrc", ".git-credentials",
    ".htpasswd", "certs/server.pem", "certs/server.key", "tls/client.p12",
    ".ssh/id_ed25519", "id_rsa.pub", "deploy/app.secret", "deploy/keys.secrets",
    ".secrets/api-token", "secrets/db-password", ".streamlit/secrets.toml",
    "credentials.json", "gcp/prod-service-account.json", "client_secret_42.json",
    ".meltano/meltano.yml", ".aws/credentials", ".kube/config", ".docker/config.json",
    ".gnupg/private-keys.kbx", ".config/gcloud/credentials.db", "vault.kdbx",
    "terraform.tfstate", ".terraform/terraform.tfstate",
]  # fmt: skip
NESTED = "src/acme_service/"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_planted_secret_reaches_the_image(
    tmp_path: Path, build_image: Callable[..., Image], strategy: str
) -> None:
    app = put_application("service-extras-home", strategy, tmp_path / "project")
    for name in PLANTED:
        for place in ("", NESTED):
            if place and name.startswith("secrets/"):
                continue  # a package's own `secrets` module is code, not a secret
            path = app.project / place / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"PLANTED-SECRET {place}{name}\n")
    image = build_image(app.project, f"planted-secrets-{strategy}")
    found = image.run("grep", "-rl", "PLANTED-SECRET", "/", "--exclude-dir=proc",
                      "--exclude-dir=sys", docker_args=("--user", "0"), check=False)  # fmt: skip
    assert found.stdout == "", "no planted secret in the image"
    assert found.returncode == 1, found.stderr


def test_the_build_refuses_a_secret_that_gets_past_dockerignore(
    tmp_path: Path, docker_engine: str
) -> None:
    """The environment strategy ships the context: a private key under any name, or a
    known secret file the ignore file lacks (an older or edited one), stops the build,
    named, before the image is made."""
    app = put_application("django-like-no-package", "environment", tmp_path / "project")
    (app.project / "mysite" / "settings.txt").write_text(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    (app.project / ".streamlit").mkdir()
    (app.project / ".streamlit" / "secrets.toml").write_text('token = "x"\n')
    ignore = app.project / ".dockerignore"
    ignore.write_text(ignore.read_text().replace("**/secrets.toml\n", ""))
    tag = session_tag("secret-past-dockerignore")
    result = run(docker_engine, "build", "--progress=plain", "--tag", tag, ".",
                 cwd=app.project, check=False)  # fmt: skip
    assert result.returncode != 0
    pattern = r"These files hold secrets and would reach the image:\n((?:.*\n)+?).*Keep them out"
    refusal = re.search(pattern, result.stderr)
    assert refusal, result.stderr
    named = {line.split()[-1] for line in refusal[1].splitlines() if line.strip()}
    assert named == {"mysite/settings.txt", ".streamlit/secrets.toml"}
