"""The quick start: a copy needs no `--trust`, the next-steps message, the examples of
docs/getting-started.md, the generated README's first commands, and a build without a lock.

The template has no tasks, so nothing writes poetry.lock during the copy: the message
says that `poetry install`, its first command, writes it, and that command does. The
message quotes the destination and keeps its steps in an order that works.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
from pathlib import Path

import copier
import pytest
import yaml

from tests.support.matrix import STRATEGIES
from tests.support.shell import package_index_url, path_without_poetry, run
from tests.support.template import ANSWERS, ROOT, answers_of, copy_project

COPIER_YML = yaml.safe_load((ROOT / "copier.yml").read_text())
# What Copier runs only with --trust (copier's _check_unsafe): tasks, migrations and
# Jinja extensions.
UNSAFE = {"_tasks", "_migrations", "_jinja_extensions"}


def test_copier_yml_has_nothing_that_needs_trust() -> None:
    assert set(COPIER_YML) & UNSAFE == set()


# ── The message after the copy ──────────────────────────────────────────────


def copy_and_read_message(dst: Path, capfd: pytest.CaptureFixture[str]) -> list[str]:
    """Copy as a user would (not quiet, no --trust); what Copier printed last."""
    copier.run_copy(str(ROOT), dst, data=ANSWERS, defaults=True, vcs_ref="HEAD")
    printed = capfd.readouterr().err
    start = printed.index(f"{ANSWERS['project_name']} is ready")
    return printed[start:].rstrip().splitlines()


def commands_of(message: list[str]) -> list[str]:
    return [line.strip() for line in message[1:]]


def test_message_says_install_writes_the_lock_and_quotes_the_destination(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """`poetry install` first: it writes the missing lock before the first commit and
    before `docker build`, which needs it."""
    dst = tmp_path / "my proj;touch x"
    message = copy_and_read_message(dst, capfd)
    assert message[0] == (
        "Acme Widget Service is ready (`poetry install` writes poetry.lock). Next steps:"
    )
    assert commands_of(message) == [
        f"cd {shlex.quote(str(dst))}",
        "poetry install && poetry run hello",
        'git init && git add -A && git commit -m "Start from poetry-docker-template"',
        "docker build -t acme-widget-service .",
        "docker run --rm acme-widget-service",
    ]
    assert not (dst / "poetry.lock").exists(), "nothing locks during the copy"
    # The cd line, run by a shell, goes there and runs nothing else.
    went = run("sh", "-c", f"{commands_of(message)[0]} && pwd", cwd=tmp_path)
    assert went.stdout.strip() == str(dst)
    assert not (tmp_path / "x").exists()
    assert all(len(line) <= 80 for line in message if "cd " not in line), message


@pytest.mark.slow
def test_the_messages_first_command_writes_the_lock_the_commit_takes(tmp_path: Path) -> None:
    """What a newcomer loses without the old copy task: nothing to type. The message's
    `poetry install` locks (the time the task used to spend), the commit takes the
    lock, and the image builds from it."""
    project = copy_project(tmp_path / "p")
    assert not (project / "poetry.lock").exists()
    run("sh", "-c", "poetry install && poetry run hello", cwd=project)
    run("poetry", "check", "--lock", "--strict", cwd=project)
    run("sh", "-c", 'git init && git add -A && git commit -m "Start"', cwd=project)
    assert run("git", "ls-files", "poetry.lock", cwd=project).stdout == "poetry.lock\n"


# ── The examples of Getting started and the generated README ────────────────


def getting_started_blocks(language: str) -> list[str]:
    """The code blocks of a language in docs/getting-started.md (the README's quick start
    shows only its first command, and tests/test_docs.py keeps the two alike)."""
    page = (ROOT / "docs" / "getting-started.md").read_text()
    return re.findall(rf"```{language}\n(.*?)```", page, re.DOTALL)


def docs_copy(command: str, cwd: Path) -> Path:
    """Run one of Getting started's `copier copy` commands on this working tree."""
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:2] == ["copier", "copy"]
    words[words.index("<template-url-or-path>")] = str(ROOT)
    assert "--trust" not in words, "no command of Getting started needs --trust"
    argv = [sys.executable, "-m", "copier", "copy", "--vcs-ref", "HEAD", *words[2:]]
    run(*argv, cwd=cwd, env={**os.environ, "PATH": path_without_poetry()})
    return cwd / words[-1]


def test_docs_copy_without_questions(tmp_path: Path) -> None:
    (command,) = [b for b in getting_started_blocks("console") if "docker_strategy=wheel" in b]
    answers = answers_of(docs_copy(command, tmp_path))
    assert (answers["project_name"], answers["docker_strategy"]) == ("Acme Billing", "wheel")
    assert answers["python_version"] == "3.12"


def test_docs_copy_with_organisation_defaults(tmp_path: Path) -> None:
    (defaults,) = getting_started_blocks("yaml")
    name = defaults.splitlines()[0].removeprefix("# ")
    (tmp_path / name).write_text(defaults)
    (command,) = [b for b in getting_started_blocks("console") if "--data-file" in b]
    answers = answers_of(docs_copy(command, tmp_path))
    assert {key: answers[key] for key in yaml.safe_load(defaults)} == yaml.safe_load(defaults)
    assert answers["project_name"] == "Acme Billing", "--data wins over the file"


def test_generated_readme_starts_with_three_commands(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", docker_command="hello --help")
    readme = (project / "README.md").read_text()
    title, description, section = readme.split("\n\n")[:3]
    assert title == f"# {ANSWERS['project_name']}"
    assert description == answers_of(project)["description"]
    assert section == "## Start here"
    (first,) = re.findall(r"```console\n(.*?)```", readme.split("\n## ")[1], re.DOTALL)
    assert first.splitlines() == [
        "poetry install",
        "poetry run pytest",
        "docker build -t acme-widget-service . && docker run --rm acme-widget-service",
    ]
    assert "`hello --help`" in readme.split("\n## ")[1]


# ── A build without poetry.lock ─────────────────────────────────────────────


@pytest.mark.docker
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_build_without_a_lock_fails_at_once_saying_to_lock(
    tmp_path: Path, docker_engine: str, strategy: str
) -> None:
    project = copy_project(tmp_path / "p", docker_strategy=strategy)
    assert not (project / "poetry.lock").exists()
    started = time.monotonic()
    built = run(
        docker_engine,
        "build",
        "--progress=plain",
        "--build-arg",
        f"PIP_INDEX_URL={package_index_url()}",
        ".",
        cwd=project,
        check=False,
    )
    took = time.monotonic() - started
    log = built.stdout + built.stderr
    assert built.returncode != 0
    assert "poetry.lock is missing: run 'poetry lock'" in log, log[-3000:]
    assert "failed to compute cache key" not in log
    # It fails in the manifest stage: no dependency is installed first.
    assert "[deps " not in log, log[-3000:]
    assert took < 180, f"{took:.0f} s"
