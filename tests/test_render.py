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
from tests.support.workflows import load_workflow


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


STAGES = ["tools", "manifest", "deps", "backend", "project", "dev", "runtime"]


def runs(stage: list[tuple[str, str]]) -> list[str]:
    return [value for kind, value in stage if kind == "RUN"]


def copies(stage: list[tuple[str, str]]) -> list[str]:
    return [value for kind, value in stage if kind == "COPY"]


def assert_dependencies_see_only_the_manifest(
    steps: dict[str, list[tuple[str, str]]], strategy: str
) -> None:
    """The dependency stages see what the manifest stage derived, nothing of the context."""
    assert copies(steps["manifest"]) == ["pyproject.toml poetry.lock* ./"]
    # Without Poetry or a network: a version bump re-runs only this cheap step.
    assert runs(steps["manifest"]) == ["--network=none python /opt/stages manifest"]
    derived = "/manifest/poetry/ /manifest/project/build-constraints.txt" if (
        strategy == "export"
    ) else "/manifest/poetry/"  # fmt: skip
    assert copies(steps["deps"]) == [f"--from=manifest {derived} ./"]
    (install,) = runs(steps["deps"])
    assert install.endswith(f"python /opt/stages deps {strategy}")
    assert "--mount=type=secret,id=netrc" in install
    assert "--mount=type=cache" in install
    # Folders, not wildcards: a wildcard in COPY --from cost 0.5 s per version bump.
    assert copies(steps["backend"]) == ["--from=manifest /manifest/project/ ./"]
    # Nor a top-level folder: BuildKit walks the whole source stage to checksum one.
    sources = [[w for w in c.split()[:-1] if not w.startswith("--")]
               for s in ("deps", "backend", "project", "runtime")
               for c in copies(steps[s]) if c.startswith("--from=")]  # fmt: skip
    assert all("*" not in p and p.strip("/").count("/") for s in sources for p in s), sources


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_stages(tmp_path: Path, strategy: str) -> None:
    steps = stages(copy_project(tmp_path / "p", docker_strategy=strategy) / "Dockerfile")
    assert list(steps) == STAGES, "the runtime image is the default (last) target"
    assert_dependencies_see_only_the_manifest(steps, strategy)
    # The project stage: the whole context, its build backend, nothing downloaded, no
    # network and no secret mounted (each costs time on every source edit).
    project = steps["project"]
    assert ("COPY", ". .") in project
    assert ("ARG", "PROJECT_VERSION") in project
    assert runs(project) == [f"--network=none python /opt/stages project {strategy}"]
    # Build steps run from tools' own venv and the copied stages package only.
    assert copies(steps["tools"]) == ["docker/stages/ /opt/stages/"]
    # A credential in PIP_INDEX_URL is refused before anything is downloaded.
    first = runs(steps["tools"])[0]
    assert first.index("python /opt/stages check-index") < first.index("pip install")


def test_environment_keeps_its_files_off_the_path_for_dash_m(tmp_path: Path) -> None:
    steps = stages(copy_project(tmp_path / "p", docker_strategy="environment") / "Dockerfile")
    runtime = dict(steps["runtime"])
    assert "PYTHONSAFEPATH=1" in runtime["ENV"]
    assert "PYTHONPATH" not in runtime["ENV"], "PYTHONPATH would put /app before site-packages"
    assert "--from=project /opt/stage/app /app" in copies(steps["runtime"])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_runtime_stage(tmp_path: Path, strategy: str) -> None:
    runtime = stages(copy_project(tmp_path / "p", docker_strategy=strategy) / "Dockerfile")[
        "runtime"
    ]
    kinds = [instruction for instruction, _ in runtime]
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k in {"RUN", "COPY"})
    assert dict(runtime)["USER"] == "10001:10001"
    assert dict(runtime)["WORKDIR"] == "/app"
    found = copies(runtime)
    assert found[0] == "--from=tools /opt/tools/bin/dumb-init /usr/local/bin/dumb-init"
    assert found[1] == "--from=deps /app/.venv /app/.venv", "dependencies before the project"
    assert found[2:] == ["--from=project /opt/stage/app /app"], "then the project, last"
    assert dict(runtime)["ENTRYPOINT"] == '["dumb-init", "--"]'
    assert "PYTHONUNBUFFERED=1" in dict(runtime)["ENV"]
    assert not any("apt-get" in value for value in runs(runtime)), "no apt without packages"
    assert "VOLUME" not in kinds
    assert "EXPOSE" not in kinds


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_command_and_extras_follow_the_answers(tmp_path: Path, strategy: str) -> None:
    project = copy_project(
        tmp_path / "p",
        docker_strategy=strategy,
        docker_command="gunicorn  -c gunicorn.py factory:create_app() --forwarded-allow-ips=*",
        docker_extras="postgres  redis",
    )
    steps = stages(project / "Dockerfile")
    command = '["gunicorn", "-c", "gunicorn.py", "factory:create_app()", "--forwarded-allow-ips=*"]'
    assert dict(steps["runtime"])["CMD"] == command
    # The extras reach the stages that read them, and only as a default.
    for stage in ("deps", "dev"):
        assert ("ARG", 'EXTRAS="postgres redis"') in steps[stage], stage


