"""From samples to results: medians and ratios to (b), the report (results.json) and its
table (results.md, which docs/benchmark.md's benchmark block copies)."""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

from benchmarks.devloop import DEV_FIGURES, EDITS
from benchmarks.measure import DEV_VARIANT, Cached, DevSamples, Samples, Step, Timelines
from benchmarks.model import (
    BASELINE,
    COLD,
    FIGURES,
    FLOOR,
    REBUILDS,
    ROOT,
    TEMPLATE_VARIANTS,
    VARIANTS,
    App,
    BenchmarkError,
    run,
)
from benchmarks.targets import Results, targets

TIMELINE_STEPS = 5  # the slowest steps of each source-only rebuild that results.json keeps
TIMELINE_SHOWN = 3  # ... and the table shows
TIMELINE_VARIANTS = [*TEMPLATE_VARIANTS, FLOOR]  # the table's rows


def summarise(samples: Samples, cached: Cached) -> Results:
    results: Results = {}
    for variant in VARIANTS:
        results[variant.key] = {}
        for figure in FIGURES:
            values = samples[variant.key][figure.key]
            baseline = statistics.median(samples[BASELINE][figure.key])
            median = statistics.median(values)
            results[variant.key][figure.key] = {
                "median": median,
                "ratio": median / baseline if baseline else None,
                "samples": values,
            }
            if figure.rebuild:
                results[variant.key][figure.key]["deps_cached"] = cached[variant.key][figure.key]
    return results


def _span(steps: list[Step]) -> float:
    """From the first step's start to the last one's end: BuildKit's share of the build."""
    started = [s.started for s in steps if s.started is not None]
    completed = [s.completed for s in steps if s.completed is not None]
    return max(completed) - min(started) if started and completed else 0.0


def where_the_time_goes(runs: list[list[Step]]) -> dict[str, Any]:
    """One variant's source-only rebuilds: the slowest steps that were not cached, each
    the median over the repetitions (0 in one where it was cached or absent), and the span."""
    per_run = []
    for steps in runs:
        seconds: dict[str, float] = {}
        for step in steps:
            if not step.cached:
                seconds[step.name] = seconds.get(step.name, 0.0) + step.seconds
        per_run.append(seconds)
    names = {name for seconds in per_run for name in seconds}
    medians = {name: statistics.median(r.get(name, 0.0) for r in per_run) for name in names}
    slowest = sorted(medians.items(), key=lambda item: (-item[1], item[0]))[:TIMELINE_STEPS]
    return {
        "span_s": statistics.median(_span(steps) for steps in runs) if runs else None,
        "steps": [{"step": name, "seconds": seconds} for name, seconds in slowest],
    }


def dev_loop(dev: DevSamples) -> dict[str, dict[str, Any]]:
    return {
        key: {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
            "samples": values,
        }
        for key, values in dev.items()
    }


def application(
    app: App, samples: Samples, cached: Cached, timelines: Timelines, dev: DevSamples
) -> dict[str, Any]:
    """One application's part of the report: what it is, its results, targets, the
    source-only rebuild's timeline per variant and the development loop."""
    results = summarise(samples, cached)
    return {
        "title": app.title,
        "dependencies": list(app.dependencies),
        "module": app.module,
        "change": app.change,
        "apt_build_packages": app.apt_build_packages,
        "apt_runtime_packages": app.apt_runtime_packages,
        "dockerfiles": {v.key: dockerfile_of(v.key, app) for v in VARIANTS},
        "results": results,
        "targets": targets(results, app.module),
        "timeline": {v.key: where_the_time_goes(timelines[v.key]) for v in VARIANTS},
        "dev_loop": dev_loop(dev),
    }


def dockerfile_of(key: str, app: App) -> str:
    variant = next(v for v in VARIANTS if v.key == key)
    path = variant.dockerfile_path(app)
    return str(path.relative_to(ROOT)) if path else f"template, docker_strategy={variant.strategy}"


def machine() -> dict[str, Any]:
    info = json.loads(run("docker", "info", "--format", "{{json .}}").stdout)
    memory = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory = int(meminfo.read_text().split("MemTotal:")[1].split()[0]) * 1024
    return {
        "nproc": os.cpu_count(),
        "memory_bytes": memory or info.get("MemTotal"),
        "os": platform.platform(),
        "docker": info.get("ServerVersion"),
        "storage_driver": info.get("Driver"),
    }


