"""Side-by-side benchmark: the template's Docker strategies against the write-up's
Dockerfile, a naive one and a floor, on realistic projects, in one run.

Two applications, each the template rendered with the test answers (Python 3.13 by
default) plus real dependencies: pandas (a large binary wheel), and a web service
(Flask, gunicorn, psycopg2 compiled from source, with the template's documented apt
answers). Six variants build each:

  (a) naive        benchmarks/dockerfiles/naive.Dockerfile (single stage, poetry install)
  (b) writeup      benchmarks/dockerfiles/writeup-export.Dockerfile (the baseline)
  (c) export       the template's rendered Dockerfile, docker_strategy=export
  (d) wheel        the same, docker_strategy=wheel
  (e) environment  the same, docker_strategy=environment
  (f) floor        benchmarks/dockerfiles/floor.Dockerfile (dependencies cached, then
                   only a COPY of the source: the best a source-only rebuild can do)

(a), (b) and (f) take their `-apt.Dockerfile` twin for an app with OS packages. Each
repetition takes every variant in turn: cold build; source-only, version-bump,
tool-config and dependency-change rebuilds (benchmarks/measure.py); then the start-up
runs, interleaved. Medians, each one's ratio to (b), the targets (benchmarks/targets.py)
and the timeline of each source-only rebuild (BuildKit's own timings per step) go to
results.md and results.json (benchmarks/report.py).

A cold build empties the engine's whole build cache first (`docker builder prune -af`,
cache mounts included; images are kept). `--smoke` proves the script works in a few
minutes: tiny stand-in dependencies, one repetition, `docker build --no-cache` instead
of the prune (so a test run leaves the developer's build cache alone), output to a temp dir.

Usage: scripts/benchmark [--smoke] [--app pandas|web ...] [--runs N] [--output DIR] [--keep]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.measure import TAG_PREFIX, measure_app, remove_images  # noqa: E402
from benchmarks.model import (  # noqa: E402
    COLD,
    FULL,
    SMOKE,
    App,
    BenchmarkError,
    package_index_url,
    run,
    say,
)
from benchmarks.project import prepare  # noqa: E402
from benchmarks.report import application, markdown, report, template_version  # noqa: E402


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--smoke", action="store_true", help="tiny dependencies, one repetition, to a temp dir"
    )
    parser.add_argument(
        "--app",
        action="append",
        choices=[app.key for app in FULL.apps],
        help="only this application (repeatable; default: all)",
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
    parser.add_argument("--python", default="3.13", help="Python of the projects and base image")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory and the images"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    mode = SMOKE if args.smoke else FULL
    mode = dataclasses.replace(
        mode,
        apps=tuple(app for app in mode.apps if not args.app or app.key in args.app),
        **({"runs": args.runs} if args.runs else {}),
        **({"cold": args.cold} if args.cold else {}),
    )
    output = args.output or (
        Path(tempfile.mkdtemp(prefix="pdt-benchmark-smoke-")) if args.smoke else ROOT / "benchmarks"
    )

    # Poetry (the dev venv's) resolves through the simple index, as scripts/bootstrap.sh sets up.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    os.environ.setdefault("POETRY_PYPI_MIRROR_URL", package_index_url())
    index_url = package_index_url()
    base = f"python:{args.python}-slim"
    try:
        run("docker", "info")
        inspect = ("docker", "image", "inspect", "--format", "{{json .Config.Labels}}", base)
        labels = json.loads(run(*inspect).stdout) or {}
    except BenchmarkError as error:
        say(f"needs a Docker engine and the base image {base}:\n{error}")
        return 2
    if mode.cold == "prune":
        say(
            "each cold build first empties this engine's build cache (docker builder prune"
            " -af); images are kept"
        )

    template = template_version()  # what is rendered: read before the tree can move on
    work = Path(tempfile.mkdtemp(prefix="pdt-benchmark-"))
    started = time.monotonic()
    parts: dict[App, dict[str, Any]] = {}
    try:
        for app in mode.apps:
            contexts = prepare(work / app.key, app, args.python)
            samples, cached, timelines, dev = measure_app(
                app, mode, contexts, base, index_url, work / app.key / "logs"
            )
            parts[app] = application(app, samples, cached, timelines, dev)
        if not args.keep:
            remove_images(mode.apps)
        run("docker", "image", "inspect", base)  # only our own tags went: the base is there
    except BenchmarkError as error:
        say(f"failed; the work directory (logs/, contexts/) is kept: {work}\n{error}")
        return 1
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        say(f"work directory kept: {work}; images kept: {TAG_PREFIX}-*")

    config = {
        "smoke": args.smoke,
        "python": args.python,
        "template": template,
        "base_image": base,
        "base_is_standin": labels.get("workplace.standin") == "yes",
        "runs": mode.runs,
        "run_repeats": mode.run_repeats,
        "cold": mode.cold,
        "elapsed_s": round(time.monotonic() - started),
    }
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result = report(parts, config, date)
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (output / "results.md").write_text(table)
    print(table)
    say(f"wrote {output / 'results.md'} and {output / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
