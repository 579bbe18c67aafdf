"""The template repository itself: pinned tools agree everywhere, scripts and code are clean."""

from __future__ import annotations

import re
import sys

import pytest

from tests.conftest import ROOT
from tests.helpers import read_toml, run, sample_file

LOCKED = {p["name"]: p["version"] for p in read_toml(ROOT / "poetry.lock")["package"]}


def pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"\b(poetry(?:-plugin-[a-z-]+)?|uv)==([0-9][0-9.]*)", text))


def test_bootstrap_pins_are_the_locked_versions() -> None:
    pinned = pins((ROOT / "scripts" / "bootstrap.sh").read_text())
    assert set(pinned) == {"poetry", "poetry-plugin-export", "poetry-plugin-pypi-mirror"}
    assert {name: LOCKED[name] for name in pinned} == pinned


def test_docker_build_tools_are_the_locked_versions() -> None:
    """The image builds with the same Poetry and plugins the template is tested with."""
    pinned = pins((ROOT / "includes" / "docker" / "tools.jinja").read_text())
    assert set(pinned) == {"uv", "poetry", "poetry-plugin-export", "poetry-plugin-pypi-mirror"}
    assert {name: LOCKED[name] for name in pinned if name != "uv"} == {
        name: version for name, version in pinned.items() if name != "uv"
    }


def test_dev_dependencies_are_pinned_exactly() -> None:
    dev = read_toml(ROOT / "pyproject.toml")["tool"]["poetry"]["group"]["dev"]["dependencies"]
    assert all(re.fullmatch(r"[0-9][0-9.]*", version) for version in dev.values()), dev


@pytest.mark.parametrize(
    "script",
    [*sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "scripts").iterdir()), ".ci/run"],
)
def test_shell_scripts_pass_shellcheck(script: str) -> None:
    run("shellcheck", "--shell=bash", "--external-sources", script, cwd=ROOT)


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in readme
    assert "../shared/ci/docker-up" in ci
    assert ci.rstrip().endswith("exec scripts/test")


def test_python_code_passes_ruff() -> None:
    run("ruff", "check", "--no-cache", ".", cwd=ROOT)
    run("ruff", "format", "--check", "--no-cache", ".", cwd=ROOT)


def test_tests_and_benchmarks_pass_mypy_strict() -> None:
    """The gate generated projects pass (issue 16), on the template's own Python code."""
    mypy = read_toml(ROOT / "pyproject.toml")["tool"]["mypy"]
    assert mypy["strict"] is True
    assert mypy["files"] == ["tests", "benchmarks"]
    result = run(sys.executable, "-m", "mypy", cwd=ROOT, check=False)
    assert result.returncode == 0, f"mypy:\n{result.stdout}{result.stderr}"


def test_mypy_is_a_version_generated_projects_accept() -> None:
    """The repository's pinned mypy satisfies the generated projects' lower bound."""
    manifest = sample_file(ROOT, "pyproject.toml").read_text()
    floor = re.search(r'^mypy = ">=([0-9.]+)"$', manifest, re.MULTILINE)
    assert floor, 'the starter pyproject.toml sets no `mypy = ">=X.Y"` bound'
    version = tuple(map(int, LOCKED["mypy"].split(".")))
    assert version >= tuple(map(int, floor[1].split("."))), (LOCKED["mypy"], floor[1])


def test_readme_shows_the_committed_benchmark_results() -> None:
    """The README's table is benchmarks/results.md, as the last full run wrote it."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- benchmark:begin.*?-->\n(.*?)<!-- benchmark:end -->", readme, re.S)
    assert block, "the README has a benchmark block"
    results = (ROOT / "benchmarks" / "results.md").read_text()
    body = results.split("\n", 1)[1].strip()  # without its '# Benchmark results' title
    assert block[1].strip() == body
    assert '"smoke": false' in (ROOT / "benchmarks" / "results.json").read_text()
