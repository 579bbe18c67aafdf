"""Plain helpers for the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# A credential as an organisation's index URL would carry it; tests assert that it
# never reaches an image. PyPI ignores it.
INDEX_SECRET = "s3cret-index-token"


def package_index_url() -> str:
    """The package index to use: $PIP_INDEX_URL, else PyPI's simple index as pip knows it.

    Read at run time so no registry address is ever written into the repository.
    """
    if url := os.environ.get("POETRY_PYPI_MIRROR_URL") or os.environ.get("PIP_INDEX_URL"):
        return url
    from pip._internal.models.index import PyPI

    return PyPI.simple_url


def index_url_with_credentials() -> str:
    """The package index URL with a user and a secret in it, as Artifactory wants."""
    parts = urlsplit(package_index_url())
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"ci-user:{INDEX_SECRET}@{host}"))


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

    return yaml.safe_load((project / ".copier-answers.yml").read_text())


@dataclass(frozen=True)
class Image:
    """A built image and the plain-progress log of its build."""

    tag: str
    project: Path
    log: str

    def run(self, *args: str, docker_args: tuple[str, ...] = (), check: bool = True):
        return run("docker", "run", "--rm", *docker_args, self.tag, *args, check=check)


def build_image(project: Path, tag: str, *extra: str) -> Image:
    """`docker build` a project with plain progress, its index URL carrying a credential."""
    result = run(
        "docker",
        "build",
        "--progress=plain",
        "--build-arg",
        f"PIP_INDEX_URL={index_url_with_credentials()}",
        "--tag",
        tag,
        *extra,
        ".",
        cwd=project,
    )
    return Image(tag=tag, project=project, log=result.stderr + result.stdout)
