"""The image job's checks, run for real: the smoke test and the non-root check.

The generated workflow's steps after the image build run as GitHub runs them
(`run_checks`), first against a stand-in `docker` that prints what a test chooses
(fast), then against a real image (docker tier).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.docker import Image
from tests.support.template import copy_project
from tests.support.workflows import run_checks

GREETING = "Hello, World!\n"
FAKE_DOCKER = """#!/bin/sh
# Stands in for the docker commands of the image job's checks. `run --rm IMAGE`
# prints $FAKE_OUTPUT, `run --rm IMAGE id -u` $FAKE_UID; a detached container
# logs $FAKE_OUTPUT and, when stopped, exits with $FAKE_STOP_CODE.
case "$1 $2" in
  "run --rm") [ "$3" = "$IMAGE" ] || exit 2
              if [ "$#" -eq 3 ]; then printf '%s' "$FAKE_OUTPUT"; else echo "$FAKE_UID"; fi ;;
  "run --detach") echo c0ffee ;;
  "logs c0ffee") printf '%s' "$FAKE_OUTPUT" ;;
  "ps --quiet") if [ -n "$FAKE_RUNNING" ]; then echo c0ffee; fi ;;
  "stop c0ffee") echo c0ffee ;;
  "wait c0ffee") echo "$FAKE_STOP_CODE" ;;
  "rm --force") ;;
  *) echo "unexpected: docker $*" >&2; exit 2 ;;
esac
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default strategy on Python 3.13, rendered once for this module."""
    dst = tmp_path_factory.mktemp("image-checks") / "project"
    return copy_project(dst, docker_strategy="export", python_version="3.13")


@pytest.fixture
def fake_docker(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "IMAGE": "ci-image:test"}


@pytest.mark.parametrize(
    ("output", "uid", "passes"),
    [
        (GREETING, "10001", [True, None, True]),
        ("Hello, World!", "10001", [False, None, True]),
        ("Hello, World!\n\n", "10001", [False, None, True]),
        ("Hello, World! \n", "10001", [False, None, True]),
        ("hello, world!\n", "10001", [False, None, True]),
        ("", "10001", [False, None, True]),
        (GREETING, "0", [True, None, False]),
        (GREETING, "", [True, None, False]),
    ],
    ids=["exact", "no-newline", "extra-line", "trailing-space", "case", "empty", "root", "no-uid"],
)
def test_output_checks_fail_on_anything_but_the_promise(
    rendered: Path,
    tmp_path: Path,
    fake_docker: dict[str, str],
    output: str,
    uid: str,
    passes: list[bool | None],
) -> None:
    """The smoke test compares the output byte for byte; the user check rejects root."""
    env = {**fake_docker, "FAKE_OUTPUT": output, "FAKE_UID": uid}
    codes = run_checks(rendered, tmp_path, env)
    assert [None if code is None else code == 0 for code in codes] == passes


@pytest.mark.parametrize(
    ("output", "running", "stop_code", "passes"),
    [
        ("[INFO] Listening at: http://0.0.0.0:8000\n", "yes", "143", True),
        ("[INFO] Listening at: http://0.0.0.0:8000\n", "yes", "0", True),
        ("Traceback (most recent call last):\n", "", "1", False),
        ("[INFO] Listening at: http://0.0.0.0:8000\n", "yes", "137", False),
    ],
    ids=["stopped-by-sigterm", "exited-cleanly", "crashed-at-start", "ignored-sigterm"],
)
def test_log_checks_need_the_line_and_a_prompt_stop(
    tmp_path: Path,
    fake_docker: dict[str, str],
    output: str,
    running: str,
    stop_code: str,
    passes: bool,
) -> None:
    """A long-running command passes once it logs the text and stops on SIGTERM."""
    project = copy_project(tmp_path / "p", smoke_test="log", smoke_test_text="Listening at")
    env = {**fake_docker, "FAKE_OUTPUT": output, "FAKE_RUNNING": running,
           "FAKE_STOP_CODE": stop_code, "FAKE_UID": "10001"}  # fmt: skip
    assert run_checks(project, tmp_path, env) == [None, 0 if passes else 1, 0]


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
    assert run_checks(project, tmp_path, {"IMAGE": image.tag}) == [0, None, 0]
