"""The stages before the project: tools, manifest, deps and backend."""

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from base import (
    BACKEND,
    BUILD_HINT,
    DEV_VENV,
    RELOCK,
    VENV,
    build_system,
    fail,
    has_lines,
    load,
    run,
    satisfied,
    site,
    words,
)


def check_index() -> None:
    """A credential in the index URL would reach logs and provenance: refuse it."""
    from urllib.parse import urlsplit

    url = urlsplit(os.environ.get("PIP_INDEX_URL", ""))
    if url.username or url.password:
        fail(
            "PIP_INDEX_URL holds a user name or password: give the URL without them,\n"
            "and the credential as the netrc secret (--secret id=netrc,src=~/.netrc),\n"
            'a line "machine <host> login <user> password <token>".'
        )


def read_lock() -> tuple[dict[str, Any], str]:
    """poetry.lock, once it is there and of a lock-version Poetry 2 reads."""
    if not Path("poetry.lock").exists():
        fail("poetry.lock is missing: run 'poetry lock', commit it, then build again.")
    lock = load("poetry.lock")
    version = str(lock.get("metadata", {}).get("lock-version", ""))
    if not re.fullmatch(r"2\.\d+", version):
        fail(f"poetry.lock has lock-version {version or '(none)'}: {RELOCK}.")
    return lock, version


def check_lock() -> tuple[Any, str]:
    """Poetry's view of the project, once poetry.lock is there, readable and fresh."""
    version = read_lock()[1]
    from poetry.factory import Factory

    poetry = Factory().create_poetry(Path.cwd())
    if not poetry.locker.is_fresh():
        fail("poetry.lock does not match pyproject.toml: run `poetry lock`, commit it.")
    print(f"poetry.lock (lock-version {version}) matches pyproject.toml.")
    return poetry, version


def manifest() -> None:
    """From pyproject.toml and poetry.lock, without Poetry: what later stages need."""
    lock, pyproject = read_lock()[0], load("pyproject.toml")
    constraints = build_constraints(pyproject, lock)
    cut_manifest(pyproject, constraints)
    # project/: what the backend and project stages read, as one folder: a wildcard
    # in COPY --from costs BuildKit half a second of checksums on a version bump.
    Path("project").mkdir(exist_ok=True)
    flat = sorted({c for found in constraints.values() for c in found})
    Path("project/build-constraints.txt").write_text("".join(f"{c}\n" for c in flat))
    requires = build_system(Path.cwd())["requires"]
    missing = not all(satisfied(r, sys.prefix) for r in requires)
    Path("project/backend.txt").write_text(
        "".join(f"{r}\n" for r in requires if missing)
    )
    Path("project/path-dependencies.txt").write_text(
        "".join(
            f"{p['source']['url']}\n"
            for p in lock.get("package", [])
            if p.get("source", {}).get("type") == "directory"
            and "main" in p.get("groups", ["main"])
        )
    )


def build_constraints(
    pyproject: dict[str, Any], lock: dict[str, Any]
) -> dict[str, list[str]]:
    """[tool.poetry.build-constraints] as requirements; BUILD_CONSTRAINTS for all."""
    table = pyproject.get("tool", {}).get("poetry", {}).get("build-constraints", {})
    found: dict[str, list[str]] = {}
    if table:  # Poetry's parser only when there is something to parse
        from poetry.core.constraints.version import parse_constraint
    for package, requirements in table.items():
        for name, specs in requirements.items():
            for spec in specs if isinstance(specs, list) else [specs]:
                text = str(
                    parse_constraint(spec if isinstance(spec, str) else spec["version"])
                )
                text = (
                    "" if text == "*" else text if text[0] in "<>=!~" else f"=={text}"
                )
                found.setdefault(package, []).append(name + text)
    everywhere = words("BUILD_CONSTRAINTS")
    for package in lock.get("package", []) if everywhere else []:
        found.setdefault(package["name"], []).extend(everywhere)
    return found


def cut_manifest(pyproject: dict[str, Any], constraints: dict[str, list[str]]) -> None:
    """poetry/: pyproject.toml cut down to what the lock's hash covers, and the lock.

    A version bump or a [tool.ruff] line leaves it, and the stages built on it, as
    they were; in non-package mode, the lock stays valid for it.
    """
    import tomlkit

    def keep(table: dict[str, Any], *keys: str) -> dict[str, Any]:
        return {key: table[key] for key in keys if key in table}

    project = keep(
        pyproject.get("project", {}),
        *("name", "requires-python", "dependencies", "optional-dependencies"),
    )
    poetry = keep(
        pyproject.get("tool", {}).get("poetry", {}),
        *("dependencies", "dev-dependencies", "group", "extras", "source"),
    )
    if constraints:
        poetry["build-constraints"] = {
            package: as_table(found) for package, found in constraints.items()
        }
    cut = {"project": project} if project else {}
    cut |= keep(pyproject, "dependency-groups")
    poetry["package-mode"] = False
    cut["tool"] = {"poetry": poetry}
    Path("poetry").mkdir(exist_ok=True)
    Path("poetry/pyproject.toml").write_text(tomlkit.dumps(cut))
    shutil.copy("poetry.lock", "poetry/poetry.lock")


def as_table(requirements: list[str]) -> dict[str, str]:
    """["setuptools<70"] as Poetry's table: {"setuptools": "<70"}."""
    split = (re.fullmatch(r"([\w.-]+)(.*)", r) for r in requirements)
    return {m[1]: m[2] or "*" for m in split if m}


