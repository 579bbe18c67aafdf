"""The development loop, timed: `docker compose up --watch` on the template's export
render of an application, as its README tells a developer to work.

Per repetition, after that variant's builds (so the build cache holds what a developer's
would: the tools and manifest stages, not yet the dev image): `up --watch` until the app
container answers and the watch is on; then source edits, each from the host's write to
the moment a poller inside the container reads the new text (host and container share
the kernel's clock); then a dependency added (pyproject.toml and poetry.lock written as
`poetry add --lock` would) until the recreated container imports it. Then `down`, the
dev image removed.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import yaml

from benchmarks.model import App, BenchmarkError, Figure

DEV_FIGURES = [
    Figure(
        "watch_up",
        "`up --watch`, dev image built from the builds' cache, until the watch is on",
        "s",
    ),
    Figure("watch_sync", "source edit saved, until the running container reads it", "s"),
    Figure(
        "watch_lock", "dependency added to the lock, until the running container imports it", "s"
    ),
]
EDITS = 5  # source edits per repetition
EXEC = ("docker", "compose", "exec", "-T", "app")  # a command in the app container
LIMIT = 600.0  # seconds any one wait may take

# Run in the app container: says it is ready, then polls the file for the marker and
# prints the clock when it reads it (or gives up at the deadline).
POLLER = """\
import sys, time
path, marker, deadline = sys.argv[1], sys.argv[2], float(sys.argv[3])
print("ready", flush=True)
while time.time() < deadline:
    try:
        with open(path) as file:
            if marker in file.read():
                print(time.time(), flush=True)
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.005)
sys.exit("not seen before the deadline")
"""


class DevLoop:
    """One compose project of the render, its watch running while in a `with` block."""

    def __init__(self, project: Path, name: str, index_url: str, log: Path) -> None:
        self.project, self.log = project, log
        self.env = {**os.environ, "COMPOSE_PROJECT_NAME": name, "PIP_INDEX_URL": index_url}
        app = yaml.safe_load((project / "compose.yaml").read_text())["services"]["app"]
        self.workdir = app["develop"]["watch"][0]["target"]
        self.watcher: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        """A command in the app container, its exit status for the caller to judge."""
        return subprocess.run(
            [*EXEC, *command],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def __enter__(self) -> DevLoop:
        self.started = time.perf_counter()
        with self.log.open("w") as output:
            self.watcher = subprocess.Popen(
                ["docker", "compose", "up", "--watch"],
                cwd=self.project,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.watcher is not None:
            self.watcher.terminate()
            self.watcher.wait(timeout=60)
        down = ["docker", "compose", "down", "--volumes", "--remove-orphans", "--rmi", "local"]
        subprocess.run(down, cwd=self.project, env=self.env, capture_output=True, check=True)

    def until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + LIMIT
        while not condition():
            if self.watcher is not None and self.watcher.poll() is not None:
                raise BenchmarkError(f"compose watch exited while {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise BenchmarkError(f"not within {LIMIT:.0f} s: {what}\n{self.tail()}")
            time.sleep(0.1)

    def tail(self) -> str:
        return self.log.read_text()[-2000:]

    def up(self) -> float:
        """Seconds from `up --watch` to the watch on and the app container answering."""
        self.until(lambda: "Watch enabled" in self.log.read_text(), "waiting for the watch")
        self.until(lambda: self.exec("true").returncode == 0, "waiting for the app container")
        return time.perf_counter() - self.started

    def sync(self, source: Path, original: str) -> float:
        """One edit of `source`: seconds from the host's write to the container's read."""
        marker = f"WATCH_EDIT = {uuid.uuid4().hex!r}"
        inside = f"{self.workdir}/{source.relative_to(self.project).as_posix()}"
        deadline = str(time.time() + LIMIT)
        poller = subprocess.Popen(
            [*EXEC, "python", "-c", POLLER, inside, marker, deadline],
            cwd=self.project,
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert poller.stdout is not None
        if poller.stdout.readline().strip() != "ready":
            poller.kill()
            raise BenchmarkError(f"the poller in the app container did not start:\n{self.tail()}")
        written = time.time()
        source.write_text(f"{original}\n{marker}\n")
        seen, _ = poller.communicate(timeout=LIMIT + 60)
        if poller.returncode != 0:
            raise BenchmarkError(f"the edit never reached the container:\n{self.tail()}")
        return float(seen) - written

    def lock_change(self, manifests: dict[str, bytes], module: str) -> float:
        """Seconds from writing the new manifests to the running container importing
        `module` (which it must not import before)."""
        check = ("python", "-c", f"import {module}")
        if self.exec(*check).returncode == 0:
            raise BenchmarkError(f"the dev image imports {module} before it is added")
        start = time.perf_counter()
        for name, content in manifests.items():
            (self.project / name).write_bytes(content)
        self.until(lambda: self.exec(*check).returncode == 0, f"waiting for `import {module}`")
        return time.perf_counter() - start


def measure_dev_loop(
    app: App, project: Path, package_init: Path, changed: dict[str, bytes], name: str,
    index_url: str, log: Path,
) -> dict[str, list[float]]:  # fmt: skip
    """One repetition's figures: `watch_up` once, `watch_sync` per edit, `watch_lock` once.
    The project's files are left as they were found, but for the manifests: the caller
    sets its state again."""
    original = package_init.read_text()
    figures: dict[str, list[float]] = {figure.key: [] for figure in DEV_FIGURES}
    try:
        with DevLoop(project, name, index_url, log) as loop:
            figures["watch_up"].append(loop.up())
            for _ in range(EDITS):
                figures["watch_sync"].append(loop.sync(package_init, original))
            module = app.change.replace("-", "_")
            figures["watch_lock"].append(loop.lock_change(changed, module))
    finally:
        package_init.write_text(original)
    return figures
