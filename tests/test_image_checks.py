"""The image job's checks, run for real: the smoke test and the non-root check.

The generated workflow's steps after the image build run as GitHub runs them
(`run_checks`, the template's .github/scripts/smoke-test.sh included), first against a
stand-in `docker` that plays a container's life as a test chooses (fast), then against
real images (docker tier): the project's own, and containers that log the expected
text and then die, which must fail.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.docker import Image, session_tag
from tests.support.shell import run
from tests.support.template import copy_project
from tests.support.workflows import run_checks

GREETING = "Hello, World!\n"
BANNER = "[INFO] Listening at: http://0.0.0.0:8000\n"
FAKE_DOCKER = """#!/bin/sh
# Stands in for docker in the image job's checks. `run` records the --env names it was
# given; with --entrypoint id it prints $FAKE_UID; detached it starts "c0ffee"; else it
# prints $FAKE_OUTPUT and exits $FAKE_EXIT. `ps` says c0ffee runs for its first
# $FAKE_RUNNING_FOR calls ("always": for ever); `wait` gives $FAKE_STOP_CODE after a
# `stop`, $FAKE_EXIT before one.
state=$FAKE_STATE
case "$1" in
  run)
    shift; detach=; entry=
    while [ "$#" -gt 0 ]; do
      case $1 in
        --rm) ;;
        --detach) detach=yes ;;
        --env) shift; echo "$1" >> "$state/env" ;;
        --entrypoint) shift; entry=$1 ;;
        *) break ;;
      esac
      shift
    done
    [ "$1" = "$IMAGE" ] || { echo "unexpected image: $1" >&2; exit 2; }
    if [ "$entry" = id ]; then echo "$FAKE_UID"; exit 0; fi
    if [ -n "$detach" ]; then echo c0ffee; exit 0; fi
    printf '%s' "$FAKE_OUTPUT"; exit "${FAKE_EXIT:-0}" ;;
  logs) printf '%s' "$FAKE_OUTPUT" ;;
  ps)
    calls=$(cat "$state/ps" 2>/dev/null || echo 0); echo $((calls + 1)) > "$state/ps"
    if [ "$FAKE_RUNNING_FOR" = always ] || [ "$calls" -lt "${FAKE_RUNNING_FOR:-0}" ]; then
      echo c0ffee
    fi ;;
  stop) touch "$state/stopped"; echo c0ffee ;;
  wait) if [ -e "$state/stopped" ]; then echo "$FAKE_STOP_CODE"; else echo "${FAKE_EXIT:-0}"; fi ;;
  rm) ;;
  *) echo "unexpected: docker $*" >&2; exit 2 ;;
