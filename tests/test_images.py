"""Docker tier: every strategy's image, built for real on each Python available here."""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.docker import (
    Image,
    build_image,
    build_steps,
    failed_build,
    failed_steps,
    writable_by_the_user,
)
from tests.support.matrix import BUILDABLE_PYTHONS, STRATEGIES
from tests.support.package_index import CUT_EGRESS, PackageIndex, normalise
from tests.support.shell import run
from tests.support.template import ROOT, answers_of, break_locked_hashes, read_toml

pytestmark = pytest.mark.docker

PACKAGE = "acme_widget_service"
# Files the runtime stage adds outside /app: the init, and the backups useradd makes
# of the files it edits.
OUTSIDE_APP = {
    "/usr/local/bin/dumb-init", "/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-",
}  # fmt: skip


@pytest.fixture(
    scope="session",
    params=[(s, p) for s in STRATEGIES for p in BUILDABLE_PYTHONS],
    ids=lambda case: f"{case[0]}-py{case[1]}",
)
def image(
    request: pytest.FixtureRequest,
    locked_project: Callable[..., Path],
    build_image: Callable[..., Image],
) -> Image:
    strategy, python = request.param
    project = locked_project(docker_strategy=strategy, python_version=python)
    return build_image(project, f"{strategy}-{python}")


def files_in(tag: str) -> set[str]:
    """Every non-directory path in an image's root file system."""
    listing = run("docker", "run", "--rm", "--user", "0", "--entrypoint", "find", tag,
                  "/", "-xdev", "-not", "-type", "d").stdout  # fmt: skip
    return set(listing.split())


@pytest.fixture(scope="session")
def base_files() -> Callable[[str], set[str]]:
    cache: dict[str, set[str]] = {}

    def of(python: str) -> set[str]:
        if python not in cache:
            cache[python] = files_in(f"python:{python}-slim")
        return cache[python]

    return of


def python_of(image: Image) -> str:
    """The Python the image's project was rendered for (its base image's)."""
    python: str = answers_of(image.project)["python_version"]
    return python


# ── What a user sees ─────────────────────────────────────────────────────────


def test_docker_run_prints_exactly_the_greeting(image: Image) -> None:
    assert image.run().stdout == "Hello, World!\n"


def test_package_imports(image: Image) -> None:
    where = image.run("python", "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)").stdout
    assert where.startswith("/app/"), where


def test_runs_as_fixed_unprivileged_user(image: Image) -> None:
    assert image.run("id", "-u").stdout.strip() == "10001"
    assert image.run("id", "-g").stdout.strip() == "10001"
    config = json.loads(run("docker", "image", "inspect", image.tag).stdout)[0]["Config"]
    assert config["User"] == "10001:10001"


def test_works_with_read_only_root(image: Image) -> None:
    assert image.run(docker_args=("--read-only",)).stdout == "Hello, World!\n"


def test_every_module_comes_from_precompiled_bytecode(image: Image) -> None:
    """Read-only and unprivileged, nothing could be cached at run time: all was compiled."""
    verbose = image.run("python", "-v", "-c", f"import {PACKAGE}.__main__",
                        docker_args=("--read-only",)).stderr  # fmt: skip
    from_app = re.findall(r"^# code object from '?(/app/\S+?)'?$", verbose, re.MULTILINE)
    assert from_app, verbose
    assert all(path.endswith(".pyc") for path in from_app), from_app
    assert "bytecode is stale" not in verbose
    # Not only what `hello` imports: every importable module under /app has bytecode
    # (bin/ holds scripts, such as virtualenv's activate_this.py, not modules).
    missing = image.run("python", "-c", (
        "import pathlib, importlib.util as u;"
        "print([str(p) for p in pathlib.Path('/app').rglob('*.py') if p.parts[3] != 'bin'"
        " and not pathlib.Path(u.cache_from_source(p)).exists()])"
    )).stdout  # fmt: skip
    assert missing.strip() == "[]"


