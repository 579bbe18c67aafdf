"""The benchmark (benchmarks/): its edits, log reading, targets and table, fast; and, in the
docker tier, the script end to end (smoke mode), reporting every variant and figure of
every application."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from benchmarks.devloop import DEV_FIGURES, EDITS
from benchmarks.measure import Step, install_cached, timeline
from benchmarks.model import (
    ANSWERS,
    DOCKERFILES,
    FIGURES,
    FULL,
    SMOKE,
    VARIANTS,
    WEB,
    BenchmarkError,
    package_index_url,
)
from benchmarks.project import bump_version, edit_tool_config
from benchmarks.report import application, markdown, where_the_time_goes
from benchmarks.targets import targets
from tests.support.shell import run
from tests.support.template import ROOT, read_toml

VARIANT_KEYS = {"naive", "writeup", "export", "wheel", "environment", "floor"}
APPS = {"pandas", "web"}
REBUILDS = {"source_rebuild", "version_rebuild", "tool_config_rebuild", "dependency_rebuild"}
FIGURE_KEYS = {
    "cold_build",
    *REBUILDS,
    "size_over_base",
    "installed",
    "run_hello",
    "run_import",
}

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
dependencies = []

[tool.ruff]
target-version = "py313"

[tool.ruff.lint]
select = ["E"]
"""


def test_the_model_names_every_variant_and_figure() -> None:
    assert {v.key for v in VARIANTS} == VARIANT_KEYS
    assert {f.key for f in FIGURES} == FIGURE_KEYS
    assert {f.key for f in FIGURES if f.rebuild} == REBUILDS
    assert {app.key for app in SMOKE.apps} == APPS


def test_the_benchmark_answers_name_real_questions() -> None:
    """Copier would silently ignore an answer to a question that no longer exists."""
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    apps = [app for mode in (SMOKE, FULL) for app in mode.apps]
    for answers in [ANSWERS, *(app.answers for app in apps)]:
        assert set(answers) <= set(questions), answers


def test_version_bump_changes_only_the_version() -> None:
    after = tomllib.loads(bump_version(PYPROJECT))
    before = tomllib.loads(PYPROJECT)
    assert after["project"].pop("version") == "0.1.1"
    before["project"].pop("version")
    assert after == before


def test_tool_config_edit_changes_one_ruff_line() -> None:
    edited = edit_tool_config(PYPROJECT)
    assert len(edited.splitlines()) == len(PYPROJECT.splitlines()) + 1
    after = tomllib.loads(edited)
    assert after["tool"]["ruff"].pop("line-length") == 101
    assert after == tomllib.loads(PYPROJECT)
    # An existing line-length goes up by one instead.
    again = tomllib.loads(edit_tool_config(edited))
    assert again["tool"]["ruff"]["line-length"] == 102
    with pytest.raises(BenchmarkError, match=r"no \[tool.ruff\]"):
        edit_tool_config('[project]\nversion = "1.0"\n')


def _log(cached: bool) -> str:
    """A plain-progress log in BuildKit's shape: a tools step, then the deps stage's."""
    deps = "#12 CACHED" if cached else "#12 0.214 Resolved 7 packages\n#12 DONE 3.1s"
    return "\n".join(
        [
            "#7 [tools 2/2] RUN --mount=type=cache,target=/root/.cache python -m venv",
            "#7 CACHED",
            "#11 [deps 2/3] COPY --from=manifest /app/requirements.txt ./",
            "#11 CACHED",
            "#12 [deps 3/3] RUN --mount=type=cache,target=/root/.cache python -m venv",
            deps,
            "#13 [project 3/3] RUN python -c ...",
            "#13 0.5 [deps 3/3] RUN printed by a step, not a step",
            "#13 DONE 0.9s",
        ]
    )


def test_install_cached_reads_the_plain_progress_log() -> None:
    export = next(v for v in VARIANTS if v.key == "export")
    assert install_cached(_log(cached=True), export)
    assert not install_cached(_log(cached=False), export)
    writeup = next(v for v in VARIANTS if v.key == "writeup")
    with pytest.raises(BenchmarkError, match="no build step matches"):
        install_cached(_log(cached=True), writeup)


# A real `docker build --progress=rawjson` log (Engine 26, buildx 0.13) of
# rawjson-rebuild.Dockerfile's second build: the file `x` edited, so the `deps` stage is
# cached and the `project` stage is not. Pretty-printed JSON documents, one per update.
RAWJSON = ROOT / "tests" / "fixtures" / "benchmark" / "rawjson-rebuild.json"


