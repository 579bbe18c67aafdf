"""The template's own CI entry point, .ci/run, run in a repository of a test's making,
with stand-ins for what it calls: ../shared/ci/docker-up and scripts/test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.shell import run
from tests.support.template import ROOT


def run_ci_entry_point(repo: Path, test_script: str) -> subprocess.CompletedProcess[str]:
    """Copy .ci/run into repo and run it in a shell without CI: docker-up (beside repo,
    in shared/ci/) does nothing, scripts/test is test_script, a bash script's body."""
    (repo / ".ci").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / ".ci" / "run", repo / ".ci" / "run")
    for stand_in, script in [(repo / "scripts" / "test", test_script),
                             (repo.parent / "shared" / "ci" / "docker-up", "true\n")]:  # fmt: skip
        stand_in.parent.mkdir(parents=True, exist_ok=True)
        stand_in.write_text(f"#!/usr/bin/env bash\n{script}")
        stand_in.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    return run(repo / ".ci" / "run", env=env)
