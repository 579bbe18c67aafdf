"""The targets each application's figures are held to (issue 26's list, plus the
earlier ones that still make sense), each with a verdict: PASS, MISS, or info."""

from __future__ import annotations

from typing import Any

from benchmarks.model import FLOOR, TEMPLATE_VARIANTS, letter

Results = dict[str, dict[str, dict[str, Any]]]

REBUILD_OVER_SOURCE = 1.2  # version-bump and tool-config rebuilds, x the source-only one
SOURCE_SECONDS = 1.0  # source-only rebuild of (c) and (d) ...
SOURCE_SPEEDUP = 12  # ... how much faster than (b)'s at least ...
SOURCE_OVER_FLOOR = 4  # ... and at most this many times (f)'s
ENVIRONMENT_SOURCE_SECONDS = 1.5  # source-only rebuild of (e)
DEPENDENCY_RATIO = 0.4  # dependency-change rebuild of (c), x (b)'s
COLD_RATIO = 0.75  # cold build of (d) and (e), x (b)'s
SIZE_SAVED_MB = 10  # (c)'s image over base, smaller than (b)'s by at least
SIZE_OVER_INSTALLED_MB = 1  # (c)-(e): image over base at most installed files plus
IMPORT_SLOWER = 0.05  # `import` per run, (c)-(e) against the best variant


def targets(results: Results, module: str) -> list[dict[str, Any]]:
    def m(variant: str, figure: str) -> float:
        return float(results[variant][figure]["median"])

    def cached(variant: str, *figures: str) -> bool:
        return all(all(results[variant][figure]["deps_cached"]) for figure in figures)

    def name(key: str) -> str:
        return f"({letter(key)}) {key}"

    out: list[dict[str, Any]] = []

    def target(text: str, measured: str, passed: bool | None) -> None:
        out.append({"target": text, "measured": measured, "pass": passed})

    for key in TEMPLATE_VARIANTS:
        source = m(key, "source_rebuild")
        version, tool = m(key, "version_rebuild") / source, m(key, "tool_config_rebuild") / source
        hit = cached(key, "version_rebuild", "tool_config_rebuild")
        target(
            f"version-bump and tool-config rebuilds: {name(key)} at most"
            f" {REBUILD_OVER_SOURCE}x its own source-only rebuild, dependency install cached",
            f"{version:.2f}x and {tool:.2f}x; install {'cached' if hit else 'NOT cached'}",
            max(version, tool) <= REBUILD_OVER_SOURCE and hit,
        )
    for key in ("export", "wheel"):
        seconds = m(key, "source_rebuild")
        speedup = m("writeup", "source_rebuild") / seconds
        over_floor = seconds / m(FLOOR, "source_rebuild")
        target(
            f"source-only rebuild: {name(key)} at most {SOURCE_SECONDS} s, at least"
            f" {SOURCE_SPEEDUP}x faster than (b) and within {SOURCE_OVER_FLOOR}x of"
            f" {name(FLOOR)}",
            f"{seconds:.2f} s, {speedup:.1f}x faster than (b), {over_floor:.1f}x (f)'s",
            seconds <= SOURCE_SECONDS
            and speedup >= SOURCE_SPEEDUP
            and over_floor <= SOURCE_OVER_FLOOR,
        )
    seconds = m("environment", "source_rebuild")
    target(
        f"source-only rebuild: {name('environment')} at most {ENVIRONMENT_SOURCE_SECONDS} s",
        f"{seconds:.2f} s",
        seconds <= ENVIRONMENT_SOURCE_SECONDS,
    )
    ratio = m("export", "dependency_rebuild") / m("writeup", "dependency_rebuild")
    target(
        f"dependency-change rebuild: (c) export at most {DEPENDENCY_RATIO}x (b)'s",
        f"{ratio:.2f}x (b)'s",
        ratio <= DEPENDENCY_RATIO,
    )
    for key in ("wheel", "environment"):
        ratio = m(key, "dependency_rebuild") / m("writeup", "dependency_rebuild")
        target(f"dependency-change rebuild: {name(key)}, as measured", f"{ratio:.2f}x (b)'s", None)
    ratio = m("export", "cold_build") / m("writeup", "cold_build")
    target("cold build: (c) export no slower than (b)", f"{ratio:.2f}x (b)'s", ratio <= 1)
    for key in ("wheel", "environment"):
        ratio = m(key, "cold_build") / m("writeup", "cold_build")
        target(
            f"cold build: {name(key)} at most {COLD_RATIO}x (b)'s",
            f"{ratio:.2f}x (b)'s",
            ratio <= COLD_RATIO,
        )
    saved = m("writeup", "size_over_base") - m("export", "size_over_base")
    target(
        f"image size over base: (c) export at least {SIZE_SAVED_MB} MB smaller than (b)",
        f"{saved:.1f} MB smaller",
        saved >= SIZE_SAVED_MB,
    )
    over = {key: m(key, "size_over_base") - m(key, "installed") for key in TEMPLATE_VARIANTS}
    target(
        "image size over base: (c), (d), (e) each at most its installed files"
        f" + {SIZE_OVER_INSTALLED_MB} MB",
        ", ".join(f"{value:+.2f}" for value in over.values()) + " MB over installed",
        max(over.values()) <= SIZE_OVER_INSTALLED_MB,
    )
    best = min(m(key, "run_import") for key in results)
    for key in TEMPLATE_VARIANTS:
        slower = m(key, "run_import") / best - 1
        target(
            f"`import {module}` per run: {name(key)} within {IMPORT_SLOWER:.0%} of the best"
            " variant",
            f"{slower:+.1%} against the best",
            slower <= IMPORT_SLOWER,
        )
    return out
