"""Docker images the tests build, each tagged for this test session only.

Test sessions share a Docker engine (a developer's beside CI's, two worktrees): with
fixed tags they would overwrite and `docker image rm` each other's images. Every tag
is `pdt-test-<name>-<session>`, the session being a random id made once, when a
session first imports this module; at its end the session removes its own tags, and
only those (the `docker_engine` fixture in conftest.py).
"""

from __future__ import annotations

import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.support.shell import package_index_url, run, succeeded

SESSION = uuid.uuid4().hex[:8]
OCI_FAILED = "OCI runtime create failed"
# The same failure of the engine's inside a build step: the step's program never ran.
RUNC_FAILED = "runc run failed: unable to start container process"
_PREFIX = "pdt-test-"


def session_tag(name: str) -> str:
    """The image tag of `name` in this test session: `pdt-test-<name>-<session>`."""
    return f"{_PREFIX}{name}-{SESSION}"


def session_images(docker: str) -> list[str]:
    """The tags of this session's images on the engine."""
    listed = run(docker, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout
    return [
        tag
        for tag in listed.split()
        if tag.startswith(_PREFIX) and tag.partition(":")[0].endswith(f"-{SESSION}")
    ]


def remove_session_images(docker: str) -> None:
    """`docker image rm` every image of this session, and no one else's."""
    if tags := session_images(docker):
        run(docker, "image", "rm", "--force", *tags, check=False)


@dataclass(frozen=True)
class Image:
    """A built image and the plain-progress log of its build."""

    tag: str
    project: Path
    log: str

    def run(
        self, *args: str, docker_args: tuple[str, ...] = (), check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`docker run` the image. Once more when the engine failed to start the container
        (runc's "OCI runtime create failed", exit 125, seen on a loaded 2-core machine):
        the image's program never ran, so nothing it did is hidden."""
        command = ("docker", "run", "--rm", *docker_args, self.tag, *args)
        result = run(*command, check=False)
        if result.returncode == 125 and OCI_FAILED in result.stderr:
            result = run(*command, check=False)
        if check:
            succeeded(result)
        return result


def docker_build(
    project: Path, name: str, *extra: str, index_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`docker build` a project as `session_tag(name)`, with plain progress, through the
    tests' package index. Once more when the engine failed to start a step's container
    (as Image.run does): the steps before it come from the cache."""
    command = ("docker", "build", "--progress=plain", "--build-arg",
               f"PIP_INDEX_URL={index_url or package_index_url()}", "--tag",
               session_tag(name), *extra, ".")  # fmt: skip
    result = run(*command, cwd=project, check=False)
    if result.returncode and RUNC_FAILED in result.stderr:
        result = run(*command, cwd=project, check=False)
    return result


def build_image(project: Path, name: str, *extra: str, index_url: str | None = None) -> Image:
    """`docker build` a project as `session_tag(name)`: the image and its log."""
    result = docker_build(project, name, *extra, index_url=index_url)
    succeeded(result)
    return Image(tag=session_tag(name), project=project, log=result.stderr + result.stdout)


def failed_build(project: Path, name: str, *extra: str, index_url: str | None = None) -> str:
    """`docker build` as build_image does, for a build that must fail: its log."""
    result = docker_build(project, name, *extra, index_url=index_url)
    log = result.stderr + result.stdout
    assert result.returncode != 0, f"the build of {name} succeeded:\n{log}"
    return log


def writable_by_the_user(tag: str, folder: str = "/app") -> list[str]:
    """Every file and folder under `folder` that the image's user, 10001, may change
    (find's -writable asks the kernel, as the user: modes, owners and ACLs all count)."""
    found = run("docker", "run", "--rm", "--user", "10001:10001", "--entrypoint", "find",
                tag, folder, "-writable")  # fmt: skip
    assert found.stderr == "", "find saw every folder"
    return sorted(found.stdout.split())


def failed_steps(log: str) -> list[str]:
    """The build steps of a --progress=plain log that failed, by name."""
    names = dict(re.findall(r"^#(\d+) (\[[^\]]+\] .*)$", log, re.MULTILINE))
    return [names[number] for number in re.findall(r"^#(\d+) ERROR: ", log, re.MULTILINE)]


def build_steps(log: str) -> dict[str, bool]:
    """Each build step of a --progress=plain log, and whether it came from the cache."""
    names = dict(re.findall(r"^#(\d+) (\[[^\]]+\] .*)$", log, re.MULTILINE))
    cached = set(re.findall(r"^#(\d+) CACHED$", log, re.MULTILINE))
    return {
        name: number in cached
        for number, name in names.items()
        if "[internal]" not in name and "] FROM " not in name  # base images are not cached
    }
