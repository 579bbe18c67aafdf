"""The steps of this project's Dockerfile, run inside `docker build`, one per stage.

    python /opt/stages <step> [strategy]        (in the build)
    python docker/stages lock-check              (in CI: poetry.lock is fresh)
    python docker/stages project-version         (in CI: PROJECT_VERSION from git)

The template owns this folder (`copier update` replaces it); keep your own steps in
docker/build-steps.sh. It needs the standard library and the build tools' venv only.
"""

import argparse
from importlib import import_module
from pathlib import Path

# Each step's module, imported alone: a source edit's step starts no sooner than this.
STEPS = {
    "check-index": lambda args: import_module("dependencies").check_index(),
    "lock-check": lambda args: import_module("dependencies").check_lock(),
    "manifest": lambda args: import_module("dependencies").manifest(),
    "deps": lambda args: import_module("dependencies").deps(args.strategy),
    "backend": lambda args: import_module("dependencies").backend(),
    "project": lambda args: import_module("project").project(
        args.strategy, args.locked_at, args.data_dir
    ),
    "dev-root": lambda args: import_module("project").dev_root(),
    "project-version": lambda args: import_module("project").project_version(),
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
