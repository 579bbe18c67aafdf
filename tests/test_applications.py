"""Docker tier: real applications in place of the sample, built with answers only.

Each fixture under tests/fixtures/apps/ (its README says which failure class it
guards against) is used as a team would: the template rendered with the fixture's
answers, the sample's src/ and tests/ deleted, the application's code, manifest and
lock copied over, and the template's files left untouched (tests/support/apps.py).
Each applicable strategy is built once a session; the tests run what fixture.yml
promises: its commands, the generated workflow's own smoke test, the strategies that
must refuse it, and the same distributions in every strategy. The rules each class
guards are in tests/test_application_rules.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.apps import APPS, FIXTURES, Application, put_application
from tests.support.docker import Image
from tests.support.shell import run
from tests.support.template import read_toml
from tests.support.workflows import run_checks

pytestmark = pytest.mark.docker

BUILDS = [(name, s) for name, fixture in FIXTURES.items() for s in fixture["strategies"]]
REFUSED = [(name, s) for name, fixture in FIXTURES.items() for s in fixture.get("refused", {})]
RUNS = [
    (name, strategy, number)
    for name, strategy in BUILDS
    for number in range(len(FIXTURES[name]["runs"]))
]
SEVERAL = [name for name, fixture in FIXTURES.items() if len(fixture["strategies"]) > 1]


def ids(case: tuple[Any, ...]) -> str:
    return "-".join(map(str, case))


@pytest.mark.parametrize(("name", "strategy", "number"), RUNS, ids=[ids(c) for c in RUNS])
def test_application_runs(
    application: Callable[[str, str], tuple[Application, Image]],
    name: str,
    strategy: str,
    number: int,
) -> None:
    app, image = application(name, strategy)
    expected = app.fixture["runs"][number]
    result = image.run(*expected["argv"], docker_args=tuple(expected.get("docker_args", [])),
                       check=False)  # fmt: skip
    assert result.returncode == expected.get("returncode", 0), result.stderr
    if "stdout" in expected:
        assert result.stdout == expected["stdout"], result.stderr
    if "stdout_regex" in expected:
        assert re.fullmatch(expected["stdout_regex"], result.stdout), result.stdout
    if "stderr_regex" in expected:
        assert re.search(expected["stderr_regex"], result.stderr), result.stderr


@pytest.mark.parametrize(("name", "strategy"), BUILDS, ids=[ids(c) for c in BUILDS])
def test_generated_workflow_smoke_test_passes(
    application: Callable[[str, str], tuple[Application, Image]],
    name: str,
    strategy: str,
    tmp_path: Path,
) -> None:
    """The image job's own checks, run on the real image: its smoke test (exact output,
    or a log line, a running server and a clean stop) fits the answers, with the
    settings and the secrets the command needs; and it is not root."""
    app, image = application(name, strategy)
    secrets = {str(k): str(v) for k, v in app.fixture.get("secrets", {}).items()}
    assert run_checks(app.project, tmp_path, {"IMAGE": image.tag, **secrets}) == [0, 0]


@pytest.mark.parametrize(("name", "strategy"), REFUSED, ids=[ids(c) for c in REFUSED])
def test_strategy_that_cannot_fit_is_refused_at_once(
    tmp_path: Path, docker_engine: str, name: str, strategy: str
) -> None:
    """A project a strategy cannot carry (no package, an unreadable lock) fails the build
    in the first stage that sees the problem, with a message that names the fix."""
    app = put_application(name, strategy, tmp_path / "project")
    result = run(docker_engine, "build", "--progress=plain", ".", cwd=app.project, check=False)
    assert result.returncode != 0
    assert re.search(app.fixture["refused"][strategy], result.stderr), result.stderr
    steps = dict(re.findall(r"^#(\d+) (\[[^\]]+\] .*)$", result.stderr, re.MULTILINE))
    failed = re.findall(r"^#(\d+) ERROR", result.stderr, re.MULTILINE)
    stage = app.fixture.get("refused_in", "project")
    assert [steps[number].split()[0] for number in failed] == [f"[{stage}"], result.stderr


@pytest.mark.parametrize("name", SEVERAL)
def test_every_strategy_installs_the_same_distributions(
    application: Callable[[str, str], tuple[Application, Image]], name: str
) -> None:
    """The same locked set in every strategy: the export strategy's hashed requirements
    (or, for a Poetry 1.x lock, Poetry's plan) and Poetry's own install agree."""
    strategies = FIXTURES[name]["strategies"]
    installed = {s: distributions(application(name, s)[1]) for s in strategies}
    first = installed[strategies[0]]
    assert all(found == first for found in installed.values()), installed
    # Every one of them locked at its version; only the project itself is not in the lock.
    locked = {(canonical(p["name"]), p["version"])
              for p in read_toml(APPS / name / "app" / "poetry.lock")["package"]}  # fmt: skip
    pyproject = read_toml(APPS / name / "app" / "pyproject.toml")
    project = pyproject.get("project", pyproject["tool"]["poetry"])["name"]
    assert {n for n, _ in first - locked} <= {canonical(project)}


# Run in an image: every module of the venv's installed distributions without bytecode.
UNCOMPILED = """
import importlib.util, pathlib, sysconfig
site = pathlib.Path(sysconfig.get_path("purelib"))
print([str(p) for p in site.rglob("*.py")
       if not pathlib.Path(importlib.util.cache_from_source(p)).exists()])
"""


@pytest.mark.parametrize("name", SEVERAL)
def test_every_strategy_ships_its_dependencies_compiled(
    application: Callable[[str, str], tuple[Application, Image]], name: str
) -> None:
    """No module of the venv is compiled at run time, when the user cannot write it."""
    for strategy in FIXTURES[name]["strategies"]:
        image = application(name, strategy)[1]
        listing = image.run("-c", UNCOMPILED, docker_args=("--entrypoint", "python")).stdout
        assert listing.strip() == "[]", (strategy, listing)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(image: Image) -> set[tuple[str, str]]:
    # Python as the entrypoint: an image may fix its own program (docker_entrypoint).
    listing = image.run("-c", (
        "import importlib.metadata as m, json;"
        "print(json.dumps([(d.metadata['Name'], d.version) for d in m.distributions()]))"
    ), docker_args=("--entrypoint", "python")).stdout  # fmt: skip
    return {(canonical(name), version) for name, version in json.loads(listing)}
