"""The project each variant builds, and the edits a rebuild makes to it.

One application is the template rendered with the benchmark's answers (model.ANSWERS,
plus the app's apt answers), locked once with the app's dependencies added; a copy with
one more package gives the dependency change. Each variant gets a build context of its
own: the template's variants their strategy's render, (a) and (b) the locked project
with their Dockerfile. The rebuilds move each context between States, one change at a
time.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.model import ANSWERS, ROOT, VARIANTS, App, BenchmarkError, Variant, run, say

MANIFESTS = ("pyproject.toml", "poetry.lock")


@dataclass(frozen=True)
class State:
    """What a build context holds: which lock, and which edits on top of the render."""

    dependencies: str = "base"  # "base", or "changed": one more package
    version_bump: bool = False  # `version` in pyproject.toml, 0.1.0 -> 0.1.1
    tool_edit: bool = False  # one `[tool.ruff]` line in pyproject.toml
    source_edit: str | None = None  # a line appended to the package's __init__.py


def _without(table: dict[str, Any], *path: str) -> dict[str, Any]:
    """A copy of a parsed TOML document with the key at `path` removed."""
    copy = dict(table)
    if len(path) == 1:
        copy.pop(path[0], None)
    else:
        copy[path[0]] = _without(table.get(path[0], {}), *path[1:])
    return copy


def _only_changed(before: str, after: str, *path: str) -> None:
    """`after` differs from `before` in the key at `path` and nowhere else."""
    old, new = tomllib.loads(before), tomllib.loads(after)
    if _without(old, *path) != _without(new, *path) or old == new:
        raise BenchmarkError(f"editing {'.'.join(path)} changed more, or nothing:\n{after}")


def bumped(version: str) -> str:
    *head, patch = version.split(".")
    return ".".join([*head, str(int(patch) + 1)])


def bump_version(pyproject: str) -> str:
    """Only `version` in [project] changes, to the next patch release."""
    version = tomllib.loads(pyproject)["project"]["version"]
    after, count = re.subn(
        rf'(?m)^version = "{re.escape(version)}"$', f'version = "{bumped(version)}"', pyproject
    )
    if count != 1:
        raise BenchmarkError(f"found {count} lines `version = {version!r}` in pyproject.toml")
    _only_changed(pyproject, after, "project", "version")
    return after


def edit_tool_config(pyproject: str) -> str:
    """One line of [tool.ruff] changes: its line-length goes up by one (or is set to 101)."""
    lines = pyproject.splitlines(keepends=True)
    try:
        start = lines.index("[tool.ruff]\n") + 1
    except ValueError:
        raise BenchmarkError("pyproject.toml has no [tool.ruff] table to edit") from None
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    for i in range(start, end):
        if match := re.fullmatch(r"line-length = (\d+)\n", lines[i]):
            lines[i] = f"line-length = {int(match[1]) + 1}\n"
            break
    else:
        lines.insert(start, "line-length = 101\n")
    after = "".join(lines)
    _only_changed(pyproject, after, "tool", "ruff", "line-length")
    return after


@dataclass
class Context:
    """One variant's build directory and the files the benchmark swaps in it."""

    variant: Variant
    path: Path
    package_init: Path
    original_init: str
    manifests: dict[str, dict[str, bytes]]
    build_args: list[str] = field(default_factory=list)

    def set_state(self, state: State) -> None:
        files = dict(self.manifests[state.dependencies])
        pyproject = files["pyproject.toml"].decode()
        if state.version_bump:
            pyproject = bump_version(pyproject)
        if state.tool_edit:
            pyproject = edit_tool_config(pyproject)
        files["pyproject.toml"] = pyproject.encode()
        for name, content in files.items():
            (self.path / name).write_bytes(content)
        source = self.original_init
        if state.source_edit is not None:
            source += f"\n\nBENCHMARK_EDIT = {state.source_edit!r}\n"
        self.package_init.write_text(source)

    @property
    def package(self) -> str:
        return self.package_init.parent.name

    @property
    def distribution(self) -> tuple[str, str]:
        """The project's name and the version a version bump gives it."""
        project = tomllib.loads(self.manifests["base"]["pyproject.toml"].decode())["project"]
        return project["name"], bumped(project["version"])


def locked_packages(project: Path) -> set[str]:
    """Every locked package, of any group: the dev image (the development loop's)
    installs them all."""
    lock = tomllib.loads((project / "poetry.lock").read_text())
    return {package["name"] for package in lock.get("package", [])}


def poetry_add(project: Path, *packages: str) -> None:
    run("poetry", "add", "--lock", "--no-interaction", *packages, cwd=project)


def copy_project(dst: Path, *, lock: bool = False, **answers: Any) -> Path:
    """Render this working tree's template (HEAD plus edits) with ANSWERS and `answers`
    on top, which Copier validates; lock=True then runs `poetry lock` in it (the
    template has no tasks: a new project's first `poetry install` writes the lock)."""
    # Imported here, after run.main has set up the environment.
    import copier

    copier.run_copy(
        str(ROOT),
        dst,
        data={**ANSWERS, **answers},
        defaults=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    if lock:
        run("poetry", "lock", "--no-interaction", cwd=dst)
    return dst


def prepare(work: Path, app: App, python: str) -> list[Context]:
    """Render the template once per strategy; lock one project; one context per variant."""
    renders = work / "renders"
    answers: dict[str, Any] = {"python_version": python, **app.answers}
    say(f"{app.key}: rendering the template (Python {python}), adding {' '.join(app.dependencies)}")
    locked = copy_project(renders / "locked", lock=True, docker_strategy="export", **answers)
    poetry_add(locked, *app.dependencies)
    if app.change in locked_packages(locked):
        raise BenchmarkError(
            f"{app.change} is already locked: adding it would change neither the image's"
            " dependencies nor the dev image's"
        )
    changed = renders / "changed"
    shutil.copytree(locked, changed, ignore=shutil.ignore_patterns(".venv"))
    poetry_add(changed, app.change)
    manifests = {
        state: {name: (project / name).read_bytes() for name in MANIFESTS}
        for state, project in (("base", locked), ("changed", changed))
    }
    # (a) and (b) get the same OS packages as the template's answers, as build args.
    apt_args = [
        arg
        for name, value in (
            ("APT_BUILD_PACKAGES", app.apt_build_packages),
            ("APT_RUNTIME_PACKAGES", app.apt_runtime_packages),
        )
        if value
        for arg in ("--build-arg", f"{name}={value}")
    ]

    contexts = []
    pyprojects = set()
    for variant in VARIANTS:
        path = work / "contexts" / variant.key
        dockerfile = variant.dockerfile_path(app)
        if dockerfile is None:
            assert variant.strategy is not None
            render = copy_project(
                renders / variant.strategy, docker_strategy=variant.strategy, **answers
            )
            # One lock serves every strategy only while their manifests agree.
            pyprojects.add((render / "pyproject.toml").read_text())
            if len(pyprojects) > 1:
                raise BenchmarkError(f"{variant.strategy}: pyproject.toml differs by strategy")
            shutil.copytree(render, path)
            build_args = []
        else:
            shutil.copytree(locked, path, ignore=shutil.ignore_patterns(".venv"))
            shutil.copyfile(dockerfile, path / "Dockerfile")
            build_args = apt_args
        (package,) = (path / "src").iterdir()
        init = package / "__init__.py"
        context = Context(variant, path, init, init.read_text(), manifests, build_args)
        context.set_state(State())
        contexts.append(context)
    return contexts
