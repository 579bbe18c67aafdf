"""Docker images the tests build: the image and its build log, built once per tag;
and what a build log says of each step."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.shell import package_index_url, run


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


def build_steps(log: str) -> dict[str, bool]:
    """Each build step of a --progress=plain log, and whether it came from the cache."""
    names = dict(re.findall(r"^#(\d+) (\[[^\]]+\] .*)$", log, re.MULTILINE))
    cached = set(re.findall(r"^#(\d+) CACHED$", log, re.MULTILINE))
    return {
        name: number in cached
        for number, name in names.items()
        if "[internal]" not in name and "] FROM " not in name  # base images are not cached
    }
