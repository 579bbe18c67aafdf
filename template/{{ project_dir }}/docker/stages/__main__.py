"""The steps of this project's Dockerfile, run inside `docker build`, one per stage.

    python /opt/stages <step> [strategy]        (in the build)
    python docker/stages lock-check              (in CI: poetry.lock is fresh)
    python docker/stages project-version         (in CI: PROJECT_VERSION from git)

The template owns this folder (`copier update` replaces it); keep your own steps in
docker/build-steps.sh. It needs the standard library and the build tools' venv only.
"""

import argparse
from pathlib import Path

import dependencies
import project

STEPS = {
    "check-index": lambda args: dependencies.check_index(),
    "lock-check": lambda args: dependencies.check_lock(),
    "manifest": lambda args: dependencies.manifest(args.strategy),
    "deps": lambda args: dependencies.deps(args.strategy),
    "backend": lambda args: dependencies.backend(),
    "project": lambda args: project.project(
        args.strategy, args.locked_at, args.data_dir
    ),
    "dev-root": lambda args: project.dev_root(),
    "project-version": lambda args: project.project_version(),
}

parser = argparse.ArgumentParser(prog="stages", description=__doc__.splitlines()[0])
parser.add_argument("step", choices=STEPS)
parser.add_argument(
    "strategy", nargs="?", choices=["export", "wheel", "environment", "dev"]
)
parser.add_argument(
    "--locked-at", type=Path, default=Path.cwd(), help="monorepo: the copy"
)
parser.add_argument("--data-dir", help="the runtime's data folder, when inside /app")
arguments = parser.parse_args()
STEPS[arguments.step](arguments)
