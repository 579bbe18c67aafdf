"""Side-by-side benchmark: the template's Docker strategies against the write-up's
Dockerfile and a naive one, on one realistic project, in one run.

The project is the template rendered with the test answers (Python 3.13 by default)
plus one real dependency (`poetry add pandas`). Five variants build the same context:

  (a) naive        benchmarks/dockerfiles/naive.Dockerfile (single stage, poetry install)
  (b) writeup      benchmarks/dockerfiles/writeup-export.Dockerfile (the baseline)
  (c) export       the template's rendered Dockerfile, docker_strategy=export
  (d) wheel        the same, docker_strategy=wheel
  (e) environment  the same, docker_strategy=environment

Each repetition takes every variant in turn (a rotated order, so none always goes
first): cold build, source-only rebuild, dependency-change rebuild; then the start-up
runs, interleaved across variants. Medians over the repetitions, and each median's
ratio to (b), go to results.md and results.json.

A cold build empties the engine's whole build cache first (`docker builder prune -af`,
cache mounts included; images are kept). `--smoke` proves the script works in a few
minutes: a tiny dependency, one repetition, `docker build --no-cache` instead of the
prune (so a test run leaves the developer's build cache alone), output to a temp dir.

Usage: scripts/benchmark [--smoke] [--runs N] [--output DIR] [--keep]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import package_index_url  # noqa: E402

DOCKERFILES = ROOT / "benchmarks" / "dockerfiles"
BASELINE = "writeup"
MB = 1_000_000  # as `docker images` counts


@dataclass(frozen=True)
class Variant:
    key: str
    letter: str
    label: str
    dockerfile: Path | None = None  # a file under benchmarks/dockerfiles/...
    strategy: str | None = None  # ... or the template rendered with this strategy


VARIANTS = [
    Variant("naive", "a", "naive single stage", dockerfile=DOCKERFILES / "naive.Dockerfile"),
    Variant("writeup", "b", "write-up export + venv", DOCKERFILES / "writeup-export.Dockerfile"),
    Variant("export", "c", "template: export", strategy="export"),
    Variant("wheel", "d", "template: wheel", strategy="wheel"),
    Variant("environment", "e", "template: environment", strategy="environment"),
]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str  # "s" or "MB"


FIGURES = [
    Figure("cold_build", "cold build", "s"),
    Figure("source_rebuild", "source-only rebuild", "s"),
    Figure("dependency_rebuild", "dependency-change rebuild", "s"),
    Figure("size_over_base", "image size over base", "MB"),
    Figure("installed", "installed files (/app + growth of /usr/local)", "MB"),
    Figure("run_hello", "`docker run --rm IMAGE` (hello)", "s"),
    Figure("run_import", "`docker run --rm IMAGE python -c 'import {module}'`", "s"),
]


@dataclass(frozen=True)
class Mode:
    dependency: str  # what `poetry add` makes the project depend on
    module: str  # what `import` loads in the start-up figure
    change: str  # the package the dependency-change rebuild adds
    runs: int
    run_repeats: int  # docker runs per variant and repetition
    cold: str  # "prune" or "no-cache"


FULL = Mode("pandas", "pandas", "six", runs=5, run_repeats=3, cold="prune")
SMOKE = Mode("six", "six", "idna", runs=1, run_repeats=1, cold="no-cache")

# Sums file sizes under each path the way Docker sizes a layer: regular files and
# symlinks by their length, directories not at all, a hard-linked file once.
SIZE_SCRIPT = """
import json, os, stat, sys
seen, sizes = set(), {}
for top in sys.argv[1:]:
    total = 0
    for parent, dirs, files in os.walk(top):
        for name in dirs + files:
            st = os.lstat(os.path.join(parent, name))
            if stat.S_ISDIR(st.st_mode) or (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    sizes[top] = total
print(json.dumps(sizes))
"""


class BenchmarkError(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"benchmark: {message}", file=sys.stderr, flush=True)


def run(
    *args: str | os.PathLike[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [os.fspath(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BenchmarkError(
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"{(result.stdout + result.stderr)[-3000:]}"
        )
    return result


def timed(*args: str, cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = run(*args, cwd=cwd)
    return time.perf_counter() - start, result


# ── The project and the variants' build contexts ─────────────────────────────


@dataclass
class Context:
    """One variant's build directory and the files the benchmark swaps in it."""

    variant: Variant
    path: Path
    package_init: Path
    original_init: str
    manifests: dict[str, dict[str, bytes]] = field(default_factory=dict)

    def set_state(self, manifests: str, edit: str | None = None) -> None:
        for name, content in self.manifests[manifests].items():
            (self.path / name).write_bytes(content)
        source = self.original_init
        if edit is not None:
            source += f"\n\nBENCHMARK_EDIT = {edit!r}\n"
        self.package_init.write_text(source)


def locked_packages(project: Path) -> set[str]:
    lock = tomllib.loads((project / "poetry.lock").read_text())
    return {package["name"] for package in lock.get("package", [])}


def poetry_add(project: Path, package: str) -> None:
    run("poetry", "add", "--lock", "--no-interaction", package, cwd=project)


def prepare(work: Path, mode: Mode, python: str) -> list[Context]:
    """Render the template once per strategy; lock one project; one context per variant."""
    from tests.conftest import copy_project  # after the environment is set up (main)

    renders = work / "renders"
    say(f"rendering the template (Python {python}) and locking it with {mode.dependency}")
    locked = copy_project(
        renders / "locked", lock=True, docker_strategy="export", python_version=python
    )
    poetry_add(locked, mode.dependency)
    if mode.change in locked_packages(locked):
        raise BenchmarkError(
            f"{mode.change} is already in the lock: adding it would not change the dependencies"
        )
    changed = renders / "changed"
    shutil.copytree(locked, changed, ignore=shutil.ignore_patterns(".venv"))
    poetry_add(changed, mode.change)
    manifests = {
        state: {name: (project / name).read_bytes() for name in ("pyproject.toml", "poetry.lock")}
        for state, project in (("base", locked), ("changed", changed))
    }

    contexts = []
    pyprojects = set()
    for variant in VARIANTS:
        path = work / "contexts" / variant.key
        if variant.strategy is not None:
            render = copy_project(
                renders / variant.strategy, docker_strategy=variant.strategy, python_version=python
            )
            # One lock serves every strategy only while their manifests agree.
            pyprojects.add((render / "pyproject.toml").read_text())
            if len(pyprojects) > 1:
                raise BenchmarkError(f"{variant.strategy}: pyproject.toml differs by strategy")
            shutil.copytree(render, path)
        else:
            assert variant.dockerfile is not None
            shutil.copytree(locked, path, ignore=shutil.ignore_patterns(".venv"))
            shutil.copyfile(variant.dockerfile, path / "Dockerfile")
        (package,) = (path / "src").iterdir()
        init = package / "__init__.py"
        context = Context(variant, path, init, init.read_text(), manifests)
        context.set_state("base")
        contexts.append(context)
    return contexts


# ── Measurements ──────────────────────────────────────────────────────────────


def tag_of(variant: Variant, kind: str = "") -> str:
    return f"pdt-benchmark-{variant.key}{'-' + kind if kind else ''}"


def build(context: Context, tag: str, index_url: str, log: Path, *, no_cache: bool) -> float:
    seconds, result = timed(
        "docker",
        "build",
        "--progress=plain",
        "--build-arg",
        f"PIP_INDEX_URL={index_url}",
        *(["--no-cache"] if no_cache else []),
        "--tag",
        tag,
        ".",
        cwd=context.path,
    )
    log.write_text(result.stderr + result.stdout)
    return seconds


def image_size(tag: str) -> int:
    return int(run("docker", "image", "inspect", "--format", "{{.Size}}", tag).stdout)


def tree_sizes(tag: str, *paths: str) -> dict[str, int]:
    out = run(
        "docker",
        "run",
        "--rm",
        "--user",
        "0",
        "--entrypoint",
        "/usr/local/bin/python",
        tag,
        "-c",
        SIZE_SCRIPT,
        *paths,
    ).stdout
    return json.loads(out)


def installed_size(tag: str, base: str) -> int:
    """What a variant adds to the file system for the application: /app, plus what it
    installed into the base image's Python (/usr/local). Caches and tools are not in it."""
    sizes = tree_sizes(tag, "/app", "/usr/local")
    return sizes["/app"] + sizes["/usr/local"] - tree_sizes(base, "/usr/local")["/usr/local"]


def check_output(tag: str, expected: str, *args: str) -> None:
    out = run("docker", "run", "--rm", tag, *args).stdout
    if expected not in out:
        raise BenchmarkError(f"{tag} {' '.join(args)}: expected {expected!r}, got {out!r}")


def measure(args: argparse.Namespace, mode: Mode, work: Path) -> dict[str, dict[str, list[float]]]:
    index_url = package_index_url()
    base = f"python:{args.python}-slim"
    contexts = prepare(work, mode, args.python)
    package = contexts[0].package_init.parent.name
    logs = work / "logs"
    logs.mkdir()
    samples: dict[str, dict[str, list[float]]] = {
        v.key: {f.key: [] for f in FIGURES} for v in VARIANTS
    }
    base_size = image_size(base)

    for rep in range(mode.runs):
        order = contexts[rep % len(contexts) :] + contexts[: rep % len(contexts)]
        for context in order:
            variant, record = context.variant, samples[context.variant.key]
            prefix = logs / f"{rep + 1}-{variant.key}"
            tags = [tag_of(variant, kind) for kind in ("", "source", "deps")]
            run("docker", "image", "rm", "--force", *tags)  # only our own tags

            context.set_state("base")
            if mode.cold == "prune":
                run("docker", "builder", "prune", "--all", "--force")
            cold = build(
                context,
                tags[0],
                index_url,
                prefix.with_suffix(".cold.log"),
                no_cache=mode.cold == "no-cache",
            )

            edit = f"repetition {rep + 1}, {uuid.uuid4()}"
            context.set_state("base", edit=edit)
            source = build(
                context, tags[1], index_url, prefix.with_suffix(".source.log"), no_cache=False
            )
            check_output(
                tags[1], edit, "python", "-c", f"import {package}; print({package}.BENCHMARK_EDIT)"
            )

            context.set_state("changed", edit=edit)
            deps = build(
                context, tags[2], index_url, prefix.with_suffix(".deps.log"), no_cache=False
            )
            check_output(
                tags[2],
                "changed",
                "python",
                "-c",
                f"import {mode.change.replace('-', '_')}; print('changed')",
            )
            context.set_state("base")

            record["cold_build"].append(cold)
            record["source_rebuild"].append(source)
            record["dependency_rebuild"].append(deps)
            record["size_over_base"].append((image_size(tags[0]) - base_size) / MB)
            record["installed"].append(installed_size(tags[0], base) / MB)
            say(
                f"repetition {rep + 1}/{mode.runs}, ({variant.letter}) {variant.key}: "
                f"cold {cold:.1f} s, source {source:.1f} s, dependencies {deps:.1f} s"
            )

        # Start-up, interleaved: every variant once, then again.
        for _ in range(mode.run_repeats):
            for context in order:
                tag, record = tag_of(context.variant), samples[context.variant.key]
                seconds, result = timed("docker", "run", "--rm", tag)
                if "Hello, World!" not in result.stdout:
                    raise BenchmarkError(f"{tag} printed {result.stdout!r}, not the greeting")
                record["run_hello"].append(seconds)
                seconds, _ = timed(
                    "docker", "run", "--rm", tag, "python", "-c", f"import {mode.module}"
                )
                record["run_import"].append(seconds)

    if not args.keep:
        tags = [tag_of(v, kind) for v in VARIANTS for kind in ("", "source", "deps")]
        run("docker", "image", "rm", "--force", *tags)
    # Only our own tags were removed; the base image must have survived.
    image_size(base)
    return samples


# ── Results ───────────────────────────────────────────────────────────────────


def summarise(samples: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, dict[str, Any]]]:
    results: dict[str, dict[str, dict[str, Any]]] = {}
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
    return results