def test_timeline_reads_the_rawjson_log() -> None:
    steps = timeline(RAWJSON.read_text())
    names = [step.name for step in steps]
    # Each vertex once, as its last update has it, in the order the steps started.
    assert len(names) == len(set(names)) == 9
    assert names.index("[project 1/2] COPY x /x") < names.index("[project 2/2] RUN cat /x")
    assert names[-1] == "exporting to image"
    by_name = {step.name: step for step in steps}
    assert by_name["[deps 2/2] RUN echo tools > /t"].cached
    run_step = by_name["[project 2/2] RUN cat /x"]
    assert not run_step.cached
    assert run_step.seconds == pytest.approx(0.2558, abs=1e-3)  # completed - started
    # The restarted vertex (loaded twice) counts its last start only.
    assert by_name["[internal] load build definition from Dockerfile"].seconds < 0.02
    # install_cached reads the same log.
    deps = next(v for v in VARIANTS if v.key == "export")
    assert install_cached(RAWJSON.read_text(), deps)


def test_timeline_skips_what_is_not_json_and_unfinished_steps() -> None:
    raw = 'WARNING: a client line\n{"vertexes": [{"digest": "d", "name": "[a 1/1] RUN x"}]}\n'
    assert timeline(raw) == [Step("[a 1/1] RUN x", False, 0, None, None)]


def test_where_the_time_goes_takes_medians_of_steps_not_cached() -> None:
    steps = timeline(RAWJSON.read_text())
    summary = where_the_time_goes([steps, steps, []])
    names = [s["step"] for s in summary["steps"]]
    assert names[0] == "[project 2/2] RUN cat /x"
    assert "[deps 2/2] RUN echo tools > /t" not in names  # cached
    assert len(names) == 5
    # A step absent from one repetition of three still has its median.
    assert summary["steps"][0]["seconds"] == pytest.approx(0.2558, abs=1e-3)
    assert summary["span_s"] == pytest.approx(0.346, abs=0.01)  # 01.2278 to 01.5738


@pytest.mark.parametrize("name", ["naive", "writeup-export", "floor"])
def test_apt_dockerfiles_only_add_the_os_packages(name: str) -> None:
    """(a), (b) and (f) build the web app with the template's apt answers as build args;
    the `-apt` twin is the plain file plus those steps, in the stage each belongs to."""

    def instructions(path: Path) -> list[tuple[str, str]]:
        parsed = DockerfileParser(str(path)).structure
        return [(i["instruction"], i["value"]) for i in parsed if i["instruction"] != "COMMENT"]

    plain = instructions(DOCKERFILES / f"{name}.Dockerfile")
    apt = instructions(DOCKERFILES / f"{name}-apt.Dockerfile")
    assert [i for i in apt if "APT_" not in i[1]] == plain
    added = [i for i in apt if "APT_" in i[1]]
    assert {i[0] for i in added} == {"ARG", "RUN"}
    if name != "naive":
        # Build packages in a build stage, the runtime library in the runtime stage.
        runtime = next(n for n, i in enumerate(apt) if i[0] == "FROM" and "runtime" in i[1])
        assert all("APT_BUILD" in i[1] for i in added if apt.index(i) < runtime)
        assert all("APT_RUNTIME" in i[1] for i in added if apt.index(i) > runtime)


def test_benchmark_dockerfiles_pin_the_locked_poetry() -> None:
    locked = {p["name"]: p["version"] for p in read_toml(ROOT / "poetry.lock")["package"]}
    for path in DOCKERFILES.glob("*.Dockerfile"):
        pinned = dict(
            re.findall(r"\b(poetry(?:-plugin-[a-z-]+)?)==([0-9][0-9.]*)", path.read_text())
        )
        assert pinned, path.name
        assert {name: locked[name] for name in pinned} == pinned, path.name


