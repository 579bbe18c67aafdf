"""Plain helpers for the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def sample_file(template: Path, name: str) -> Path:
    """A starter file of the template, by its rendered name: `sample_file(t, "README.md")`.

    They sit in the project's folder and are written only for a new project (`starter`).
    """
    folder = template / "template" / "{{ project_dir }}"
    return folder / f"{{% if starter %}}{name}{{% endif %}}.jinja"


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
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def read_toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


def answers_of(project: Path) -> dict[str, Any]:
    import yaml

    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


@dataclass(frozen=True)
class Image:
    """A built image and the plain-progress log of its build."""

    tag: str
    project: Path
    log: str

    def run(
        self, *args: str, docker_args: tuple[str, ...] = (), check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run("docker", "run", "--rm", *docker_args, self.tag, *args, check=check)


def build_image(project: Path, tag: str, *extra: str, index_url: str | None = None) -> Image:
    """`docker build` a project with plain progress, through the tests' package index."""
    result = run(
        "docker",
        "build",
        "--progress=plain",
        "--build-arg",
        f"PIP_INDEX_URL={index_url or package_index_url()}",
        "--tag",
        tag,
        *extra,
        ".",
        cwd=project,
    )
    return Image(tag=tag, project=project, log=result.stderr + result.stdout)
