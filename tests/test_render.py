"""What each answer renders, parsed rather than grepped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plumbum
import pytest
from dockerfile_parse import DockerfileParser
from pytest_copie.plugin import Copie

from tests.support.matrix import PYTHONS, STRATEGIES
from tests.support.shell import path_without_poetry, run
from tests.support.template import ANSWERS, copy_project, read_toml


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, value) pairs, comments dropped and continuations joined."""
    parsed = DockerfileParser(str(dockerfile)).structure
    return [(i["instruction"], i["value"]) for i in parsed if i["instruction"] != "COMMENT"]


def stages(dockerfile: Path) -> dict[str, list[tuple[str, str]]]:
    """Each stage's name and its instructions (FROM excluded)."""
    result: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for instruction, value in instructions(dockerfile):
        if instruction == "FROM":
            current = result.setdefault(value.split(" AS ")[1], [])
        elif result:
            current.append((instruction, value))
    return result


@pytest.fixture
def without_poetry() -> Iterator[None]:
    """pytest-copie always runs the tasks: keep this tier fast and offline (no lock)."""
    with plumbum.local.env(PATH=path_without_poetry()):
        yield


@pytest.mark.usefixtures("without_poetry")
@pytest.mark.parametrize("python_version", PYTHONS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_render_with_pytest_copie(copie: Copie, strategy: str, python_version: str) -> None:
    result = copie.copy(
        extra_answers={
            **ANSWERS,
            "docker_strategy": strategy,
            "python_version": python_version,
        }
    )
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    project = result.project_dir
    assert project is not None

    pyproject = read_toml(project / "pyproject.toml")
    meta = pyproject["project"]
    assert meta["name"] == "acme-widget-service"
    assert meta["requires-python"] == f">={python_version},<4"
    assert meta["scripts"] == {"hello": "acme_widget_service:main"}
    assert meta["authors"] == [{"name": "Test Team", "email": "test-team@example.com"}]
    assert meta["license"] == "LicenseRef-Proprietary"
    assert meta["readme"] == "README.md"
    assert meta["dependencies"] == []
    assert pyproject["build-system"]["build-backend"] == "poetry.core.masonry.api"
    assert pyproject["build-system"]["requires"] == ["poetry-core>=2.0,<3"]
    poetry = pyproject["tool"]["poetry"]
    assert poetry["packages"] == [{"include": "acme_widget_service", "from": "src"}]
    assert poetry["requires-poetry"].startswith(">=2.0")
    assert "poetry-plugin-export" in poetry["requires-plugins"]
    assert set(poetry["group"]["dev"]["dependencies"]) == {
        "pytest", "pytest-cov", "ruff", "mypy", "pre-commit", "pre-commit-hooks",
        "detect-secrets", "zizmor",
    }  # fmt: skip
    assert pyproject["tool"]["mypy"]["strict"] is True
    assert pyproject["tool"]["mypy"]["files"] == ["src", "tests"]
    assert pyproject["tool"]["mypy"]["python_version"] == python_version
    assert "--cov" in pyproject["tool"]["pytest"]["ini_options"]["addopts"]
    coverage = pyproject["tool"]["coverage"]
    assert coverage["run"]["source"] == ["acme_widget_service"]
    assert coverage["run"]["branch"] is True
    assert coverage["report"] == {"fail_under": 90, "show_missing": True}
    ruff_target = pyproject["tool"]["ruff"]["target-version"]
    assert ruff_target == "py" + python_version.replace(".", "")

    package = project / "src" / "acme_widget_service"
    assert sorted(p.name for p in package.iterdir()) == [
        "__init__.py",
        "__main__.py",
        "py.typed",
    ]
    assert sorted(p.name for p in project.glob("Dockerfile*")) == ["Dockerfile"]

    dockerfile = project / "Dockerfile"
    assert instructions(dockerfile)[0] == (
        "ARG",
        f"PYTHON_IMAGE=python:{python_version}-slim",
    )
    assert not re.search(r"^#\s*syntax=", dockerfile.read_text(), re.MULTILINE)
    froms = [v for i, v in instructions(dockerfile) if i == "FROM"]
    assert froms[0] == "${PYTHON_IMAGE} AS tools"
    assert froms[-1] == "${PYTHON_IMAGE} AS runtime", "the runtime starts from the same base"


def test_no_jinja_left_in_any_rendered_file(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", apt_build_packages="gcc", apt_runtime_packages="libpq5")
    for path in project.rglob("*"):
        if path.is_file():
            # GitHub Actions expressions, ${{ ... }}, and docker/metadata-action's tag
            # patterns, {{version}}, are meant to be there.
            text = re.sub(r"\$\{\{.*?\}\}|\{\{(version|major|minor)\}\}", "", path.read_text())
            assert not re.search(r"\{\{|\{%|%\}|\}\}", text), path


@pytest.mark.parametrize(
    ("license_", "expected"),
    [
        ("MIT", "MIT"),
        ("Apache-2.0", "Apache-2.0"),
        ("Proprietary", "LicenseRef-Proprietary"),
    ],
)
def test_license(tmp_path: Path, license_: str, expected: str) -> None:
    project = copy_project(tmp_path / "p", license=license_)
    meta = read_toml(project / "pyproject.toml")["project"]
    assert meta["license"] == expected
    private = "Private :: Do Not Upload" in meta.get("classifiers", [])
    assert private == (license_ == "Proprietary")


def test_description_with_quotes_stays_valid_toml(tmp_path: Path) -> None:
    text = 'The "widget" service \\ for C:\\paths'
    project = copy_project(tmp_path / "p", description=text)
    assert read_toml(project / "pyproject.toml")["project"]["description"] == text


STAGES = ["tools", "manifest", "deps", "project", "runtime"]


def the_run(stage: list[tuple[str, str]], containing: str) -> str:
    """The one RUN instruction of a stage that contains a text."""
    (found,) = [value for kind, value in stage if kind == "RUN" and containing in value]
    return found


def test_export_strategy(tmp_path: Path) -> None:
    steps = stages(copy_project(tmp_path / "p", docker_strategy="export") / "Dockerfile")
    assert list(steps) == STAGES
    assert ("COPY", "pyproject.toml poetry.lock* ./") in steps["manifest"], "manifest only"
    export = the_run(steps["manifest"], "poetry export")
    assert "poetry export --only main" in export
    assert "--without-hashes" not in export
    # The dependency stage sees the exported requirements, nothing of the context.
    deps = steps["deps"]
    assert [v for k, v in deps if k == "COPY"] == [
        "--from=manifest /app/requirements.txt /app/git-requirements.txt ./"
    ]
    install = the_run(deps, "uv pip install")
    assert "python -m venv --without-pip /app/.venv" in install
    assert "--require-hashes" in install
    assert_builds_a_wheel(steps["project"])


def test_wheel_strategy(tmp_path: Path) -> None:
    steps = stages(copy_project(tmp_path / "p", docker_strategy="wheel") / "Dockerfile")
    assert list(steps) == STAGES
    assert_poetry_installs_from_a_cut_down_manifest(steps)
    assert_builds_a_wheel(steps["project"])


def test_environment_strategy(tmp_path: Path) -> None:
    steps = stages(copy_project(tmp_path / "p", docker_strategy="environment") / "Dockerfile")
    assert list(steps) == STAGES
    assert_poetry_installs_from_a_cut_down_manifest(steps)
    project = steps["project"]
    assert ("COPY", ". .") in project
    assert "build_editable('/tmp/dist')" in the_run(project, "build_editable")
    assert "build_wheel" not in str(project)
    assert "--invalidation-mode checked-hash /app" in the_run(project, "compileall")
    runtime = dict(steps["runtime"])
    assert runtime["CMD"] == '["hello"]'
    assert "PYTHONSAFEPATH=1" in runtime["ENV"]
    assert "PYTHONPATH" not in runtime["ENV"], "PYTHONPATH would put /app before site-packages"


def assert_poetry_installs_from_a_cut_down_manifest(
    steps: dict[str, list[tuple[str, str]]],
) -> None:
    assert ("COPY", "pyproject.toml poetry.lock* ./") in steps["manifest"]
    assert "tomlkit.dumps" in the_run(steps["manifest"], "deps/pyproject.toml")
    deps = steps["deps"]
    assert [v for k, v in deps if k == "COPY"] == ["--from=manifest /app/deps/ ./"]
    assert "poetry install --only main" in the_run(deps, "poetry install")


def assert_builds_a_wheel(project: list[tuple[str, str]]) -> None:
    assert ("COPY", ". .") in project, "the whole context: any layout, licence files, includes"
    build = the_run(project, "build_wheel")
    assert "package-mode" in build, "non-package projects are refused with a message"
    assert "--no-deps" in build


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_runtime_stage(tmp_path: Path, strategy: str) -> None:
    runtime = stages(copy_project(tmp_path / "p", docker_strategy=strategy) / "Dockerfile")[
        "runtime"
    ]
    kinds = [instruction for instruction, _ in runtime]
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k in {"RUN", "COPY"})
    assert dict(runtime)["USER"] == "10001:10001"
    assert dict(runtime)["WORKDIR"] == "/app"
    copies = [value for instruction, value in runtime if instruction == "COPY"]
    assert copies[0] == "--from=tools /opt/tools/bin/dumb-init /usr/local/bin/dumb-init"
    assert copies[1] == "--from=deps /app/.venv /app/.venv", "dependencies before the project"
    assert copies[-1] == "--from=project /opt/project /app/.venv"
    assert ("--from=project /app /app" in copies) == (strategy == "environment")
    assert all("--from=" in value for value in copies), "nothing from the context"
    assert dict(runtime)["ENTRYPOINT"] == '["dumb-init", "--"]'
    assert "PYTHONUNBUFFERED=1" in dict(runtime)["ENV"]
    assert not any("apt-get" in value for _, value in runtime), "no apt without packages"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_command_and_extras_follow_the_answers(tmp_path: Path, strategy: str) -> None:
    project = copy_project(
        tmp_path / "p",
        docker_strategy=strategy,
        docker_command="gunicorn  -c gunicorn.py mysite.wsgi:application",
        docker_extras="postgres  redis",
    )
    steps = stages(project / "Dockerfile")
    assert dict(steps["runtime"])["CMD"] == (
        '["gunicorn", "-c", "gunicorn.py", "mysite.wsgi:application"]'
    )
    # The extras reach the step that installs the dependencies, and only as a default.
    stage = "manifest" if strategy == "export" else "deps"
    assert ("ARG", 'EXTRAS="postgres redis"') in steps[stage]
    assert '${EXTRAS:+--extras "$EXTRAS"}' in str(steps[stage])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_apt_packages(tmp_path: Path, strategy: str) -> None:
    project = copy_project(
        tmp_path / "p",
        docker_strategy=strategy,
        apt_build_packages="gcc  libpq-dev",
        apt_runtime_packages="libpq5",
    )
    steps = stages(project / "Dockerfile")
    build = [v for i, v in steps["tools"] if i == "RUN" and "apt-get" in v]
    assert len(build) == 1
    assert "apt-get install -y --no-install-recommends gcc libpq-dev" in build[0]
    assert "--mount=type=cache,target=/var/lib/apt/lists" in build[0]
    runtime = [v for i, v in steps["runtime"] if i == "RUN" and "apt-get" in v]
    assert len(runtime) == 1
    assert "apt-get install -y --no-install-recommends libpq5 " in runtime[0]
    assert runtime[0].rstrip().endswith("rm -rf /var/lib/apt/lists/*")
    assert not re.search(r"\bapt\s", (project / "Dockerfile").read_text()), "apt-get, not apt"


@pytest.mark.parametrize("apt", [False, True], ids=["no-apt", "apt"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_hadolint_clean(tmp_path: Path, strategy: str, apt: bool) -> None:
    extra: dict[str, Any] = (
        {"apt_build_packages": "gcc", "apt_runtime_packages": "libpq5"} if apt else {}
    )
    project = copy_project(tmp_path / "p", docker_strategy=strategy, **extra)
    result = run(
        "hadolint",
        "--failure-threshold",
        "style",
        "Dockerfile",
        cwd=project,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # An inline ignore is allowed only right under a comment that gives its reason.
    lines = (project / "Dockerfile").read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("# hadolint ignore="):
            assert lines[number - 1].startswith("# ")
            assert "unpinned on purpose:" in lines[number - 1]


def test_no_folklore(tmp_path: Path) -> None:
    """None of the settings the write-up debunks, in any strategy."""
    for strategy in STRATEGIES:
        text = (
            copy_project(tmp_path / strategy, docker_strategy=strategy) / "Dockerfile"
        ).read_text()
        for folklore in (
            "POETRY_NO_INTERACTION",
            "PYTHONDONTWRITEBYTECODE",
            "PIP_NO_CACHE_DIR",
            "apk ",
            "alpine",
        ):
            assert folklore not in text, (strategy, folklore)
        builders = text.split("AS runtime")[0]
        assert "PYTHONUNBUFFERED" not in builders, "pointless in a build stage"
