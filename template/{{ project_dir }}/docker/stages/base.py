"""What every step shares: where things go, and how a step fails or runs a tool."""

import os
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any, NoReturn

VENV = Path("/app/.venv")  # the application's venv, in the runtime image
DEV_VENV = Path("/opt/venv")  # the development image's venv
BACKEND = Path("/opt/backend")  # a build backend that the tools' venv lacks
STAGE = Path("/opt/stage")  # export, wheel: the project's files, laid out as in /
RELOCK = (
    "run `poetry lock` with Poetry 2 (it keeps the versions) and commit poetry.lock"
)
BUILD_HINT = """A dependency failed to build from its source (see above). An old sdist
often needs older build tools: pin them for it in pyproject.toml,
    [tool.poetry.build-constraints]
    the-package = { setuptools = "<70" }
or for every package, docker build --build-arg BUILD_CONSTRAINTS="setuptools<70"."""


def fail(message: str) -> NoReturn:
    print(f"\n{message}\n", file=sys.stderr)
    sys.exit(1)


def run(*args: str | Path, hint: str = "") -> None:
    """Run a tool; when it fails building a package from source, add the hint."""
    done = subprocess.run(args, stderr=subprocess.PIPE, text=True, check=False)
    sys.stderr.write(done.stderr)
    if done.returncode:
        built = re.search(r"Failed to build|PEP 517 build|ChefBuildError", done.stderr)
        fail(hint if hint and built else f"{args[0]} exited {done.returncode}")


def load(path: Path | str) -> dict[str, Any]:
    with open(path, "rb") as file:
        return tomllib.load(file)


def words(variable: str) -> list[str]:
    return os.environ.get(variable, "").split()


def has_lines(path: str) -> bool:
    return Path(path).exists() and bool(Path(path).read_text().strip())


def site(prefix: str | Path) -> Path:
    return Path(sysconfig.get_path("purelib", "venv", vars={"base": str(prefix)}))


def build_system(source: Path) -> dict[str, Any]:
    """[build-system], with PEP 517's default for a project that has none."""
    system = load(source / "pyproject.toml").get("build-system", {})
    return {
        "requires": ["setuptools>=40.8.0"],
        "build-backend": "setuptools.build_meta:__legacy__",
        **system,
    }


def satisfied(requirement: str, prefix: str | Path) -> bool:
    """Is the requirement installed in the venv at prefix?"""
    from importlib.metadata import distributions

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    wanted = Requirement(requirement)
    if wanted.marker and not wanted.marker.evaluate():
        return True
    for found in distributions(path=[str(site(prefix))]):
        if canonicalize_name(found.metadata["Name"]) == canonicalize_name(wanted.name):
            return wanted.specifier.contains(found.version, prereleases=True)
    return False
