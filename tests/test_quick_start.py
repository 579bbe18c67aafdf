"""The quick start: a copy needs no `--trust`, the next-steps message, the examples of
docs/getting-started.md, the generated README's first commands, and a build without a
lock or with a stale one.

The template has no tasks, so nothing writes poetry.lock during the copy: the message
says that `poetry install`, its first command, writes it, and that command does. The
message quotes the destination and keeps its steps in an order that works.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.support.docker import failed_build, failed_steps
from tests.support.matrix import STRATEGIES
from tests.support.shell import package_index_url, path_without_poetry, run
from tests.support.template import ANSWERS, ROOT, answers_of, copy_project, read_toml
from tests.support.updates import assert_strategy

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


def assert_rendered_as_answered(project: Path) -> dict[str, Any]:
    """The rendered files say what the answers file says: name, Python, authors,
    licence, apt packages, command. Returns the answers."""
    answers = answers_of(project)
    python = answers["python_version"]
    pyproject = read_toml(project / "pyproject.toml")
    meta = pyproject["project"]
    assert meta["name"] == answers["project_slug"]
    assert meta["description"] == answers["description"]
    assert meta["requires-python"] == f">={python},<4"
    assert meta["authors"] == [{"name": answers["author_name"], "email": answers["author_email"]}]
    assert meta["license"].removeprefix("LicenseRef-") == answers["license"]
    assert pyproject["tool"]["mypy"]["python_version"] == python
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + python.replace(".", "")
    parsed = DockerfileParser(str(project / "Dockerfile"))
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", parsed.content, re.MULTILINE)
    assert base.split("@")[0] == f"python:{python}-slim", base
    installs = [i["value"] for i in parsed.structure if "apt-get install" in i["value"]]
    for packages in (answers["apt_build_packages"], answers["apt_runtime_packages"]):
        if packages:
            assert any(f"--no-install-recommends {packages}" in run for run in installs), installs
    cmds = [i["value"] for i in parsed.structure if i["instruction"] == "CMD"]
    assert cmds[-1] == json.dumps(shlex.split(answers["docker_command"]))
    assert (project / "README.md").read_text().startswith(f"# {answers['project_name']}\n")
    ci = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    assert ci["env"]["PYTHON_VERSION"] == python
    return answers


def test_docs_copy_without_questions(tmp_path: Path) -> None:
    (command,) = [b for b in getting_started_blocks("console") if "docker_strategy=wheel" in b]
    project = docs_copy(command, tmp_path)
    answers = assert_rendered_as_answered(project)
    assert (answers["project_name"], answers["docker_strategy"]) == ("Acme Billing", "wheel")
    assert answers["python_version"] == "3.12"
    assert_strategy(project, "wheel")


def organisation_defaults(folder: Path, **more: str) -> dict[str, Any]:
    """The getting-started page's defaults file, written where its command expects it (with more
    answers if given); returns its answers."""
    (defaults,) = getting_started_blocks("yaml")
    name = defaults.splitlines()[0].removeprefix("# ")
    answers: dict[str, Any] = {**yaml.safe_load(defaults), **more}
    (folder / name).write_text(yaml.safe_dump(answers))
    return answers


def test_docs_copy_with_organisation_defaults(tmp_path: Path) -> None:
    defaults = organisation_defaults(tmp_path)
    (command,) = [b for b in getting_started_blocks("console") if "--data-file" in b]
    answers = assert_rendered_as_answered(docs_copy(command, tmp_path))
    assert {key: answers[key] for key in defaults} == defaults
    assert answers["project_name"] == "Acme Billing"


def test_data_wins_over_the_data_file_in_every_rendered_file(tmp_path: Path) -> None:
    """The promise of Getting started, with keys both give: the file says Acme Ledger on 3.13,
    `--data` says Acme Billing on 3.12; the answers and every rendered file say the
    latter. The page's own example has no key in both, so it cannot show this."""
    defaults = organisation_defaults(tmp_path, project_name="Acme Ledger")
    assert defaults["python_version"] == "3.13", "the page's file still sets 3.13"
    (command,) = [b for b in getting_started_blocks("console") if "--data-file" in b]
    assert '--data project_name="Acme Billing"' in command
    # The page's command with one more answer, which its file gives too.
    command = command.replace("--data-file", "--data python_version=3.12 --data-file")
    project = docs_copy(command, tmp_path)
    answers = assert_rendered_as_answered(project)
    assert (answers["project_name"], answers["python_version"]) == ("Acme Billing", "3.12")
    assert read_toml(project / "pyproject.toml")["project"]["name"] == "acme-billing"
    assert "ARG PYTHON_IMAGE=python:3.12-slim" in (project / "Dockerfile").read_text()
    # The file's other answers still count.
    assert answers["author_name"] == defaults["author_name"] == "Acme Platform Team"


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


# ── A build without poetry.lock, or with a stale one ────────────────────────


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
    # It fails in the manifest stage: the dependency stage never gets its files.
    assert not re.search(r"\[deps \d/\d\] (COPY|RUN)", log), log[-3000:]
    assert took < 180, f"{took:.0f} s"


@pytest.mark.docker
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_build_with_a_stale_lock_stops_before_installing_saying_to_lock(
    locked_project: Callable[..., Path], tmp_path: Path, docker_engine: str, strategy: str
) -> None:
    """A dependency added to pyproject.toml without `poetry lock`: Poetry's check stops
    the dependency stage before it installs anything, saying what to run."""
    project = tmp_path / "project"
    shutil.copytree(locked_project(docker_strategy=strategy), project)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert "dependencies = []" in text
    pyproject.write_text(text.replace("dependencies = []", 'dependencies = ["six>=1.16"]'))
    log = failed_build(project, f"stale-lock-{strategy}")
    assert [step.split()[0] for step in failed_steps(log)] == ["[deps"], log[-3000:]
    assert "poetry.lock does not match pyproject.toml: run `poetry lock`" in log, log[-3000:]
    # Nothing was installed: neither uv nor Poetry got as far as resolving.
    assert not re.search(r"Resolved \d+ package|Installing dependencies", log), log[-3000:]
