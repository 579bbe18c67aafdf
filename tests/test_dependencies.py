"""Docker tier: dependencies that do not come from an index: git repositories, and
the libraries of a monorepo (path dependencies), in every strategy.

The git repository is made by the test and served on loopback over git's "dumb"
HTTP protocol (plain files): no network clone. After the project locks it, the
repository gets a newer commit, so an image that took the branch's tip instead of
the locked commit would show it.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.docker import Image, build_image, build_steps, failed_build, failed_steps
from tests.support.matrix import STRATEGIES
from tests.support.shell import run
from tests.support.template import ROOT, break_locked_hashes, copy_project, read_toml
from tests.support.workflows import ci_workflow, load_workflow, run_checks

pytestmark = pytest.mark.docker

GIT_LIB = "acme-git-lib"


def commit_lib(work: Path, value: str) -> str:
    """Commit a version of the library that says `value`; its commit id."""
    (work / "acme_git_lib" / "__init__.py").write_text(f'VALUE = "{value}"\n')
    run("git", "add", "--all", cwd=work)
    run("git", "commit", "--quiet", "--message", value, cwd=work)
    run("git", "push", "--quiet", "origin", "HEAD:main", cwd=work)
    run("git", "update-server-info", cwd=work.parent / "served" / "acme-git-lib.git")
    return run("git", "rev-parse", "HEAD", cwd=work).stdout.strip()


@pytest.fixture(scope="session")
def git_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A library in a bare repository served over HTTP on 127.0.0.1: (URL, work tree)."""
    root = tmp_path_factory.mktemp("git")
    bare = root / "served" / "acme-git-lib.git"
    run("git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    work = root / "work"
    run("git", "clone", "--quiet", str(bare), str(work))
    (work / "acme_git_lib").mkdir()
    (work / "pyproject.toml").write_text(
        f'[project]\nname = "{GIT_LIB}"\nversion = "1.0.0"\ndependencies = ["six>=1.16"]\n'
        '[build-system]\nrequires = ["poetry-core>=2"]\n'
        'build-backend = "poetry.core.masonry.api"\n'
    )
    commit_lib(work, "the locked commit")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(bare.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/acme-git-lib.git", work
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def with_git_dependency(
    locked_project: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
    git_repository: tuple[str, Path],
    build_image: Callable[..., Image],
) -> Callable[[str], tuple[Image, str]]:
    """Per strategy: the sample plus the git library (locked, then the repository moves
    on), built with `git` among the apt answers; the image and the locked commit."""
    url, work = git_repository
    locked = tmp_path_factory.mktemp("git-locked") / "project"
    shutil.copytree(locked_project(), locked)
    run("poetry", "add", "--lock", f"git+{url}", cwd=locked)
    (lock,) = [p for p in read_toml(locked / "poetry.lock")["package"] if p["name"] == GIT_LIB]
    commit_lib(work, "a newer commit")
    made: dict[str, tuple[Image, str]] = {}

    def make(strategy: str) -> tuple[Image, str]:
        if strategy not in made:
            project = tmp_path_factory.mktemp(f"git-{strategy}") / "project"
            shutil.copytree(locked_project(docker_strategy=strategy, apt_build_packages="git"),
                            project)  # fmt: skip
            for name in ("pyproject.toml", "poetry.lock"):
                shutil.copy2(locked / name, project / name)
            image = build_image(project, f"git-{strategy}", "--network=host")
            made[strategy] = (image, lock["source"]["resolved_reference"])
        return made[strategy]

    return make


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_git_dependency_is_installed_at_the_locked_commit(
    with_git_dependency: Callable[[str], tuple[Image, str]], strategy: str
) -> None:
    image, commit = with_git_dependency(strategy)
    assert image.run("python", "-c", "import acme_git_lib as m; print(m.VALUE)").stdout == (
        "the locked commit\n"
    )
    recorded = image.run("python", "-c", (
        "import importlib.metadata as m;"
        f"print(m.distribution('{GIT_LIB}').read_text('direct_url.json'))"
    )).stdout  # fmt: skip
    assert json.loads(recorded)["vcs_info"]["commit_id"] == commit
    assert image.run().stdout == "Hello, World!\n"


def test_index_packages_keep_their_hash_check(
    with_git_dependency: Callable[[str], tuple[Image, str]], tmp_path: Path
) -> None:
    """The git dependency goes in on its own; everything from the index, its own
    dependency six included, is still checked against the lock's hashes: with six's
    hashes wrong in poetry.lock, the dependency stage stops."""
    image, _ = with_git_dependency("export")
    assert image.run("python", "-c", "import six").returncode == 0
    project = tmp_path / "project"
    shutil.copytree(image.project, project)
    break_locked_hashes(project / "poetry.lock", "six")
    log = failed_build(project, "git-wrong-hash", "--network=host")
    assert [step.split()[0] for step in failed_steps(log)] == ["[deps"], log
    assert re.search(r"Hash mismatch for `six==[\d.]+`", log), log


# ── A monorepo: the project below the repository's root, libraries by path ──

MONOREPO = ROOT / "tests" / "fixtures" / "monorepo" / "repo"
APP = "apps/app-a"
GREETING = "app-a: lib-x and lib-y\n"


def monorepo_with(strategy: str, dst: Path) -> Path:
    """The repository with app-a rendered into it as a team would: `copier copy` at the
    repository's root with project_dir and the answers file in the project's folder,
    the sample replaced by the project's own code; the template's files untouched."""
    copy_project(
        dst, project_name="App A", docker_strategy=strategy, project_dir=APP,
        answers_file=f"{APP}/.copier-answers.yml",
        python_version="3.11", docker_command="app-a", smoke_test_text=GREETING.strip(),
    )  # fmt: skip
    for sample in ("src", "tests"):
        shutil.rmtree(dst / APP / sample)
    shutil.copytree(MONOREPO, dst, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".venv", "dist", "__pycache__"))  # fmt: skip
    return dst


@pytest.fixture(scope="session")
def monorepo(
    tmp_path_factory: pytest.TempPathFactory, build_image: Callable[..., Image]
) -> Callable[[str], Image]:
    """Per strategy: app-a's image, built as its README says, from the repository's root."""
    made: dict[str, Image] = {}

    def make(strategy: str) -> Image:
        if strategy not in made:
            repo = monorepo_with(strategy, tmp_path_factory.mktemp(f"monorepo-{strategy}"))
            made[strategy] = build_image(repo, f"monorepo-{strategy}",
                                         "--file", f"{APP}/Dockerfile")  # fmt: skip
        return made[strategy]

    return make


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_monorepo_project_runs_with_its_libraries_installed_for_real(
    monorepo: Callable[[str], Image], strategy: str, tmp_path: Path
) -> None:
    image = monorepo(strategy)
    assert image.run().stdout == GREETING
    where = image.run("python", "-c", "import lib_x, lib_y; print(lib_x.__file__, lib_y.__file__)")
    assert all(path.startswith("/app/.venv/lib/") for path in where.stdout.split()), where.stdout
    # No editable link into the builder: no .pth names /src, where the libraries were.
    links = image.run("sh", "-c", "cat /app/.venv/lib/*/site-packages/*.pth", check=False)
    assert "/src/" not in links.stdout
    # The generated CI's own smoke test and non-root check, on this image.
    assert run_checks(image.project, tmp_path, {"IMAGE": image.tag}) == [0, 0]


def test_monorepo_ci_builds_from_the_repository_root(tmp_path: Path) -> None:
    """The workflow is at the repository's root, named for the project, runs Poetry
    in the project's folder and builds with the repository as the context."""
    repo = monorepo_with("export", tmp_path / "repo")
    path = ci_workflow(repo)
    assert path.name == "app-a-ci.yml"
    workflow = load_workflow(path)
    assert workflow["defaults"]["run"]["working-directory"] == APP
    assert workflow["env"]["DOCKERFILE"] == f"{APP}/Dockerfile"
    builds = [step["with"] for job in workflow["jobs"].values() for step in job["steps"]
              if step.get("uses", "").startswith("docker/build-push-action@")]  # fmt: skip
    assert builds
    assert all(b["context"] == "." and b["file"] == "${{ env.DOCKERFILE }}" for b in builds)
    assert (repo / APP / "Dockerfile.dockerignore").is_file()
    assert not (repo / ".dockerignore").exists()
    assert not (repo / APP / ".dockerignore").exists()


def test_a_library_edit_rebuilds_only_what_depends_on_it(
    monorepo: Callable[[str], Image], tmp_path: Path
) -> None:
    """Edit lib-x: the project stage builds it again, every dependency step stays cached."""
    image = monorepo("export")
    repo = tmp_path / "repo"
    shutil.copytree(image.project, repo)
    library = repo / "libs" / "lib-x" / "lib_x" / "__init__.py"
    # An edit of this run only: one built before would come from the build cache.
    edited = f"lib-x, edited {uuid.uuid4().hex[:8]}, and"
    library.write_text(library.read_text().replace("lib-x and", edited))
    rebuilt = build_image(repo, "monorepo-export-edited", "--file", f"{APP}/Dockerfile")
    try:
        steps = build_steps(rebuilt.log)
        dependencies = {name: cached for name, cached in steps.items()
                        if name.startswith(("[tools ", "[manifest ", "[deps "))}  # fmt: skip
        assert len(dependencies) >= 6, steps
        assert all(dependencies.values()), steps
        assert not all(c for n, c in steps.items() if n.startswith("[project ")), "edit seen"
        assert rebuilt.run().stdout == f"app-a: {edited} lib-y\n"
    finally:
        run("docker", "image", "rm", rebuilt.tag, check=False)
