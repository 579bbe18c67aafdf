"""The measurements: builds timed with their logs, sizes, start-up runs.

Each repetition takes every variant in turn (a rotated order, so none always goes
first): a cold build, then four warm rebuilds, each changing one thing from the build
before it: a source edit, a version bump, a tool-config edit, a dependency added. Each
rebuild's log says whether the variant's dependency install steps came from the cache.
The source-only rebuild logs BuildKit's timeline (`--progress=rawjson`: when each step
started and completed), the others a plain log. The start-up runs follow, interleaved
across variants.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.devloop import DEV_FIGURES, measure_dev_loop
from benchmarks.model import (
    FIGURES,
    MB,
    REBUILDS,
    VARIANTS,
    App,
    BenchmarkError,
    Mode,
    Variant,
    run,
    say,
    timed,
)
from benchmarks.project import Context, State
from benchmarks.sizes import footprint, image_size, installed_size


class Step(NamedTuple):
    """One step (a BuildKit vertex) of a build, as the timeline last reported it."""

    name: str  # as the plain log labels it: `[deps 3/3] RUN ...`, `exporting to image`
    cached: bool
    seconds: float  # from started to completed; 0 for a step that never completed
    started: float | None  # seconds since the epoch
    completed: float | None


# samples[variant][figure]: one value per repetition (per run, for the start-up figures)
Samples = dict[str, dict[str, list[float]]]
# cached[variant][rebuild figure]: were all dependency install steps CACHED, per repetition
Cached = dict[str, dict[str, list[bool]]]
# timelines[variant]: the source-only rebuild's steps, per repetition
Timelines = dict[str, list[list[Step]]]
# dev[figure]: the development loop's samples (benchmarks/devloop.py)
DevSamples = dict[str, list[float]]
DEV_VARIANT = "export"  # whose render the development loop runs

KINDS = ("", "source", "version", "tool", "deps")  # the tag of each build, as the figures go
TIMELINE_KIND = "source"  # the rebuild whose steps are timed

_LABEL = re.compile(r"#(\d+) (\[.+)")
_CACHED = re.compile(r"#(\d+) CACHED")
_TEXT = re.compile(r"\S")


def _updates(raw: str) -> Iterator[dict[str, Any]]:
    """The JSON documents of a rawjson log, one after the other (each spans several
    lines); a line that is not JSON (a warning of the client's) is skipped."""
    decoder, position = json.JSONDecoder(), 0
    while start := _TEXT.search(raw, position):
        try:
            update, position = decoder.raw_decode(raw, start.start())
        except json.JSONDecodeError:
            newline = raw.find("\n", start.start())
            position = len(raw) if newline < 0 else newline + 1
            continue
        if isinstance(update, dict):
            yield update


def _time(stamp: str | None) -> float | None:
    """An RFC 3339 time as BuildKit writes it (nanoseconds, `Z`), in epoch seconds."""
    return dt.datetime.fromisoformat(stamp).timestamp() if stamp else None


def timeline(raw: str) -> list[Step]:
    """The steps of a `--progress=rawjson` log in the order they started: each vertex as
    its last update has it (a later update restates the whole vertex)."""
    vertices: dict[str, dict[str, Any]] = {}
    for update in _updates(raw):
        for vertex in update.get("vertexes") or []:
            vertices[vertex["digest"]] = vertex
    steps = []
    for vertex in vertices.values():
        started, completed = _time(vertex.get("started")), _time(vertex.get("completed"))
        seconds = completed - started if started is not None and completed is not None else 0
        steps.append(
            Step(vertex["name"], bool(vertex.get("cached")), max(seconds, 0.0), started, completed)
        )
    return sorted(steps, key=lambda step: step.started or float("inf"))


def _plain_steps(log: str) -> list[tuple[str, bool]]:
    labels, cached = {}, set()
    for line in log.splitlines():
        if label := _LABEL.fullmatch(line):
            labels[label[1]] = label[2]
        elif cached_step := _CACHED.fullmatch(line):
            cached.add(cached_step[1])
    return [(name, number in cached) for number, name in labels.items()]


def install_cached(log: str, variant: Variant) -> bool:
    """Whether every step of the variant's dependency install was CACHED, in a plain log
    or a rawjson one."""
    if log.lstrip().startswith("{"):
        steps = [(step.name, step.cached) for step in timeline(log)]
    else:
        steps = _plain_steps(log)
    install = [cached for name, cached in steps if re.match(variant.install_step, name)]
    if not install:
        raise BenchmarkError(
            f"({variant.letter}) {variant.key}: no build step matches {variant.install_step!r}"
        )
    return all(install)


# Image tags of this run: its own, so that runs side by side (a test-suite's smoke run
# and a developer's) never remove or overwrite each other's images.
TAG_PREFIX = f"pdt-benchmark-{uuid.uuid4().hex[:8]}"


def tag_of(app: App, variant: Variant, kind: str = "") -> str:
    return f"{TAG_PREFIX}-{app.key}-{variant.key}{'-' + kind if kind else ''}"


def build(
    context: Context,
    tag: str,
    index_url: str,
    log: Path,
    *,
    no_cache: bool,
    progress: str = "plain",
) -> float:
    seconds, result = timed(
        "docker",
        "build",
        f"--progress={progress}",
        "--build-arg",
        f"PIP_INDEX_URL={index_url}",
        *context.build_args,
        *(["--no-cache"] if no_cache else []),
        "--tag",
        tag,
        ".",
        cwd=context.path,
    )
    log.write_text(result.stderr + result.stdout)
    return seconds


def check_output(tag: str, expected: str, *args: str) -> None:
    out = run("docker", "run", "--rm", tag, *args).stdout
    if expected not in out:
        raise BenchmarkError(f"{tag} {' '.join(args)}: expected {expected!r}, got {out!r}")


def python(code: str) -> tuple[str, ...]:
    return ("python", "-c", code)


class Rebuild(NamedTuple):
    figure: str
    kind: str  # the tag's suffix and the log's
    state: State
    check: tuple[str, tuple[str, ...]] | None  # a text the image must print, and how to ask


def rebuilds(app: App, context: Context, edit: str) -> list[Rebuild]:
    """The warm rebuilds, in order: each changes one thing from the build before it, and
    its check proves the change reached the image."""
    package = context.package
    name, version = context.distribution
    return [
        Rebuild(
            "source_rebuild",
            "source",
            State(source_edit=edit),
            (edit, python(f"import {package}; print({package}.BENCHMARK_EDIT)")),
        ),
        Rebuild(
            "version_rebuild",
            "version",
            State(version_bump=True, source_edit=edit),
            (version, python(f"import importlib.metadata as m; print(m.version({name!r}))")),
        ),
        Rebuild(
            "tool_config_rebuild",
            "tool",
            State(version_bump=True, tool_edit=True, source_edit=edit),
            None,  # nothing in the image shows a [tool.ruff] line
        ),
        Rebuild(
            "dependency_rebuild",
            "deps",
            State("changed", version_bump=True, tool_edit=True, source_edit=edit),
            ("changed", python(f"import {app.change.replace('-', '_')}; print('changed')")),
        ),
    ]


class Measurement:
    """One application's samples, filled variant by variant and repetition by repetition."""

    def __init__(self, app: App, mode: Mode, base: str, index_url: str, logs: Path) -> None:
        self.app, self.mode, self.index_url, self.logs = app, mode, index_url, logs
        self.samples: Samples = {v.key: {f.key: [] for f in FIGURES} for v in VARIANTS}
        self.cached: Cached = {v.key: {f.key: [] for f in REBUILDS} for v in VARIANTS}
        self.timelines: Timelines = {v.key: [] for v in VARIANTS}
        self.dev: DevSamples = {f.key: [] for f in DEV_FIGURES}
        self.base_size = image_size(base)
        self.base_files = footprint(base, ["/usr/local"], None)
        logs.mkdir(parents=True)

    def builds(self, context: Context, rep: int) -> None:
        """A cold build, the rebuilds after it, and the cold-built image's sizes."""
        app, variant = self.app, context.variant
        record = self.samples[variant.key]
        prefix = self.logs / f"{rep + 1}-{variant.key}"
        tags = {kind: tag_of(app, variant, kind) for kind in KINDS}
        run("docker", "image", "rm", "--force", *tags.values())  # only our own tags

        context.set_state(State())
        if self.mode.cold == "prune":
            run("docker", "builder", "prune", "--all", "--force")
        cold_log = prefix.with_suffix(".cold.log")
        no_cache = self.mode.cold == "no-cache"
        record["cold_build"].append(
            build(context, tags[""], self.index_url, cold_log, no_cache=no_cache)
        )
        if app.check:
            check_output(tags[""], app.check[1], *app.check[0])

        for rebuild in rebuilds(app, context, f"repetition {rep + 1}, {uuid.uuid4()}"):
            context.set_state(rebuild.state)
            log = prefix.with_suffix(f".{rebuild.kind}.log")
            tag = tags[rebuild.kind]
            progress = "rawjson" if rebuild.kind == TIMELINE_KIND else "plain"
            record[rebuild.figure].append(
                build(context, tag, self.index_url, log, no_cache=False, progress=progress)
            )
            text = log.read_text()
            self.cached[variant.key][rebuild.figure].append(install_cached(text, variant))
            if progress == "rawjson":
                self.timelines[variant.key].append(self.redacted(timeline(text)))
            if rebuild.check:
                check_output(tag, rebuild.check[0], *rebuild.check[1])
        context.set_state(State())

        record["size_over_base"].append((image_size(tags[""]) - self.base_size) / MB)
        record["installed"].append(installed_size(tags[""], self.base_files) / MB)
        built = [f for f in FIGURES if f.key == "cold_build" or f.rebuild]
        say(
            f"{app.key}, repetition {rep + 1}/{self.mode.runs}, ({variant.letter}) {variant.key}: "
            + ", ".join(f"{f.label} {record[f.key][-1]:.1f} s" for f in built)
        )

    def dev_loop(self, context: Context, rep: int) -> None:
        """The development loop on this render, right after its builds."""
        name = f"{TAG_PREFIX}-{self.app.key}-dev"
        log = self.logs / f"{rep + 1}-dev-loop.log"
        changed = context.manifests["changed"]
        figures = measure_dev_loop(
            self.app, context.path, context.package_init, changed, name, self.index_url, log
        )
        context.set_state(State())
        for key, values in figures.items():
            self.dev[key] += values
        say(
            f"{self.app.key}, repetition {rep + 1}/{self.mode.runs}, development loop: "
            + ", ".join(
                f"{key} {statistics.median(values):.2f} s" for key, values in figures.items()
            )
        )

    def redacted(self, steps: list[Step]) -> list[Step]:
        """BuildKit names a step with its build args expanded: the index URL (which may
        hold a registry's name) goes into the results as the variable that held it."""
        return [s._replace(name=s.name.replace(self.index_url, "$PIP_INDEX_URL")) for s in steps]

    def start_up(self, order: list[Context]) -> None:
        """The start-up runs, interleaved: every variant once, then again."""
        for _ in range(self.mode.run_repeats):
            for context in order:
                tag, record = tag_of(self.app, context.variant), self.samples[context.variant.key]
                seconds, result = timed("docker", "run", "--rm", tag)
                if "Hello, World!" not in result.stdout:
                    raise BenchmarkError(f"{tag} printed {result.stdout!r}, not the greeting")
                record["run_hello"].append(seconds)
                code = python(f"import {self.app.module}")
                seconds, _ = timed("docker", "run", "--rm", tag, *code)
                record["run_import"].append(seconds)


def measure_app(
    app: App, mode: Mode, contexts: list[Context], base: str, index_url: str, logs: Path
) -> tuple[Samples, Cached, Timelines, DevSamples]:
    """Every repetition takes the variants in a rotated order, so none always goes first."""
    measurement = Measurement(app, mode, base, index_url, logs)
    for rep in range(mode.runs):
        order = contexts[rep % len(contexts) :] + contexts[: rep % len(contexts)]
        for context in order:
            measurement.builds(context, rep)
            if context.variant.key == DEV_VARIANT:
                measurement.dev_loop(context, rep)
        measurement.start_up(order)
    return measurement.samples, measurement.cached, measurement.timelines, measurement.dev


def remove_images(apps: Sequence[App]) -> None:
    tags = [tag_of(app, v, kind) for app in apps for v in VARIANTS for kind in KINDS]
    run("docker", "image", "rm", "--force", *tags)
