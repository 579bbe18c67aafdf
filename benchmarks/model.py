"""What the benchmark compares (variants), what it reports (figures), on which projects
(applications), and how hard it tries (modes); plus the small helpers every part uses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILES = ROOT / "benchmarks" / "dockerfiles"
BASELINE = "writeup"
MB = 1_000_000  # as `docker images` counts
# The answers every render of the template starts from (an application's go on top).
ANSWERS = {
    "project_name": "Acme Widget Service",
    "author_name": "Test Team",
    "author_email": "test-team@example.com",
}


@dataclass(frozen=True)
class Variant:
    key: str
    letter: str
    label: str
    # A Dockerfile under benchmarks/dockerfiles/ (its name without `.Dockerfile`; an
    # application with OS packages takes `<name>-apt.Dockerfile`) ...
    dockerfile: str | None = None
    # ... or the template rendered with this strategy.
    strategy: str | None = None
    # The build steps that install the dependencies, as `--progress=plain` labels them
    # (a regex, matched at the start of a label such as `[deps 3/3] RUN ...`).
    install_step: str = r"\[deps \d+/\d+\] RUN "

    def dockerfile_path(self, app: App) -> Path | None:
        if self.dockerfile is None:
            return None
        suffix = "-apt" if app.apt_build_packages or app.apt_runtime_packages else ""
        return DOCKERFILES / f"{self.dockerfile}{suffix}.Dockerfile"


VARIANTS = [
    Variant(
        "naive",
        "a",
        "naive single stage",
        dockerfile="naive",
        install_step=r"\[\d+/\d+\] RUN poetry config",
    ),
    Variant(
        "writeup",
        "b",
        "write-up export + venv",
        dockerfile="writeup-export",
        install_step=r"\[builder \d+/\d+\] RUN poetry export",
    ),
    Variant("export", "c", "template: export", strategy="export"),
    Variant("wheel", "d", "template: wheel", strategy="wheel"),
    Variant("environment", "e", "template: environment", strategy="environment"),
    Variant("floor", "f", "floor: cached deps + COPY src", dockerfile="floor"),
]
TEMPLATE_VARIANTS = [v.key for v in VARIANTS if v.strategy]
FLOOR = "floor"  # what a source-only rebuild costs at best: the targets' yardstick


def letter(key: str) -> str:
    return next(v.letter for v in VARIANTS if v.key == key)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str  # "s" or "MB"
    rebuild: bool = False  # a warm rebuild: also records whether the install was cached


FIGURES = [
    Figure("cold_build", "cold build", "s"),
    Figure("source_rebuild", "source-only rebuild", "s", rebuild=True),
    Figure("version_rebuild", "version-bump rebuild", "s", rebuild=True),
    Figure("tool_config_rebuild", "tool-config edit rebuild", "s", rebuild=True),
    Figure("dependency_rebuild", "dependency-change rebuild", "s", rebuild=True),
    Figure("size_over_base", "image size over base", "MB"),
    Figure(
        "installed",
        "installed files (/app + growth of /usr/local + added Debian packages)",
        "MB",
    ),
    Figure("run_hello", "`docker run --rm IMAGE` (hello)", "s"),
    Figure("run_import", "`docker run --rm IMAGE python -c 'import {module}'`", "s"),
]
REBUILDS = [f for f in FIGURES if f.rebuild]


@dataclass(frozen=True)
class App:
    """A project to build: the template's sample plus `poetry add` of `dependencies`."""

    key: str
    title: str
    dependencies: tuple[str, ...]
    module: str  # what `import` loads in the start-up figure ("a, b" for several)
    change: str  # the package the dependency-change rebuild adds: locked in no group
    apt_build_packages: str = ""  # the template's answers; build args of (a) and (b)
    apt_runtime_packages: str = ""
    # Run once in each cold-built image: argv and a text its output must contain.
    check: tuple[tuple[str, ...], str] | None = None

    @property
    def answers(self) -> dict[str, str]:
        return {
            "apt_build_packages": self.apt_build_packages,
            "apt_runtime_packages": self.apt_runtime_packages,
        }


PANDAS = App("pandas", "one large binary wheel", ("pandas",), "pandas", "six")
WEB = App(
    "web",
    "a web service, psycopg2 compiled from source",
    ("flask", "gunicorn", "psycopg2"),
    "flask, psycopg2",
    "six",
    apt_build_packages="gcc libc6-dev libpq-dev",
    apt_runtime_packages="libpq5",
    check=(
        ("python", "-c", "import psycopg2.extensions as e; print('libpq', e.libpq_version())"),
        "libpq ",
    ),
)
# Smoke mode's stand-ins: tiny pure-Python dependencies, so that nothing compiles; the
# web app keeps OS packages in both stages (a header package to build with, the
# library at run time), so the apt steps of every variant still run.
SMOKE_PANDAS = App("pandas", "smoke stand-in: six", ("six",), "six", "attrs")
SMOKE_WEB = App(
    "web",
    "smoke stand-in: gunicorn, libpq without a compiler",
    ("gunicorn",),
    "gunicorn",
    "six",
    apt_build_packages="libpq-dev",
    apt_runtime_packages="libpq5",
    check=(
        ("python", "-c", "import ctypes; ctypes.CDLL('libpq.so.5'); print('libpq loaded')"),
        "libpq loaded",
    ),
)


@dataclass(frozen=True)
class Mode:
    apps: tuple[App, ...]
    runs: int
    run_repeats: int  # docker runs per variant and repetition
    cold: str  # "prune" or "no-cache"


FULL = Mode((PANDAS, WEB), runs=5, run_repeats=5, cold="prune")
SMOKE = Mode((SMOKE_PANDAS, SMOKE_WEB), runs=1, run_repeats=1, cold="no-cache")
COLD = {
    "prune": "`docker builder prune -af` before each (cache mounts included; base image kept).",
    "no-cache": "`docker build --no-cache` (smoke mode: cache mounts and other variants'"
    " layers are kept, so neither cold nor warm figures are fair; it proves the script works).",
}


class BenchmarkError(RuntimeError):
    pass


def package_index_url() -> str:
    """The package index to use: $PIP_INDEX_URL, else PyPI's simple index as pip knows it.

    Read at run time so no registry address is ever written into the repository.
    """
    if url := os.environ.get("POETRY_PYPI_MIRROR_URL") or os.environ.get("PIP_INDEX_URL"):
        return url
    from pip._internal.models.index import PyPI

    return PyPI.simple_url


def say(message: str) -> None:
    print(f"benchmark: {message}", file=sys.stderr, flush=True)


def run(
    *args: str | os.PathLike[str], cwd: Path | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [os.fspath(arg) for arg in args],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BenchmarkError(
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"{(result.stdout + result.stderr)[-3000:]}"
        )
    return result


def timed(
    *args: str | os.PathLike[str], cwd: Path | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = run(*args, cwd=cwd)
    return time.perf_counter() - start, result