def test_targets_and_table_cover_every_figure() -> None:
    """From made-up samples: every target gets a verdict, every figure a table row."""
    samples = {v.key: {f.key: [1.0 + n] for n, f in enumerate(FIGURES)} for v in VARIANTS}
    cached = {v.key: {key: [v.strategy is not None] for key in REBUILDS} for v in VARIANTS}
    timelines = {v.key: [timeline(RAWJSON.read_text())] for v in VARIANTS}
    dev = {"watch_up": [30.0], "watch_sync": [0.5, 0.25, 0.75], "watch_lock": [12.0]}
    part = application(WEB, samples, cached, timelines, dev)
    assert {t["pass"] for t in part["targets"]} <= {True, False, None}
    assert part["dockerfiles"]["writeup"] == "benchmarks/dockerfiles/writeup-export-apt.Dockerfile"
    report: dict[str, Any] = {
        "date": "today",
        "machine": {"nproc": 2, "memory_bytes": 2**30, "docker": "26", "storage_driver": "x"},
        "config": {
            "smoke": False,
            "template": "abc1234",
            "python": "3.13",
            "runs": 1,
            "run_repeats": 1,
            "cold": "prune",
            "base_image": "python:3.13-slim",
            "base_is_standin": False,
        },
        "applications": {"web": part},
    }
    table = markdown(report)
    assert "### web: " in table
    assert "`poetry add flask gunicorn psycopg2`" in table
    assert "import flask, psycopg2" in table
    for figure in FIGURES:
        assert f"| {figure.label.format(module=WEB.module)}, {figure.unit} |" in table
    assert "| no / no / no / no | no / no / no / no | yes / yes / yes / yes |" in table
    assert table.count(" | PASS |") + table.count(" | MISS |") + table.count(" | info |") == len(
        part["targets"]
    )
    # The timeline: a row for each template variant and the floor, slowest step first.
    assert "| source-only rebuild | rebuild, s | span, s | slowest steps not cached, s |" in table
    for key in ("export", "wheel", "environment", "floor"):
        variant = next(v for v in VARIANTS if v.key == key)
        row = (
            f"| ({variant.letter}) {variant.label} | 2.00 | 0.35 | `[project 2/2] RUN cat /x` 0.26;"
        )
        assert row in table, key
    assert "| (b) write-up export + venv | 2.00 |" not in table
    # The development loop: median, fastest, slowest, and how many samples.
    sync = next(f.label for f in DEV_FIGURES if f.key == "watch_sync")
    assert f"| {sync} | 0.50 | 0.25 | 0.75 | 3 |" in table
    assert table.count("| development loop |") == 1


@pytest.mark.parametrize(
    ("floor", "writeup", "verdict"),
    [(0.25, 12.0, True), (0.2, 12.0, False), (0.25, 10.0, False)],
    ids=["pass", "over 4x the floor", "under 12x faster than (b)"],
)
def test_source_only_target_holds_export_to_the_floor_and_the_writeup(
    floor: float, writeup: float, verdict: bool
) -> None:
    """(c)'s source-only rebuild of 0.9 s: at most 1.0 s, at least 12x faster than (b)'s,
    at most 4x (f)'s; each bound alone turns the verdict."""
    results = {
        v.key: {f.key: {"median": 1.0, "deps_cached": [True]} for f in FIGURES} for v in VARIANTS
    }
    results["export"]["source_rebuild"]["median"] = 0.9
    results["floor"]["source_rebuild"]["median"] = floor
    results["writeup"]["source_rebuild"]["median"] = writeup
    (found,) = [
        t for t in targets(results, "six") if t["target"].startswith("source-only rebuild: (c)")
    ]
    assert found["target"].endswith("within 4x of (f) floor")
    assert found["measured"].startswith("0.90 s, ")
    assert found["pass"] is verdict