def test_logs_are_unbuffered(image: Image) -> None:
    """PYTHONUNBUFFERED earns its place: a line reaches `docker logs` when printed."""
    script = "print('ready'); import time; time.sleep(60)"
    started = [
        run(
            "docker", "run", "--detach", "--rm", *extra, image.tag, "python", "-c", script
        ).stdout.strip()
        for extra in ((), ("--env", "PYTHONUNBUFFERED="))
    ]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if run("docker", "logs", started[0]).stdout == "ready\n":
                break
            time.sleep(0.5)
        else:
            pytest.fail("the runtime image's output never reached docker logs")
        # The control, started at the same time, shows why: without it, nothing yet.
        assert run("docker", "logs", started[1]).stdout == ""
    finally:
        run("docker", "rm", "--force", *started, check=False)


# ── What is not in the image ─────────────────────────────────────────────────


def test_adds_only_the_application(image: Image, base_files: Callable[[str], set[str]]) -> None:
    added = files_in(image.tag) - base_files(python_of(image))
    assert added - OUTSIDE_APP, "the image adds the application"
    assert {path for path in added if not path.startswith("/app/")} <= OUTSIDE_APP
    assert not [p for p in added if re.search(r"/(dist|build|\.cache)/|\.whl$|requirements", p)]
    assert not [p for p in added if p.startswith("/app/.venv/bin/") and "pip" in p]
    assert not [p for p in added if "/site-packages/pip/" in p], "no pip inside the app venv"


def test_poetry_is_nowhere(image: Image) -> None:
    found = image.run("find", "/", "-xdev", "-iname", "*poetry*", docker_args=("--user", "0"))
    # The environment strategy ships the project's files, its own lock among them.
    assert found.stdout.split() in ([], ["/app/poetry.lock"])
    assert image.run("sh", "-c", "command -v poetry uv gcc cc", check=False).stdout == ""


def test_no_setuid_setgid_or_world_writable_file(image: Image) -> None:
    """Nothing to escalate with (the base image has 11 setuid/setgid programs) and
    nothing any user may change (uv leaves a 0666 .lock in a venv it installs into)."""
    found = image.run("find", "/", "-xdev", "-type", "f", "(", "-perm", "/6000", "-o",
                      "-perm", "-0002", ")", docker_args=("--user", "0"))  # fmt: skip
    assert found.stdout == ""
    base = run("docker", "run", "--rm", "--user", "0", f"python:{python_of(image)}-slim",
               "find", "/", "-xdev", "-type", "f", "-perm", "/6000").stdout  # fmt: skip
    assert len(base.split()) >= 5, "the control: the base image has setuid programs"


def test_the_setuid_programs_are_deleted_not_copied(image: Image) -> None:
    """Clearing a program's setuid bit copies the whole program into the layer (0.75 MB
    for the base image's 11); deleting it adds a marker only."""
    history = run("docker", "history", "--no-trunc", "--human=false", "--format",
                  "{{.Size}}\t{{.CreatedBy}}", image.tag).stdout  # fmt: skip
    sizes = [int(size) for size, _, step in (line.partition("\t") for line in history.splitlines())
             if "useradd" in step]  # fmt: skip
    assert len(sizes) == 1, history
    assert sizes[0] < 50_000, f"the user's RUN adds {sizes[0]} bytes"
    assert image.run("sh", "-c", "command -v su mount passwd", check=False).stdout == ""


def test_the_application_is_read_only_to_the_user(image: Image) -> None:
    """Nothing under /app, the venv included, can the user change: code it could rewrite
    is code an intruder keeps across restarts."""
    assert writable_by_the_user(image.tag) == []


def test_the_read_only_check_sees_a_writable_venv(
    locked_project: Callable[..., Path], build_image: Callable[..., Image], tmp_path: Path
) -> None:
    """The control: the same project, its venv copied in with `--chown=10001`."""
    project = tmp_path / "acme"
    shutil.copytree(locked_project(), project)
    dockerfile = project / "Dockerfile"
    venv = "COPY --from=deps /app/.venv /app/.venv"
    assert venv in dockerfile.read_text()
    dockerfile.write_text(dockerfile.read_text().replace(
        venv, "COPY --from=deps --chown=10001:10001 /app/.venv /app/.venv"))  # fmt: skip
    writable = writable_by_the_user(build_image(project, "chowned-venv").tag)
    assert {"/app/.venv/pyvenv.cfg", "/app/.venv/bin/activate"} <= set(writable), writable


def test_home_is_the_users_own(image: Image) -> None:
    assert image.run("sh", "-c", 'echo "$HOME"; stat -c "%u %a" "$HOME"').stdout == (
        "/home/app\n10001 700\n"
    )