def template_version() -> str:
    """The commit the variants were rendered from, and whether edits were on top of it."""
    try:
        commit = run("git", "-C", ROOT, "rev-parse", "--short", "HEAD").stdout.strip()
        dirty = run(
            "git", "-C", ROOT, "status", "--porcelain", "--", "copier.yml", "template", "includes"
        ).stdout.strip()
    except (BenchmarkError, OSError):
        return "unknown (not a git checkout)"
    return f"{commit}{' with uncommitted template edits' if dirty else ''}"


def report(apps: dict[App, dict[str, Any]], config: dict[str, Any], date: str) -> dict[str, Any]:
    """The whole report. Top-level `results` and `targets`, and `config`'s dependency,
    module and change, are the first application's: the format before there were two."""
    first_app, first = next(iter(apps.items()))
    return {
        "date": date,
        "machine": machine(),
        "config": {
            **config,
            "applications": [app.key for app in apps],
            "dependency": " ".join(first_app.dependencies),
            "module": first_app.module,
            "change": first_app.change,
            "baseline": BASELINE,
        },
        "variants": {
            v.key: {"letter": v.letter, "label": v.label, "dockerfile": first["dockerfiles"][v.key]}
            for v in VARIANTS
        },
        "figures": {
            f.key: {
                "label": f.label.format(module=first_app.module),
                "unit": f.unit,
                "rebuild": f.rebuild,
            }
            for f in FIGURES
        },
        "applications": {app.key: part for app, part in apps.items()},
        "results": first["results"],
        "targets": first["targets"],
    }


def _cached_cell(values: list[bool]) -> str:
    return "yes" if all(values) else "no" if not any(values) else f"{sum(values)}/{len(values)}"


def _describe(part: dict[str, Any]) -> str:
    added = " ".join(part["dependencies"])
    text = f"Project: the template's default answers plus `poetry add {added}`"
    if part["apt_build_packages"] or part["apt_runtime_packages"]:
        text += (
            f', with the apt answers `apt_build_packages="{part["apt_build_packages"]}"` and'
            f' `apt_runtime_packages="{part["apt_runtime_packages"]}"`; (a), (b) and (f) build'
            f" `{Path(part['dockerfiles']['naive']).name}`,"
            f" `{Path(part['dockerfiles']['writeup']).name}` and"
            f" `{Path(part['dockerfiles']['floor']).name}`, given the same packages as build"
            " args (build packages in (b)'s builder stage and (f)'s tools stage, runtime ones"
            " in their runtime stage)"
        )
    return text + f". The dependency change adds `{part['change']}`."


def markdown(report: dict[str, Any]) -> str:
    config, host = report["config"], report["machine"]
    base = config["base_image"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {report['date']} by `scripts/benchmark{' --smoke' if config['smoke'] else ''}`"
        f" on {host['nproc']} CPUs (`nproc`), {host['memory_bytes'] / 2**30:.1f} GiB memory,"
        f" Docker Engine {host['docker']} ({host['storage_driver']}).",
        f"Template: {config['template']}. Python {config['python']}. Medians of"
        f" {config['runs']} repetition(s) ({config['runs'] * config['run_repeats']} for the"
        " `docker run` figures), variants interleaved; in brackets, the ratio to (b).",
        f"Cold builds: {COLD[config['cold']]}",
        "Rebuilds, each from the build before it, cache warm: source-only edits one `.py`"
        " file; version bump changes only `version` in pyproject.toml (0.1.0 to 0.1.1);"
        " tool-config edit changes one `[tool.ruff]` line (`line-length = 101`); dependency"
        " change adds one package to pyproject.toml and poetry.lock. *Dependency install"
        " cached* says, for those four rebuilds in turn, whether every dependency install"
        " step came from the cache: (a) its `poetry install` step, (b) its `poetry export`"
        " + `pip install` step, (c) to (f) every RUN step of their `deps` stage.",
        "(f) floor is a yardstick, not a pattern: the dependencies install from the"
        " exported, hash-checked requirements in a stage only the manifests reach, and the"
        " project is never built: its source is copied last, importable through a .pth,"
        " beside hand-written metadata and `hello` script.",
        "Installed files: (c) to (e) hold the dependencies, the project and the runtime OS"
        " packages only; (b)'s and (f)'s venvs also hold pip; (a) also holds Poetry, the"
        " dev group and the build OS packages.",
    ]
    if config["base_is_standin"]:
        lines.append(
            f"The base image `{base}` here is a local stand-in (Debian, built by"
            " `../shared/ci/docker-up`), not the official image: sizes are over the base"
            " image, and absolute sizes and times differ from the official image's."
        )
    for key, part in report["applications"].items():
        lines += ["", f"### {key}: {part['title']}", "", _describe(part), ""]
        lines += _table(part)
    return "\n".join(lines) + "\n"


