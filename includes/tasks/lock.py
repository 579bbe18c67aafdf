"""Copier's task after a copy: write the new project's poetry.lock with Poetry.

copier.yml runs it as a list, `[<Copier's Python>, <this file>, <python_version>]`,
so no shell is involved and it runs the same under cmd.exe, PowerShell and sh. It
uses the standard library only: Copier's interpreter has nothing else for certain.

It runs in the project's folder, and leaves a poetry.lock that is already there
alone (an existing project adopting the template). It prints one line of its own,
under 80 columns; Poetry's output only when Poetry
fails for another reason than a missing interpreter. It always exits 0: Copier
deletes a new project whose task fails, and a project without a lock is still a
good project (`poetry install` writes the lock; the after-copy message says so).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

NAME = "poetry-docker-template"
# What Poetry 2 says when no interpreter satisfies requires-python.
NO_INTERPRETER = "unable to find a compatible version"


def say(message: str) -> None:
    print(f"{NAME}: {message}", file=sys.stderr, flush=True)


def main(python_version: str) -> int:
    if Path("poetry.lock").exists():
        # An existing project adopting the template: its lock is its own.
        say("poetry.lock left as it was")
        return 0
    poetry = shutil.which("poetry")
    if poetry is None:
        say("no poetry.lock yet: Poetry is not on PATH")
        return 0
    locked = subprocess.run(
        [poetry, "lock", "--no-interaction"],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    if locked.returncode == 0:
        say("poetry.lock written")
    elif NO_INTERPRETER in locked.stdout + locked.stderr:
        say(f"no poetry.lock yet: Poetry found no Python {python_version}")
    else:
        sys.stderr.write(locked.stdout + locked.stderr)
        say("no poetry.lock yet: 'poetry lock' failed (see above)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