esac
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default strategy on Python 3.13, rendered once for this module."""
    dst = tmp_path_factory.mktemp("image-checks") / "project"
    return copy_project(dst, docker_strategy="export", python_version="3.13")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("image-checks-log") / "project"
    return copy_project(dst, smoke_test="log", smoke_test_text="Listening at")


@pytest.fixture
def fake_docker(tmp_path: Path) -> dict[str, str]:
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "IMAGE": "ci-image:test",
        "FAKE_STATE": str(state),
        "FAKE_UID": "10001",
    }


@pytest.mark.parametrize(
    ("output", "exit_code", "uid", "passes"),
    [
        (GREETING, "0", "10001", [True, True]),
        ("Hello, World!", "0", "10001", [False, True]),
        ("Hello, World!\n\n", "0", "10001", [False, True]),
        ("Hello, World! \n", "0", "10001", [False, True]),
        ("hello, world!\n", "0", "10001", [False, True]),
        ("", "0", "10001", [False, True]),
        (GREETING, "1", "10001", [False, True]),
        (GREETING, "0", "0", [True, False]),
        (GREETING, "0", "", [True, False]),
    ],
    ids=[
        "exact",
        "no-newline",
        "extra-line",
        "trailing-space",
        "case",
        "empty",
        "exit-1",
        "root",
        "no-uid",
    ],
)
def test_output_checks_fail_on_anything_but_the_promise(
    rendered: Path,
    tmp_path: Path,
    fake_docker: dict[str, str],
    output: str,
    exit_code: str,
    uid: str,
    passes: list[bool],
) -> None:
    """The smoke test compares the output byte for byte and needs exit code 0; the user
    check rejects root."""
    env = {**fake_docker, "FAKE_OUTPUT": output, "FAKE_EXIT": exit_code, "FAKE_UID": uid}
    assert [code == 0 for code in run_checks(rendered, tmp_path, env)] == passes


@pytest.mark.parametrize(
    ("output", "running_for", "exit_code", "stop_code", "passes"),
    [
        (BANNER, "always", "", "143", True),
        (BANNER, "always", "", "0", True),
        ("Traceback (most recent call last):\n", "0", "1", "", False),
        # Logged the text, then died: the container is gone a moment later.
        (BANNER + "Traceback (most recent call last):\n", "0", "1", "", False),
        (BANNER, "0", "0", "", False),
        (BANNER, "0", "2", "", False),
        (BANNER, "always", "", "137", False),
        (BANNER, "always", "", "1", False),
    ],
    ids=[
        "stopped-by-sigterm",
        "exited-cleanly-on-sigterm",
        "crashed-at-start",
        "text-then-crash",
        "text-then-exit-0",
        "text-then-exit-2",
        "ignored-sigterm",
        "failed-on-sigterm",
    ],
)
def test_log_checks_need_the_line_a_running_server_and_a_clean_stop(
    server: Path,
    tmp_path: Path,
    fake_docker: dict[str, str],
    output: str,
    running_for: str,
    exit_code: str,
    stop_code: str,
    passes: bool,
) -> None:
    """A long-running command passes once it logs the text, is still running a moment
    later, and ends cleanly on SIGTERM (0, or 143 when the signal ended it)."""
    env = {**fake_docker, "FAKE_OUTPUT": output, "FAKE_RUNNING_FOR": running_for,
           "FAKE_EXIT": exit_code, "FAKE_STOP_CODE": stop_code}  # fmt: skip
    assert run_checks(server, tmp_path, env) == [0 if passes else 1, 0]


def test_the_container_gets_the_settings_and_secrets_the_command_needs(
    tmp_path: Path, fake_docker: dict[str, str]
) -> None:
    """docker_env and docker_secrets reach the container by name (--env NAME): values
    from the step's environment, never on a command line or in a file."""
    project = copy_project(tmp_path / "p", docker_env="MODE=prod BIND=0.0.0.0",
                           docker_secrets="API_TOKEN")  # fmt: skip
    env = {**fake_docker, "FAKE_OUTPUT": GREETING, "API_TOKEN": "secret-value"}
    assert run_checks(project, tmp_path, env) == [0, 0]
    assert (Path(fake_docker["FAKE_STATE"]) / "env").read_text().split() == [
        "MODE", "BIND", "API_TOKEN",
    ]  # fmt: skip


# ── Real containers ──────────────────────────────────────────────────────────


@pytest.mark.docker
def test_image_checks_pass_on_the_real_image(
    locked_project: Callable[..., Path],
    build_image: Callable[..., Image],
    tmp_path: Path,
) -> None:
    """The same scripts, on an image built from a rendered project."""
    project = locked_project(docker_strategy="export", python_version="3.13")
    # The name test_images.py builds it under: one build a session serves both.
    image = build_image(project, "export-3.13")
    assert run_checks(project, tmp_path, {"IMAGE": image.tag}) == [0, 0]


# A server that prints its banner, then (per the image's build argument) keeps running
# until SIGTERM, exits 1, or exits 0.
STAND_IN = """FROM python:3.13-slim
ARG THEN
RUN printf '%s\\n' 'import sys, time' 'print("Listening at: http://0.0.0.0:8000", flush=True)' \
      "time.sleep(1); sys.exit($THEN) if '$THEN' != 'run' else time.sleep(600)" > /server.py
ENTRYPOINT ["python", "/server.py"]
"""


@pytest.mark.docker
@pytest.mark.parametrize(("then", "passes"), [("run", False), ("1", False), ("0", False)])
def test_a_server_that_dies_after_its_banner_fails_the_smoke_test(
    docker_engine: str, server: Path, tmp_path: Path, then: str, passes: bool
) -> None:
    """Real containers: a banner then a crash (1) or an exit (0) fails. The one that keeps
    running has Python as PID 1, which ignores SIGTERM: killed after 10 s, it fails too."""
    (tmp_path / "Dockerfile").write_text(STAND_IN)
    tag = session_tag(f"dies-after-banner-{then}")
    run(docker_engine, "build", "--quiet", "--build-arg", f"THEN={then}", "--tag", tag, ".",
        cwd=tmp_path)  # fmt: skip
    try:
        codes = run_checks(server, tmp_path, {"IMAGE": tag})
        assert codes[0] == (0 if passes else 1)
    finally:
        run(docker_engine, "image", "rm", "--force", tag, check=False)
