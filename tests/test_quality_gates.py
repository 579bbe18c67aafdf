"""The generated project's quality gates hold, and each one stops what it is for.

Slow tier. In every Docker strategy's rendering, the sample passes mypy --strict,
pre-commit (every hook, as CI's lint job runs it) and pytest's coverage threshold.
Then, one planted fault at a time in the default project: a type error fails mypy,
naming it; an unformatted file fails pre-commit at ruff format; a conflict marker
and a .rej file fail it at their own hooks, a token at detect-secrets and a workflow
open to injection at zizmor; an untested function drops coverage under
`coverage_threshold` and fails pytest. Each fault is undone after its test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.matrix import STRATEGIES
from tests.support.shell import run
from tests.support.template import read_toml

pytestmark = pytest.mark.slow

PACKAGE = "acme_widget_service"
# pre-commit's summary line per hook: `ruff format.....Failed`,
# `no .rej files.....(no files to check)Skipped`.
HOOK_LINE = re.compile(r"^(\S.*?)\.{3,}(?:\([^)]*\))?(Passed|Failed|Skipped)$", re.MULTILINE)
ALL_HOOKS = {
    "no conflict markers", "no .rej files", "trailing whitespace", "files end in one newline",
    "YAML parses", "TOML parses", "no large files added", "ruff check", "ruff format", "mypy",
    "no secrets", "zizmor",
}  # fmt: skip


def pre_commit(project: Path) -> tuple[dict[str, str], str]:
    """Run pre-commit as CI's lint job does: each hook's outcome, and the output."""
    result = run(
        "poetry", "run", "pre-commit", "run", "--all-files", "--show-diff-on-failure",
        cwd=project, check=False,
    )  # fmt: skip
    outcomes = dict(HOOK_LINE.findall(result.stdout))
    assert set(outcomes) == ALL_HOOKS, result.stdout
    assert (result.returncode == 0) == ("Failed" not in outcomes.values()), result.stdout
    return outcomes, result.stdout


def failed(outcomes: dict[str, str]) -> set[str]:
    return {hook for hook, outcome in outcomes.items() if outcome == "Failed"}


# ── Every strategy: the sample passes every gate ─────────────────────────────


@pytest.fixture(scope="module", params=STRATEGIES)
def project(request: pytest.FixtureRequest, installed_project: Callable[..., Path]) -> Path:
    return installed_project(docker_strategy=request.param)


def test_mypy_strict_passes_on_src_and_tests(project: Path) -> None:
    mypy = read_toml(project / "pyproject.toml")["tool"]["mypy"]
    assert mypy["strict"] is True
    result = run("poetry", "run", "mypy", cwd=project)
    # src/<package>/__init__.py, __main__.py and tests/test_hello.py.
    assert result.stdout.strip() == "Success: no issues found in 3 source files"


def test_pre_commit_passes_and_changes_nothing(project: Path) -> None:
    outcomes, output = pre_commit(project)
    assert failed(outcomes) == set(), output
    assert outcomes["ruff format"] == outcomes["mypy"] == "Passed"
    assert run("git", "status", "--porcelain", "--untracked-files=all", cwd=project).stdout == ""


def test_pytest_measures_coverage_and_meets_the_threshold(project: Path) -> None:
    result = run("poetry", "run", "pytest", "-p", "no:cacheprovider", cwd=project)
    assert "Required test coverage of 90.0% reached. Total coverage: 100.00%" in result.stdout
    # Branch coverage, and `python -m` counted although the test runs it in a subprocess.
    assert re.search(rf"src/{PACKAGE}/__main__\.py +\d+ +0 +\d+ +0 +100%", result.stdout)
    assert run("git", "status", "--porcelain", "--untracked-files=all", cwd=project).stdout == ""


# ── One planted fault at a time, in the default project ──────────────────────


@pytest.fixture
def broken(installed_project: Callable[..., Path]) -> Iterator[Path]:
    """The default project, to plant one fault in; put back as committed afterwards.

    In place rather than copied: a copied venv would still import the original's src.
    Ignored files (.venv, caches) stay; `git clean` without -x keeps them.
    """
    project = installed_project()
    assert run("git", "status", "--porcelain", cwd=project).stdout == ""
    yield project
    run("git", "reset", "--quiet", "--hard", cwd=project)
    run("git", "clean", "--quiet", "--force", "-d", cwd=project)


def plant(project: Path, path: str, text: str) -> None:
    """Write a file and stage it, as a developer does before a commit."""
    (project / path).parent.mkdir(parents=True, exist_ok=True)
    (project / path).write_text(text)
    run("git", "add", "--all", cwd=project)


def test_a_type_error_fails_mypy_naming_it(broken: Path) -> None:
    plant(broken, f"src/{PACKAGE}/double.py", (
        '"""Planted: a return type the code does not keep."""\n\n\n'
        "def double(number: int) -> int:\n"
        '    return f"{number * 2}"\n'
    ))  # fmt: skip
    result = run("poetry", "run", "mypy", cwd=broken, check=False)
    assert result.returncode == 1
    assert (
        f"src/{PACKAGE}/double.py:5: error: Incompatible return value type "
        '(got "str", expected "int")  [return-value]'
    ) in result.stdout
    outcomes, _ = pre_commit(broken)
    assert failed(outcomes) == {"mypy"}


def test_an_unformatted_file_fails_pre_commit_at_ruff_format(broken: Path) -> None:
    plant(broken, f"src/{PACKAGE}/settings.py", '"""Planted: unformatted."""\n\nGREETING="Hi"\n')
    outcomes, output = pre_commit(broken)
    assert failed(outcomes) == {"ruff format"}, output
    # --show-diff-on-failure: the fix, shown in the log.
    assert '-GREETING="Hi"\n+GREETING = "Hi"' in output


def test_a_conflict_marker_fails_pre_commit_at_its_hook(broken: Path) -> None:
    readme = (broken / "README.md").read_text()
    plant(broken, "README.md", readme + "<<<<<<< before updating\nours\n=======\ntheirs\n"
          ">>>>>>> after updating\n")  # fmt: skip
    outcomes, output = pre_commit(broken)
    assert failed(outcomes) == {"no conflict markers"}, output
    lines = len(readme.splitlines())
    assert f"README.md:{lines + 1}:<<<<<<< before updating" in output
    assert f"README.md:{lines + 5}:>>>>>>> after updating" in output
    # A lone `=======` is a Markdown heading's underline: not reported.
    assert f"README.md:{lines + 3}:" not in output


def test_a_rej_file_fails_pre_commit_at_its_hook(broken: Path) -> None:
    plant(broken, "pyproject.toml.rej", "@@ -1 +1 @@\n-a\n+b\n")
    outcomes, output = pre_commit(broken)
    assert failed(outcomes) == {"no .rej files"}, output
    assert re.search(r"^pyproject\.toml\.rej$", output, re.MULTILINE)


def test_a_planted_token_fails_pre_commit_at_detect_secrets(broken: Path) -> None:
    token = "ghp_" + "Zq7Xw2Vb9Kp4" * 3  # a GitHub token's shape, made here
    plant(broken, f"src/{PACKAGE}/settings.py", f'"""Planted: a token."""\n\nTOKEN = "{token}"\n')
    outcomes, output = pre_commit(broken)
    assert failed(outcomes) == {"no secrets"}, output
    assert f"Location:    src/{PACKAGE}/settings.py:3" in output
    assert token not in output, "the place, never the value"


def test_a_workflow_weakness_fails_pre_commit_at_zizmor(broken: Path) -> None:
    """A team's own workflow that expands a pull request's title in its script."""
    plant(broken, ".github/workflows/greet.yml", (
        "name: Greet\non: pull_request\npermissions: {}\njobs:\n  greet:\n"
        "    runs-on: ubuntu-24.04\n    steps:\n"
        '      - run: echo "Thanks for ${{ github.event.pull_request.title }}"\n'
    ))  # fmt: skip
    outcomes, output = pre_commit(broken)
    assert failed(outcomes) == {"zizmor"}, output
    assert "template-injection" in output


def test_an_untested_function_fails_pytest_under_the_threshold(broken: Path) -> None:
    plant(broken, f"src/{PACKAGE}/farewell.py", (
        '"""Planted: code no test runs."""\n\n\n'
        "def farewell(name: str) -> str:\n"
        "    if not name:\n"
        '        return "Goodbye!"\n'
        '    return f"Goodbye, {name}!"\n'
    ))  # fmt: skip
    result = run("poetry", "run", "pytest", "-p", "no:cacheprovider", cwd=broken, check=False)
    assert result.returncode == 1, result.stdout
    assert "3 passed" in result.stdout, "the tests pass: coverage alone fails the run"
    assert re.search(
        r"FAIL Required test coverage of 90\.0% not reached\. Total coverage: \d", result.stdout
    )
    # show_missing: the report names the untested file (no test imports it) and its lines.
    assert re.search(rf"^src/{PACKAGE}/farewell\.py .* 0% +4-7$", result.stdout, re.MULTILINE)
    # The same project passes every other gate: the fault is only the missing test.
    outcomes, output = pre_commit(broken)
    assert failed(outcomes) == set(), output