@pytest.mark.docker
def test_smoke_run_reports_every_variant_and_figure(docker_engine: str, tmp_path: Path) -> None:
    """The web application only: its apt stages make its run a superset of the pandas
    one's, which differs only in the packages it adds; both would double the minutes."""
    run(sys.executable, ROOT / "benchmarks" / "run.py", "--smoke", "--app", "web",
        "--output", tmp_path, cwd=ROOT)  # fmt: skip

    report = json.loads((tmp_path / "results.json").read_text())
    assert report["config"]["smoke"] is True
    assert report["config"]["baseline"] == "writeup"
    assert set(report["variants"]) == VARIANT_KEYS
    assert set(report["figures"]) == FIGURE_KEYS
    assert set(report["applications"]) == {"web"}
    # The format before the second application: its results are the first one's.
    assert report["results"] == report["applications"]["web"]["results"]
    table = (tmp_path / "results.md").read_text()
    for key, part in report["applications"].items():
        results = part["results"]
        assert set(results) == VARIANT_KEYS, key
        for variant, figures in results.items():
            assert set(figures) == FIGURE_KEYS, (key, variant)
            for figure, result in figures.items():
                assert result["samples"], (key, variant, figure)
                assert all(value > 0 for value in result["samples"]), (key, variant, figure)
                assert result["median"] > 0, (key, variant, figure)
                assert result["ratio"] > 0, (key, variant, figure)
        assert all(result["ratio"] == 1 for result in results["writeup"].values()), key
        # Which rebuilds reinstall the dependencies: (a) and (b) on every edit, as their
        # Dockerfiles copy the source first; the template's and the floor's not for an
        # edit that leaves the locked dependencies be. (Whether they reinstall after a
        # dependency change is not asserted: without a prune, the same new dependencies
        # may already be in the cache, from (d) for (e), or from another run beside this.)
        for variant, figures in results.items():
            dockerfile = report["variants"][variant]["dockerfile"]
            apart = dockerfile.startswith("template") or variant == "floor"
            for figure in REBUILDS:
                cached = figures[figure]["deps_cached"]
                if apart and figure == "dependency_rebuild":
                    assert cached in ([True], [False]), (key, variant, figure)
                else:
                    assert cached == [apart], (key, variant, figure)
        # Every target gets a verdict (or is marked informational), and the table is written.
        assert part["targets"], key
        assert all(target["pass"] in (True, False, None) for target in part["targets"]), key
        assert f"### {key}: {part['title']}" in table
        # The targets hold the template to the floor, with the floor's figure measured.
        floor_target = [t for t in part["targets"] if "of (f) floor" in t["target"]]
        assert len(floor_target) == 2, key  # (c) and (d)
        assert all(re.search(r", \d+\.\d+x \(f\)'s$", t["measured"]) for t in floor_target)
        # The source-only rebuild's timeline, every variant: its slowest steps not cached,
        # within the span BuildKit reports, itself within the rebuild's wall time.
        assert set(part["timeline"]) == VARIANT_KEYS, key
        for variant, spent in part["timeline"].items():
            rebuild = results[variant]["source_rebuild"]["median"]
            assert 0 < spent["span_s"] <= rebuild, (key, variant)
            steps = spent["steps"]
            assert 0 < len(steps) <= 5, (key, variant)
            assert all(0 <= s["seconds"] <= spent["span_s"] for s in steps), (key, variant)
            assert [s["seconds"] for s in steps] == sorted(
                (s["seconds"] for s in steps), reverse=True
            ), (key, variant)
            # BuildKit's own names: a Dockerfile step (of a named stage or not), an
            # internal one, or the export.
            assert all(
                re.match(r"\[([\w-]+ )?\d+/\d+\] |\[internal\] |exporting to image$", s["step"])
                for s in steps
            ), (key, variant, steps)
        # A source edit reruns (a)'s and (b)'s install; the floor's rebuild runs nothing.
        run_step = re.compile(r"\[([\w-]+ )?\d+/\d+\] RUN ")
        for variant in ("naive", "writeup"):
            assert run_step.match(part["timeline"][variant]["steps"][0]["step"]), variant
        floor_steps = [s["step"] for s in part["timeline"]["floor"]["steps"]]
        assert not any(run_step.match(step) for step in floor_steps), floor_steps
        # (a)'s install step names the index through a build arg: the results hold the
        # variable, never its value.
        assert "$PIP_INDEX_URL" in part["timeline"]["naive"]["steps"][0]["step"]
        # The development loop ran: the watch came up, every edit was seen in the
        # container (after the write, within a watch's debounce), the new lock imported.
        loop = part["dev_loop"]
        assert set(loop) == {f.key for f in DEV_FIGURES}, key
        assert len(loop["watch_sync"]["samples"]) == EDITS, key
        assert all(0 < value < 10 for value in loop["watch_sync"]["samples"]), loop
        assert loop["watch_lock"]["median"] > loop["watch_sync"]["median"], loop
        assert loop["watch_up"]["median"] > 0, loop
    index_url = package_index_url()
    assert index_url not in (tmp_path / "results.json").read_text()
    assert index_url not in table
    assert report["applications"]["web"]["apt_runtime_packages"] == "libpq5"
    assert table.count("| target | measured |") == 1
    assert table.count("| source-only rebuild | rebuild, s | span, s |") == 1
    assert table.count("| development loop | median, s |") == 1
    assert all(f"({v['letter']}) {v['label']}" in table for v in report["variants"].values())