def _table(part: dict[str, Any]) -> list[str]:
    results = part["results"]
    lines = ["| | " + " | ".join(f"({v.letter}) {v.label}" for v in VARIANTS) + " |"]
    lines.append("|---|" + "---:|" * len(VARIANTS))
    for figure in FIGURES:
        cells = []
        for variant in VARIANTS:
            result = results[variant.key][figure.key]
            cells.append(
                f"{result['median']:.{1 if figure.unit == 'MB' else 2}f} ({result['ratio']:.2f}x)"
            )
        label = figure.label.format(module=part["module"])
        lines.append(f"| {label}, {figure.unit} | " + " | ".join(cells) + " |")
    cells = [
        " / ".join(_cached_cell(results[v.key][f.key]["deps_cached"]) for f in REBUILDS)
        for v in VARIANTS
    ]
    what = " / ".join(f.label.removesuffix(" rebuild") for f in REBUILDS)
    lines.append(f"| dependency install cached ({what}) | " + " | ".join(cells) + " |")
    lines += ["", "| target | measured | |", "|---|---|---|"]
    for t in part["targets"]:
        verdict = {True: "PASS", False: "MISS", None: "info"}[t["pass"]]
        lines.append(f"| {t['target']} | {t['measured']} | {verdict} |")
    return [*lines, "", *_timeline_table(part), "", *_dev_loop_table(part)]


def _step_cell(name: str) -> str:
    short = name if len(name) <= 60 else name[:57] + "..."
    return "`" + short.replace("`", "'").replace("|", "\\|") + "`"


def _timeline_table(part: dict[str, Any]) -> list[str]:
    lines = [
        "Where a source-only rebuild's seconds go (BuildKit's timeline, `--progress=rawjson`):"
        f" the {TIMELINE_SHOWN} slowest steps not cached, median seconds. Stages build in"
        " parallel, so steps can add up to more than the span, from the first step's start"
        " to the last one's end; the rest of the rebuild is the client's.",
        "",
        "| source-only rebuild | rebuild, s | span, s | slowest steps not cached, s |",
        "|---|---:|---:|---|",
    ]
    for variant in VARIANTS:
        if variant.key not in TIMELINE_VARIANTS:
            continue
        timeline = part["timeline"][variant.key]
        steps = "; ".join(
            f"{_step_cell(s['step'])} {s['seconds']:.2f}"
            for s in timeline["steps"][:TIMELINE_SHOWN]
        )
        span = "-" if timeline["span_s"] is None else f"{timeline['span_s']:.2f}"
        rebuild = part["results"][variant.key]["source_rebuild"]["median"]
        lines.append(
            f"| ({variant.letter}) {variant.label} | {rebuild:.2f} | {span} | {steps or 'none'} |"
        )
    return lines


def _dev_loop_table(part: dict[str, Any]) -> list[str]:
    variant = next(v for v in VARIANTS if v.key == DEV_VARIANT)
    lines = [
        f"The development loop: `docker compose up --watch` in ({variant.letter})'s render"
        " (its dev target: every group, the project editable), right after that variant's"
        f" builds; {EDITS} source edits per repetition, each timed from the host's write to"
        " a poller in the running container reading it; then the dependency change's"
        " pyproject.toml and poetry.lock, until the recreated container imports the package.",
        "",
        "| development loop | median, s | fastest, s | slowest, s | samples |",
        "|---|---:|---:|---:|---:|",
    ]
    for figure in DEV_FIGURES:
        result = part["dev_loop"][figure.key]
        lines.append(
            f"| {figure.label} | {result['median']:.2f} | {result['min']:.2f} |"
            f" {result['max']:.2f} | {len(result['samples'])} |"
        )
    return lines
