"""Commands as the tests run them, and what they need of this machine: the package
index, a PATH without Poetry, and a skip (or, under CI, a failure) when a tool is missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import pytest


def run(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    check: bool = True,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output; on failure show what it printed."""
    result = subprocess.run(
        [os.fspath(arg) for arg in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )
    if check:
        succeeded(result)
    return result


def succeeded(result: subprocess.CompletedProcess[str]) -> None:
    """Fail, showing what the command printed, unless it exited 0."""
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, result.args))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )


def package_index_url() -> str:
    """The package index to use: $PIP_INDEX_URL, else PyPI's simple index as pip knows it.

    Read at run time so no registry address is ever written into the repository.
    """
    if url := os.environ.get("POETRY_PYPI_MIRROR_URL") or os.environ.get("PIP_INDEX_URL"):
        return url
    from pip._internal.models.index import PyPI

    return PyPI.simple_url


def path_without_poetry() -> str:
    """$PATH without the folders that hold a `poetry` executable."""
    return os.pathsep.join(
        folder
        for folder in os.environ["PATH"].split(os.pathsep)
        if not (Path(folder) / "poetry").exists()
    )


def in_ci() -> bool:
    """Is CI set (GitHub sets CI=true; .ci/run sets it too)? Then no test may skip."""
    return bool(os.environ.get("CI"))


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """What a skipped test or module said, from its report."""
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)


def unavailable(message: str, tier: str) -> NoReturn:
    """Skip a test whose tool is missing here; with CI set, fail: CI runs every tier."""
    if in_ci():
        pytest.fail(f"{message}, and CI is set: the {tier} tier must run in CI")
    pytest.skip(message)