def export(poetry: Any, lock_version: str) -> None:
    """Hashed requirements from the index; git ones apart; path ones left out.

    A lock of Poetry 1.5-1.8 (lock-version 2.0) has no markers for `poetry export`
    to read: its requirements are what Poetry's installer would install here.
    """
    extras = words("EXTRAS")
    if lock_version == "2.0":
        text = planned(poetry, extras)
    else:
        from cleo.io.buffered_io import BufferedIO
        from poetry_plugin_export.exporter import Exporter

        out = BufferedIO()
        exporter = Exporter(poetry, out).only_groups(["main"]).with_extras(extras)
        exporter.export("requirements.txt", Path.cwd(), out)
        text = out.fetch_output()
    entries = re.split(r"\n(?=\S)", text.strip())
    git = [e for e in entries if " @ git+" in e]
    path = [e for e in entries if e.startswith("-e ") or " @ file:" in e]
    index = [e for e in entries if e and e not in git + path]
    Path("requirements.txt").write_text("".join(f"{e}\n" for e in index))
    Path("git-requirements.txt").write_text("".join(f"{e}\n" for e in git))


def planned(poetry: Any, extras: list[str]) -> str:
    """What Poetry's installer plans, on the lock alone with nothing installed."""
    from cleo.io.null_io import NullIO
    from poetry.installation.executor import Executor
    from poetry.installation.installer import Installer
    from poetry.repositories.installed_repository import InstalledRepository
    from poetry.utils.env import VirtualEnv

    packages: list[Any] = []

    class Plan(Executor):
        def execute(self, operations: list[Any]) -> int:
            wanted = [op for op in operations if op.job_type == "install"]
            packages.extend(op.package for op in wanted if not op.skipped)
            return 0

    io, env, pool, config = (
        NullIO(),
        VirtualEnv(Path(sys.prefix)),
        poetry.pool,
        poetry.config,
    )
    installer = Installer(
        io, env, poetry.package, poetry.locker, pool, config,
        installed=InstalledRepository(), executor=Plan(env, pool, config, io),
    )  # fmt: skip
    installer.only_groups(["main"]).extras([extra.lower() for extra in extras])
    if installer.run():
        fail(f"Poetry could not plan the install from poetry.lock: {RELOCK}.")
    used = {p.source_url for p in packages if p.source_type == "legacy"}
    pypi = any(r.name.lower() == "pypi" for r in pool.all_repositories)
    first = pool.repositories[0] if pool.repositories else None
    lines = [
        f"--{'extra-' if pypi or r is not first else ''}index-url {r.url}"
        for r in pool.all_repositories
        if getattr(r, "url", None) in used
    ]
    for p in packages:
        hashes = "".join(f" \\\n    --hash={f['hash']}" for f in p.files)
        if p.source_type == "git":
            ref = p.source_resolved_reference or p.source_reference
            lines.append(f"{p.name} @ git+{p.source_url}@{ref}")
        elif p.source_type in ("directory", "file", "url"):
            url = p.source_url if p.source_type == "url" else f"file://{p.source_url}"
            lines.append(f"{p.name} @ {url}{hashes}")
        else:
            lines.append(f"{p.name}=={p.version}{hashes}")
    return "\n".join(lines) + "\n"


def deps(strategy: str) -> None:
    """The locked dependencies, hash-checked, into a venv without pip.

    On the cut manifest: Poetry's check that the lock is fresh runs only when the
    lock or a dependency line changed, before anything is installed.
    """
    poetry, version = check_lock()
    if strategy == "export":
        export(poetry, version)
        build = ["--build-constraints", "build-constraints.txt"]
        run(sys.executable, "-m", "venv", "--without-pip", VENV)
        uv = [
            "uv",
            "pip",
            "install",
            "--python",
            f"{VENV}/bin/python",
            "--compile-bytecode",
        ]
        uv += build if has_lines("build-constraints.txt") else []
        run(*uv, "--require-hashes", "-r", "requirements.txt", hint=BUILD_HINT)
        if has_lines("git-requirements.txt"):
            run(*uv, "--no-deps", "-r", "git-requirements.txt", hint=BUILD_HINT)
        (VENV / ".lock").unlink(missing_ok=True)
        return
    extras = ["--extras", " ".join(words("EXTRAS"))] if words("EXTRAS") else []
    groups = [] if strategy == "dev" else ["--only", "main"]
    venv = DEV_VENV if strategy == "dev" else VENV
    if strategy == "dev":
        run(sys.executable, "-m", "venv", "--without-pip", venv)
    else:  # /app/.venv, where the runtime stage copies it from; without pip
        os.environ["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"
        os.environ["POETRY_VIRTUALENVS_OPTIONS_NO_PIP"] = "true"
    poetry = ["poetry", "install", "--no-interaction", "--no-directory"]
    run(*poetry, *groups, *extras, hint=BUILD_HINT)
    compile_venv(venv)


def compile_venv(venv: Path) -> None:
    """Bytecode for every installed module, a worker per core (Poetry's --compile
    uses one); a file that does not compile is left as installers leave it."""
    import compileall

    compileall.compile_dir(site(venv), quiet=1, workers=0)


def backend() -> None:
    """The build backend [build-system] names, when the tools' venv lacks it."""
    BACKEND.mkdir(parents=True, exist_ok=True)
    if has_lines("backend.txt"):
        constraints = ["-c", "build-constraints.txt"]
        install = ["uv", "pip", "install", "--python", BACKEND / "bin/python"]
        run("uv", "venv", "--quiet", "--python", sys.executable, BACKEND)
        run(
            *install,
            "-r",
            "backend.txt",
            *(constraints if has_lines(constraints[1]) else []),
        )
