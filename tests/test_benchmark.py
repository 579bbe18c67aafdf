"""Docker tier: the benchmark script runs end to end (smoke mode) and reports every figure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.helpers import run

VARIANTS = {"naive", "writeup", "export", "wheel", "environment"}
FIGURES = {
    "cold_build",
    "source_rebuild",
    "dependency_rebuild",
    "size_over_base",
    "installed",
    "run_hello",
    "run_import",
}


@pytest.mark.docker
def test_smoke_run_reports_every_variant_and_figure(docker_engine: str, tmp_path: Path) -> None:
    run(sys.executable, ROOT / "benchmarks" / "run.py", "--smoke", "--output", tmp_path, cwd=ROOT)

    report = json.loads((tmp_path / "results.json").read_text())
    assert report["config"]["smoke"] is True
    assert report["config"]["baseline"] == "writeup"
    assert set(report["variants"]) == VARIANTS
    assert set(report["figures"]) == FIGURES
    assert set(report["results"]) == VARIANTS
    for variant, figures in report["results"].items():
        assert set(figures) == FIGURES, variant
        for figure, result in figures.items():
            assert result["samples"], (variant, figure)
            assert all(value > 0 for value in result["samples"]), (variant, figure)
            assert result["median"] > 0, (variant, figure)
            assert result["ratio"] > 0, (variant, figure)
    assert all(result["ratio"] == 1 for result in report["results"]["writeup"].values())
    # Every target gets a verdict (or is marked informational), and the table is written.
    assert report["targets"]
    assert all(target["pass"] in (True, False, None) for target in report["targets"])
    table = (tmp_path / "results.md").read_text()
    assert "| target | measured |" in table
    assert all(f"({v['letter']}) {v['label']}" in table for v in report["variants"].values())