def test_entrypoint_form_fixes_the_program(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", docker_command="convert --to text",
                           docker_entrypoint=True)  # fmt: skip
    runtime = dict(stages(project / "Dockerfile")["runtime"])
    assert runtime["ENTRYPOINT"] == '["dumb-init", "--", "convert"]'
    assert runtime["CMD"] == '["--to", "text"]'


@pytest.mark.parametrize("data_dir", ["/app/data", "/srv/data"])
def test_data_dir_port_and_workdir_follow_the_answers(tmp_path: Path, data_dir: str) -> None:
    project = copy_project(tmp_path / "p", docker_data_dir=data_dir, docker_port="8000",
                           docker_workdir_is_data_dir=True)  # fmt: skip
    steps = stages(project / "Dockerfile")
    runtime = steps["runtime"]
    assert ("VOLUME", f'["{data_dir}"]') in runtime
    assert ("EXPOSE", "8000") in runtime
    assert dict(runtime)["WORKDIR"] == data_dir
    assert f"DATA_DIR={data_dir}" in dict(runtime)["ENV"]
    # Inside /app the project stage makes it (the copy onto /app would reset its owner);
    # elsewhere the runtime's user step does.
    inside = data_dir.startswith("/app/")
    assert runs(steps["project"])[0].endswith(f"--data-dir {data_dir}") == inside
    assert (f"--mode 0700 {data_dir}" in runs(runtime)[0]) == (not inside)


def test_build_steps_stage_runs_the_projects_own_script(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", docker_build_steps=True)
    steps = stages(project / "Dockerfile")
    assert list(steps) == [*STAGES[:5], "build-steps", *STAGES[5:]]
    (script,) = runs(steps["build-steps"])
    assert "sh docker/build-steps.sh" in script
    assert "IMAGE_ROOT=/opt/image" in script
    assert copies(steps["runtime"])[-1] == "--from=build-steps /opt/image/ /"
    assert (project / "docker" / "build-steps.sh").is_file()
    assert not (copy_project(tmp_path / "q") / "docker" / "build-steps.sh").exists()


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
            reason = lines[number - 1]
            assert reason.startswith("# "), reason
            assert not reason.startswith("# hadolint"), reason
            assert ":" in reason, f"a reason, `why: ...`, above {line}"


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
        builders = text.split("AS dev")[0]
        assert "PYTHONUNBUFFERED" not in builders, "pointless in a build stage"


# ── Files a team can own: the generated Dockerfile's budget ──────────────────

EVERY_OPTION = {
    "apt_build_packages": "gcc libc6-dev", "apt_runtime_packages": "libpq5",
    "docker_data_dir": "/data", "docker_build_steps": True, "docker_port": "8000",
    "docker_entrypoint": True, "project_dir": "apps/api", "docker_extras": "postgres",
}  # fmt: skip


@pytest.mark.parametrize("options", [{}, EVERY_OPTION], ids=["defaults", "every-option"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_dockerfile_reads_in_two_minutes(
    tmp_path: Path, strategy: str, options: dict[str, Any]
) -> None:
    """About 100 lines, one short line of why per decision: no comment block over three
    lines, no line over 100 characters, fewer comment lines than instructions, and the
    header's last line a link to the reasons."""
    project = copy_project(tmp_path / "p", docker_strategy=strategy, **options)
    lines = (project / options.get("project_dir", ".") / "Dockerfile").read_text().splitlines()
    assert len(lines) <= (100 if not options else 140), len(lines)
    assert max(map(len, lines)) <= 100
    comments = [line.lstrip().startswith("#") for line in lines]
    blocks = "".join("c" if c else " " for c in comments).split()
    assert max(map(len, blocks)) <= 3, "no comment block over three lines"
    instructions = [i for i in re.findall(r"^([A-Z]+) ", "\n".join(lines), re.MULTILINE)]
    assert sum(comments) < len(instructions)
    assert re.fullmatch(r"# Why: https?://\S+/strategies\.md", lines[2])
    assert not re.search(r"python -c", "\n".join(lines)), "logic lives in docker/stages"


# ── The generated CI's budget ────────────────────────────────────────────────


@pytest.mark.parametrize("options", [{}, {"project_dir": "apps/api"}], ids=["root", "monorepo"])
def test_ci_workflow_reads_in_two_minutes(tmp_path: Path, options: dict[str, Any]) -> None:
    """At most 150 lines (issue 25), one short line of why per decision: no comment block
    over three lines; the reasons are in docs/ci.md. The tag-only publish job is
    release.yml's, which calls this workflow first."""
    project = copy_project(tmp_path / "p", **options)
    (path,) = (project / ".github" / "workflows").glob("*ci.yml")
    lines = path.read_text().splitlines()
    assert len(lines) <= 150, len(lines)
    comments = [line.lstrip().startswith("#") for line in lines]
    blocks = "".join("c" if c else " " for c in comments).split()
    assert max(map(len, blocks)) <= 3, "no comment block over three lines"
    assert set(load_workflow(path)["jobs"]) == {"lint", "test", "image"}