def test_init_reaps_orphans(image: Image) -> None:
    """An orphaned grandchild is re-parented to PID 1, which must reap it. With the
    image's init it is; with Python as PID 1 (the control) it stays a zombie."""
    script = (
        "import os, subprocess, time;"
        "subprocess.run(['sh', '-c', 'sleep 0.2 & exit 0'], check=True); time.sleep(1.5);"
        "stats = [open(f'/proc/{p}/stat').read() for p in os.listdir('/proc') if p.isdigit()];"
        "print(sum(s.rsplit(')', 1)[1].split()[0] == 'Z' for s in stats))"
    )
    assert image.run("python", "-c", script).stdout == "0\n"
    control = image.run("-c", script, docker_args=("--entrypoint", "python"))
    assert control.stdout == "1\n"


def test_app_venv_has_no_pip(image: Image) -> None:
    result = image.run("python", "-m", "pip", "--version", check=False)
    assert result.returncode != 0
    assert "No module named pip" in result.stderr


# ── A project with a real dependency, built through a recording index ────────


@pytest.fixture(scope="session")
def recording_index() -> Iterator[PackageIndex]:
    with PackageIndex() as index:
        yield index


@pytest.fixture(scope="session")
def with_dependency(
    locked_project: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
    recording_index: PackageIndex,
    build_image: Callable[..., Image],
) -> Callable[[str], tuple[Image, set[str]]]:
    """Per strategy: the project plus `requests` (four dependencies of its own), built
    with PIP_INDEX_URL pointing at the recording index and every other egress of pip, uv
    and Poetry cut, and what the build asked the index for."""
    built: dict[str, tuple[Image, set[str]]] = {}

    def make(strategy: str) -> tuple[Image, set[str]]:
        if strategy not in built:
            project = tmp_path_factory.mktemp(f"deps-{strategy}") / "acme"
            shutil.copytree(
                locked_project(docker_strategy=strategy, python_version="3.13"), project
            )
            run("poetry", "add", "--lock", "requests==2.32.3", cwd=project)
            recording_index.requested.clear()
            # --no-cache: every step runs (another strategy may share cached steps).
            image = build_image(project, f"deps-{strategy}", "--network=host", "--no-cache",
                                *CUT_EGRESS, index_url=recording_index.url)  # fmt: skip
            built[strategy] = (image, set(recording_index.requested))
        return built[strategy]

    return make


def installed(image: Image) -> set[tuple[str, str]]:
    listing = image.run("python", "-c", (
        "import importlib.metadata as m, json;"
        "print(json.dumps([(d.metadata['Name'], d.version) for d in m.distributions()]))"
    )).stdout  # fmt: skip
    return {(name.lower(), version) for name, version in json.loads(listing)}


def locked_main(project: Path) -> set[tuple[str, str]]:
    lock = read_toml(project / "poetry.lock")
    return {(p["name"], p["version"]) for p in lock["package"] if "main" in p.get("groups", [])}


def test_strategies_install_the_same_locked_distributions(
    with_dependency: Callable[[str], tuple[Image, set[str]]],
) -> None:
    project = ("acme-widget-service", "0.1.0")
    images = {strategy: with_dependency(strategy)[0] for strategy in STRATEGIES}
    locked = locked_main(images["export"].project)
    assert {name for name, _ in locked} >= {"requests", "urllib3", "idna", "certifi"}
    assert installed(images["export"]) == locked | {project}
    assert installed(images["wheel"]) == locked | {project}
    assert installed(images["environment"]) == locked | {project}, "metadata and scripts"
    assert images["wheel"].run("python", "-c", "import requests").returncode == 0


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_download_goes_through_pip_index_url(
    strategy: str,
    with_dependency: Callable[[str], tuple[Image, set[str]]],
    recording_index: PackageIndex,
) -> None:
    """pip (bootstrapping uv), uv (the tools, the export's requirements) and Poetry (the
    other strategies' dependencies) asked the configured index for every locked main
    package and every tool, and took each file from it: no other egress was open."""
    image, requested = with_dependency(strategy)
    tools = set(re.findall(r"([a-z][\w.-]*)==[\w.]+", (image.project / "Dockerfile").read_text()))
    assert {"uv", "poetry", "dumb-init"} <= tools, tools
    locked = {name for name, _ in locked_main(image.project)}
    assert tools | locked <= requested, f"not asked of the index: {(tools | locked) - requested}"
    served = {normalise(name.split("-")[0]) for name in recording_index.files}
    assert tools | locked <= served, f"no file through the index: {(tools | locked) - served}"
    assert image.run().stdout == "Hello, World!\n"


