"""Docker tier: dependencies that do not come from an index: git repositories and
libraries beside the project (path dependencies), in every strategy.

The git repository is made by the test and served on loopback over git's "dumb"
HTTP protocol (plain files): no network clone. After the project locks it, the
repository gets a newer commit, so an image that took the branch's tip instead of
the locked commit would show it.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import Image, read_toml, run

pytestmark = pytest.mark.docker

STRATEGIES = ["export", "wheel", "environment"]
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
            image = build_image(project, f"pdt-test-git-{strategy}", "--network=host")
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
    with_git_dependency: Callable[[str], tuple[Image, str]],
) -> None:
    """The git dependency goes in on its own; everything from the index, its own
    dependency six included, is still installed with --require-hashes."""
    image, _ = with_git_dependency("export")
    steps = [line for line in image.log.splitlines() if "uv pip install" in line]
    assert any("--require-hashes" in line for line in steps), image.log
    assert image.run("python", "-c", "import six").returncode == 0
