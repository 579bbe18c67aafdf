"""The generated project works on its own terms: lock, install, run, test, lint."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.shell import run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(installed_project: Callable[..., Path]) -> Path:
    """The default project, locked with `poetry lock`, installed, under git."""
    return installed_project()


def test_the_lock_is_consistent(project: Path) -> None:
    assert (project / "poetry.lock").is_file()
    run("poetry", "check", "--lock", "--strict", cwd=project)


def test_hello_prints_exactly_the_greeting(project: Path) -> None:
    assert run("poetry", "run", "hello", cwd=project).stdout == "Hello, World!\n"


def test_python_dash_m(project: Path) -> None:
    result = run("poetry", "run", "python", "-m", "acme_widget_service", cwd=project)
    assert result.stdout == "Hello, World!\n"


def test_own_tests_pass(project: Path) -> None:
    result = run("poetry", "run", "pytest", "-p", "no:cacheprovider", cwd=project)
    assert "3 passed" in result.stdout


def test_ruff_check_and_format_leave_git_clean(project: Path) -> None:
    run("poetry", "run", "ruff", "check", "--no-cache", cwd=project)
    run("poetry", "run", "ruff", "format", "--check", "--no-cache", cwd=project)
    run("poetry", "run", "ruff", "format", "--no-cache", cwd=project)
    status = run("git", "status", "--porcelain", cwd=project).stdout
    assert status == "", f"the formatter changed files:\n{status}"


def test_gitignore_keeps_tool_output_untracked(project: Path) -> None:
    """After install, tests and lint, nothing new shows up to commit (.venv, .poetry...)."""
    assert (project / ".venv").is_dir()
    assert run("git", "status", "--porcelain", "--untracked-files=all", cwd=project).stdout == ""


def test_build_produces_a_wheel_with_the_script(project: Path, tmp_path: Path) -> None:
    run("poetry", "build", "--format", "wheel", "--output", str(tmp_path), cwd=project)
    (wheel,) = tmp_path.glob("acme_widget_service-0.1.0-py3-none-any.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "acme_widget_service/py.typed" in names
    entry_points = zipfile.ZipFile(wheel).read(
        "acme_widget_service-0.1.0.dist-info/entry_points.txt"
    )
    assert b"hello=acme_widget_service:main" in entry_points.replace(b" ", b"")
