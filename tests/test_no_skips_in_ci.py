"""In CI no tier skips: with CI set, any skip is a failure (tests/conftest.py's hooks),
an empty parametrization fails at collection (pyproject.toml), and .ci/run sets CI.

pytest runs on small planted test files, with this suite's conftest.py as a plugin and
its pytest settings, once with CI set and once without.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ci import run_ci_entry_point
from tests.support.template import ROOT

PLANTED = {
    "bare": "import pytest\n\n\ndef test_bare():\n    pytest.skip('planted: a bare skip')\n",
    "marked": (
        "import pytest\n\n\n@pytest.mark.skipif(True, reason='planted: a skipif mark')\n"
        "def test_marked():\n    pass\n"
    ),
    "module": (
        "import pytest\n\npytest.skip('planted: a module skips', allow_module_level=True)\n\n\n"
        "def test_never():\n    pass\n"
    ),
    "empty": (
        "import pytest\n\n\n@pytest.mark.parametrize('case', [])\ndef test_each(case):\n    pass\n"
    ),
    # Not a skip: an expected failure stays one.
    "xfail": (
        "import pytest\n\n\n@pytest.mark.xfail(reason='planted', strict=True)\n"
        "def test_expected():\n    assert False\n"
    ),
}


# What pytest reports for each planted file, with CI set and without (a skip mark acts
# at setup: an error there).
EXPECTED = {
    "true": {"bare": "FAILED", "marked": "ERROR", "module": "ERROR", "empty": "ERROR",
             "xfail": "XFAIL"},
    "": {"bare": "SKIPPED", "marked": "SKIPPED", "module": "SKIPPED", "empty": "ERROR",
         "xfail": "XFAIL"},
}  # fmt: skip


@pytest.fixture(scope="module", params=["true", ""], ids=["CI=true", "CI="])
def planted_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, str], str]:
    """pytest on the planted files, with this suite's conftest.py and settings: the CI
    value, each file's outcome, and what pytest printed."""
    ci: str = request.param
    folder = tmp_path_factory.mktemp("planted")
    for name, text in PLANTED.items():
        (folder / f"test_planted_{name}.py").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(folder),
         "--continue-on-collection-errors", "-rA", str(folder)],
        cwd=ROOT, env={**os.environ, "CI": ci}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    # -rA's summary: `FAILED test_planted_bare.py::test_bare - ...`, `SKIPPED [1] path:3: ...`
    outcomes = {
        match[2]: match[1]
        for match in re.finditer(
            r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL)\b.*?test_planted_(\w+)\.py", result.stdout,
            re.MULTILINE,
        )
    }  # fmt: skip
    return ci, outcomes, result.stdout


def test_every_planted_file_ends_as_expected(planted_run: tuple[str, dict[str, str], str]) -> None:
    ci, outcomes, output = planted_run
    assert outcomes == EXPECTED[ci], output


def test_a_skip_with_ci_set_fails_showing_its_reason(
    planted_run: tuple[str, dict[str, str], str],
) -> None:
    ci, _, output = planted_run
    message = "skipped with CI set, where no test may skip: "
    if ci:
        reasons = re.findall(re.escape(message) + r".*?(planted: [\w -]+)", output)
        assert set(reasons) == {"planted: a bare skip", "planted: a skipif mark",
                                "planted: a module skips"}, output  # fmt: skip
    else:
        assert message not in output, "the control: without CI a skip is a skip"


def test_an_empty_parametrization_fails_at_collection(
    planted_run: tuple[str, dict[str, str], str],
) -> None:
    _, _, output = planted_run
    assert "Empty parameter set in 'test_each'" in output


def test_ci_run_sets_ci_itself(tmp_path: Path) -> None:
    """.ci/run, with stand-ins for docker-up and scripts/test, in a shell without CI."""
    ran = run_ci_entry_point(tmp_path / "repo", 'echo "CI=${CI:-unset}"\n')
    assert ran.stdout == "CI=true\n"