def test_the_cut_egress_stops_a_download_from_elsewhere(
    locked_project: Callable[..., Path], docker_engine: str
) -> None:
    """The control: the same build, PIP_INDEX_URL naming the real index, fails at the
    first download, so the builds above could take nothing from elsewhere."""
    log = failed_build(locked_project(python_version="3.13"), "egress-cut", "--network=host",
                       "--no-cache", *CUT_EGRESS)  # fmt: skip
    assert [step[:7] for step in failed_steps(log)] == ["[tools "], log
    assert re.search(r"(?i)proxy", log), log


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_source_edit_rebuilds_only_the_project(
    strategy: str,
    with_dependency: Callable[[str], tuple[Image, set[str]]],
    recording_index: PackageIndex,
    tmp_path: Path,
) -> None:
    image, _ = with_dependency(strategy)
    project = tmp_path / "acme"
    shutil.copytree(image.project, project)
    init = project / "src" / PACKAGE / "__init__.py"
    # A greeting of this run only: an edit built before would come from the build cache.
    greeting = f"Hello again {uuid.uuid4().hex[:8]}, World!"
    init.write_text(init.read_text().replace("Hello, World!", greeting))
    rebuilt = build_image(project, f"deps-{strategy}-edited", "--network=host",
                          index_url=recording_index.url)  # fmt: skip
    try:
        steps = build_steps(rebuilt.log)
        dependency_steps = {
            name: cached for name, cached in steps.items()
            if name.startswith(("[tools ", "[manifest ", "[deps ")) or "--from=deps" in name
        }  # fmt: skip
        assert len(dependency_steps) >= 7, steps
        assert all(dependency_steps.values()), {n: c for n, c in steps.items() if not c}
        assert not steps[next(n for n in steps if "[project" in n and "COPY . ." in n)], "seen"
        assert rebuilt.run().stdout == f"{greeting}\n"
    finally:
        run("docker", "image", "rm", rebuilt.tag, check=False)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_version_bump_and_tool_config_leave_the_dependencies_cached(
    strategy: str,
    with_dependency: Callable[[str], tuple[Image, set[str]]],
    recording_index: PackageIndex,
    tmp_path: Path,
) -> None:
    """A new version and a new [tool.*] table: the manifest's cut is the same, so Poetry's
    check and the install stay cached; the new version reaches the image."""
    image, _ = with_dependency(strategy)
    project = tmp_path / "acme"
    shutil.copytree(image.project, project)
    pyproject = project / "pyproject.toml"
    # A version and a table of this run only: an edit built before would be cached.
    version = f"0.1.{uuid.uuid4().int % 10**6}"
    text = pyproject.read_text().replace('version = "0.1.0"', f'version = "{version}"', 1)
    pyproject.write_text(f'{text}\n[tool.acme]\nnote = "{uuid.uuid4().hex}"\n')
    assert read_toml(pyproject)["project"]["version"] == version
    rebuilt = build_image(project, f"deps-{strategy}-bumped", "--network=host",
                          index_url=recording_index.url)  # fmt: skip
    try:
        steps = build_steps(rebuilt.log)
        assert not steps["[manifest 3/3] RUN --network=none python /opt/stages manifest"]
        dependency_steps = {name: cached for name, cached in steps.items()
                            if name.startswith("[deps ") or "--from=deps" in name}  # fmt: skip
        assert len(dependency_steps) >= 4, steps
        assert all(dependency_steps.values()), {n: c for n, c in steps.items() if not c}
        shown = f"import importlib.metadata as m; print(m.version({PACKAGE!r}))"
        assert rebuilt.run("python", "-c", shown).stdout == f"{version}\n"
    finally:
        run("docker", "image", "rm", rebuilt.tag, check=False)


# ── Hash checking, exercised ─────────────────────────────────────────────────