def targets(results: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    def m(variant: str, figure: str) -> float:
        return results[variant][figure]["median"]

    out: list[dict[str, Any]] = []

    def target(name: str, measured: str, passed: bool | None) -> None:
        out.append({"target": name, "measured": measured, "pass": passed})

    speedup = m("writeup", "source_rebuild") / m("export", "source_rebuild")
    target(
        "source-only rebuild: (c) at least 4x faster than (b) (aim 7x)",
        f"{speedup:.1f}x faster{' (aim met)' if speedup >= 7 else ''}",
        speedup >= 4,
    )
    saved = m("writeup", "size_over_base") - m("export", "size_over_base")
    target(
        "image size over base: (c) at least 10 MB smaller than (b)",
        f"{saved:.1f} MB smaller",
        saved >= 10,
    )
    overhead = m("export", "size_over_base") - m("export", "installed")
    target(
        "image size over base: (c) at most installed dependencies + project + 1 MB",
        f"{overhead:+.2f} MB over installed",
        overhead <= 1,
    )
    best = min(m(v.key, "run_import") for v in VARIANTS)
    for key in ("export", "wheel", "environment"):
        slower = m(key, "run_import") / best - 1
        target(
            f"import per run: ({_letter(key)}) {key} within 15% of the best variant",
            f"{slower:+.1%} against the best",
            slower <= 0.15,
        )
    ratio = m("export", "cold_build") / m("writeup", "cold_build")
    target("cold build: (c) no slower than (b)", f"{ratio:.2f}x (b)'s", ratio <= 1)
    ratio = m("export", "dependency_rebuild") / m("writeup", "dependency_rebuild")
    target("dependency-change rebuild: (c) at most 0.6x (b)'s", f"{ratio:.2f}x (b)'s", ratio <= 0.6)
    ratio = m("wheel", "dependency_rebuild") / m("writeup", "dependency_rebuild")
    target("dependency-change rebuild: (d) wheel, as measured", f"{ratio:.2f}x (b)'s", None)
    return out


def _letter(key: str) -> str:
    return next(v.letter for v in VARIANTS if v.key == key)


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


def markdown(report: dict[str, Any]) -> str:
    config, host = report["config"], report["machine"]
    base = config["base_image"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {report['date']} by `scripts/benchmark{' --smoke' if config['smoke'] else ''}`"
        f" on {host['nproc']} CPUs (`nproc`), {host['memory_bytes'] / 2**30:.1f} GiB memory,"
        f" Docker Engine {host['docker']} ({host['storage_driver']}).",
        f"Template: {config['template']}."
        f" Project: the template's default answers, Python {config['python']}, plus"
        f" `poetry add {config['dependency']}`; the dependency change adds"
        f" `{config['change']}`. Medians of {config['runs']} repetition(s)"
        f" ({config['runs'] * config['run_repeats']} for the `docker run` figures),"
        " variants interleaved; in brackets, the ratio to (b). Installed files: (c) to (e)"
        " hold the dependencies and the project only; (b)'s venv also holds pip, (a) also"
        " Poetry and the dev group.",
        f"Cold builds: {COLD[config['cold']]}",
    ]
    if config["base_is_standin"]:
        lines.append(
            f"The base image `{base}` here is a local stand-in (Debian, built by"
            " `../shared/ci/docker-up`), not the official image: sizes are over the base"
            " image, and absolute sizes and times differ from the official image's."
        )
    lines += ["", "| | " + " | ".join(f"({v.letter}) {v.label}" for v in VARIANTS) + " |"]
    lines.append("|---|" + "---:|" * len(VARIANTS))
    for figure in FIGURES:
        cells = []
        for variant in VARIANTS:
            result = report["results"][variant.key][figure.key]
            cells.append(
                f"{result['median']:.{1 if figure.unit == 'MB' else 2}f} ({result['ratio']:.2f}x)"
            )
        label = figure.label.format(module=config["module"])
        lines.append(f"| {label}, {figure.unit} | " + " | ".join(cells) + " |")
    lines += ["", "| target | measured | |", "|---|---|---|"]
    for t in report["targets"]:
        verdict = {True: "PASS", False: "MISS", None: "info"}[t["pass"]]
        lines.append(f"| {t['target']} | {t['measured']} | {verdict} |")
    return "\n".join(lines) + "\n"


COLD = {
    "prune": "`docker builder prune -af` before each (cache mounts included; base image kept).",
    "no-cache": "`docker build --no-cache` (smoke mode: cache mounts and other variants'"
    " layers are kept, so neither cold nor warm figures are fair; it proves the script works).",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--smoke", action="store_true", help="tiny dependency, one repetition, output to a temp dir"
    )
    parser.add_argument("--runs", type=int, help="repetitions (default 5; 1 with --smoke)")
    parser.add_argument(
        "--output",
        type=Path,
        help="where results.md/.json go (default benchmarks/; a temp dir with --smoke)",
    )
    parser.add_argument(
        "--cold",
        choices=sorted(COLD),
        help="how a cold build starts (default prune; no-cache with --smoke)",
    )
    parser.add_argument("--python", default="3.13", help="Python of the project and base image")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory and the images"
    )
    args = parser.parse_args(argv)

    mode = dataclasses.replace(
        SMOKE if args.smoke else FULL,
        **({"runs": args.runs} if args.runs else {}),
        **({"cold": args.cold} if args.cold else {}),
    )
    output = args.output or (
        Path(tempfile.mkdtemp(prefix="pdt-benchmark-smoke-")) if args.smoke else ROOT / "benchmarks"
    )

    # Poetry (the dev venv's) resolves through the simple index, as scripts/bootstrap.sh sets up.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    os.environ.setdefault("POETRY_PYPI_MIRROR_URL", package_index_url())
    base = f"python:{args.python}-slim"
    try:
        run("docker", "info")
        labels = (
            json.loads(
                run(
                    "docker", "image", "inspect", "--format", "{{json .Config.Labels}}", base
                ).stdout
            )
            or {}
        )
    except BenchmarkError as error:
        say(f"needs a Docker engine and the base image {base}:\n{error}")
        return 2
    if mode.cold == "prune":
        say(
            "each cold build first empties this engine's build cache (docker builder prune"
            " -af); images are kept"
        )

    work = Path(tempfile.mkdtemp(prefix="pdt-benchmark-"))
    started = time.monotonic()
    try:
        samples = measure(args, mode, work)
    except BenchmarkError as error:
        say(f"failed; the work directory (logs/, contexts/) is kept: {work}\n{error}")
        return 1
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        say(f"work directory kept: {work}")

    results = summarise(samples)
    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {
            "smoke": args.smoke,
            "python": args.python,
            "template": template_version(),
            "base_image": base,
            "base_is_standin": labels.get("workplace.standin") == "yes",
            "dependency": mode.dependency,
            "module": mode.module,
            "change": mode.change,
            "runs": mode.runs,
            "run_repeats": mode.run_repeats,
            "cold": mode.cold,
            "baseline": BASELINE,
            "elapsed_s": round(time.monotonic() - started),
        },
        "variants": {
            v.key: {
                "letter": v.letter,
                "label": v.label,
                "dockerfile": (
                    str(v.dockerfile.relative_to(ROOT))
                    if v.dockerfile
                    else f"template, docker_strategy={v.strategy}"
                ),
            }
            for v in VARIANTS
        },
        "figures": {
            f.key: {"label": f.label.format(module=mode.module), "unit": f.unit} for f in FIGURES
        },
        "results": results,
        "targets": targets(results),
    }
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (output / "results.md").write_text(table)
    print(table)
    say(f"wrote {output / 'results.md'} and {output / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