@pytest.fixture(scope="session")
def with_six(locked_project: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, locked with `six`: a main dependency of one wheel and one sdist."""
    project = tmp_path_factory.mktemp("six") / "acme"
    shutil.copytree(locked_project(python_version="3.13"), project)
    run("poetry", "add", "--lock", "six", cwd=project)
    return project


# What each installer says when no file of the package matches a locked hash.
POETRY_REFUSES = r"Downloaded distributions for six \([\d.]+\) did not match any known checksums"
HASH_MESSAGES = {
    "export": r"Hash mismatch for `six==[\d.]+`",  # uv, --require-hashes
    "wheel": POETRY_REFUSES,
    "environment": POETRY_REFUSES,
}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_download_that_does_not_match_its_locked_hash_stops_the_build(
    strategy: str,
    with_six: Path,
    locked_project: Callable[..., Path],
    tmp_path: Path,
    docker_engine: str,
) -> None:
    """One digit of six's hashes changed in poetry.lock: the dependency stage fails,
    saying so in the installer's own words, and nothing that needs it is built."""
    project = tmp_path / "acme"
    shutil.copytree(locked_project(docker_strategy=strategy, python_version="3.13"), project)
    for name in ("pyproject.toml", "poetry.lock"):
        shutil.copy2(with_six / name, project / name)
    break_locked_hashes(project / "poetry.lock", "six")
    log = failed_build(project, f"wrong-hash-{strategy}")
    assert failed_steps(log), log
    assert all(step.startswith("[deps ") for step in failed_steps(log)), failed_steps(log)
    assert re.search(HASH_MESSAGES[strategy], log), log
    assert "--from=deps" not in "".join(build_steps(log)), "nothing after deps"


# ── Optional OS packages ─────────────────────────────────────────────────────


def test_apt_packages(
    locked_project: Callable[..., Path],
    build_image: Callable[..., Image],
    base_files: Callable[[str], set[str]],
) -> None:
    """Runtime packages are there, build-only ones are not, and apt leaves nothing behind."""
    project = locked_project(apt_build_packages="pkg-config", apt_runtime_packages="tini")
    image = build_image(project, "apt")
    assert image.run("tini", "--version").stdout.startswith("tini version")
    assert image.run("sh", "-c", "command -v pkg-config", check=False).stdout == ""
    added = files_in(image.tag) - base_files("3.13")
    apt_leftovers = [
        p for p in added
        if p.startswith(("/var/lib/apt/lists/", "/var/cache/apt/")) and not p.endswith("/lock")
    ]  # fmt: skip
    assert apt_leftovers == [], "package lists and .deb files must not ship"
    assert any(p.endswith("/tini") for p in added)
    assert image.run().stdout == "Hello, World!\n"


def test_uv_copies_from_the_cache_mount_without_warning(image: Image) -> None:
    """UV_LINK_MODE=copy earns its place: without it, every uv step warns."""
    assert "uv pip install" in image.log
    assert "Failed to hardlink" not in image.log


# ── The build context ────────────────────────────────────────────────────────


def test_dockerignore_sends_the_project_and_keeps_secrets_and_junk_out(
    locked_project: Callable[..., Path], tmp_path: Path, docker_engine: str
) -> None:
    """A realistic working copy: what the build may see, by Docker's own rules."""
    project = tmp_path / "acme"
    shutil.copytree(locked_project(), project)
    for path in MESSY_TREE:
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text("x")
    # A Dockerfile that copies the whole context out again.
    lister = tmp_path / "context.Dockerfile"
    lister.write_text("FROM scratch\nCOPY . /\n")
    out = tmp_path / "context"
    run(docker_engine, "build", "--file", str(lister), "--output", f"type=local,dest={out}",
        str(project))  # fmt: skip
    sent = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    # The render's own Dockerfile, .dockerignore, answers file, compose files and pre-commit
    # config stay out; its build steps (docker/stages) and its tests (the dev image runs
    # them) go in.
    assert sent == {
        "README.md", "poetry.lock", "pyproject.toml",
        f"src/{PACKAGE}/__init__.py", f"src/{PACKAGE}/__main__.py", f"src/{PACKAGE}/py.typed",
        "tests/test_hello.py", *(f"docker/stages/{name}" for name in STAGES_FILES),
        *(path for path in MESSY_TREE if path in KEPT),
    }  # fmt: skip


STAGES_FILES = ["__main__.py", "base.py", "dependencies.py", "project.py"]


# Beside the project, what a team's working copy holds after a few weeks.
KEPT = {
    "LICENSE", "NOTICE", "README.rst", "manage.py", "alembic.ini", "gunicorn.conf.py",
    "migrations/0001_initial.py", "data/countries.csv", "docs/index.md", "scripts/seed.py",
    f"src/{PACKAGE}/templates/index.html", f"src/{PACKAGE}/data/prices.json",
    "other_pkg/__init__.py", "config/settings.toml", "tests/test_x.py", "tests/conftest.py",
    # A package's own `secrets` module is code: only a root `secrets/` folder is a secret's.
    f"src/{PACKAGE}/secrets/__init__.py",
}  # fmt: skip
# A file of every convention includes/secrets.jinja names, planted at the root and in
# folders below it: "anywhere in the tree".
SECRETS = [
    ".env", ".env.local", ".envrc", ".netrc", ".pypirc", ".npmrc", ".git-credentials",
    ".htpasswd", "server.pem", "server.key", "client.p12", "client.pfx", "trust.jks",
    "app.keystore", "vault.kdbx", "id_rsa", "id_dsa", "id_ecdsa.pub", "id_ed25519.pub",
    "app.secret", "keys.secrets", "credentials.json", "credentials-prod.json",
    "prod-service-account.json", "ci_service_account.json", "client_secret_42.json",
    "secrets.toml", "terraform.tfstate", "terraform.tfstate.backup", ".secrets/db-password",
    ".ssh/config", ".aws/credentials", ".azure/config", ".docker/config.json",
    ".kube/config", ".gnupg/private-keys.kbx", ".config/gcloud/credentials.db",
    ".meltano/meltano.yml", ".terraform/terraform.tfstate",
]  # fmt: skip
SECRET_PLACES = ["", "config/", f"src/{PACKAGE}/", f"src/{PACKAGE}/deep/er/"]
MESSY_TREE = sorted({
    *KEPT,
    *(place + name for place in SECRET_PLACES for name in SECRETS),
    "secrets/api-token",  # a root `secrets/` folder
    # The dev files compose and the dev container read.
    "compose.override.yaml", ".devcontainer/devcontainer.json",
    # Version control, CI and the template's own files.
    ".git/HEAD", ".github/workflows/extra.yml", ".gitignore", "docker-compose.yml",
    # Environments, caches, build output.
    ".venv/bin/python", "venv/bin/python", ".poetry/plugins/x", ".pytest_cache/v/x",
    ".ruff_cache/x", ".mypy_cache/x", ".tox/py/x", ".coverage", "htmlcov/index.html",
    "dist/acme-0.1.0.whl", "build/lib/x.py", f"src/{PACKAGE}/__pycache__/x.cpython-313.pyc",
    f"src/{PACKAGE}.egg-info/PKG-INFO", "node_modules/x/index.js",
    # Editors and operating systems.
    ".idea/workspace.xml", ".vscode/settings.json", f"src/{PACKAGE}/.x.py.swp", ".DS_Store",
})  # fmt: skip


def test_the_planted_secrets_cover_every_secret_pattern() -> None:
    """A pattern added to includes/secrets.jinja gets a planted file above."""
    text = (ROOT / "includes" / "secrets.jinja").read_text()
    found = re.search(r"set secret_patterns = (\[.*?\])", text, re.DOTALL)
    assert found, "includes/secrets.jinja sets secret_patterns to a list"
    patterns = ast.literal_eval(found[1])
    planted = ["secrets/api-token", *SECRETS]
    uncovered = [p for p in patterns if not any(matches(name, p) for name in planted)]
    assert uncovered == []


def matches(name: str, pattern: str) -> bool:
    """Does a planted path fall under a secret pattern (a folder's ends in "/")?"""
    folder = pattern.endswith("/")
    return fnmatch.fnmatch(name, pattern.strip("/") + ("/*" if folder else ""))


# ── The tier itself ──────────────────────────────────────────────────────────


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_no_engine_fails_under_ci_and_skips_elsewhere(ci: str, outcome: str) -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock", "CI": ci}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "tests/test_images.py::test_dockerignore_sends_the_project_and_keeps_secrets_and_junk_out"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert outcome in result.stdout, result.stdout
    if ci:
        assert result.returncode != 0
        assert "the docker tier must run in CI" in result.stdout
