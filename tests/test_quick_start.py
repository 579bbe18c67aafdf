"""The quick start: the lock task, the next-steps message, the README's examples, the
generated README's first commands, and a build without a lock.

The task is run as Copier runs a list command: without a shell, so it works the same
where the shell is cmd.exe. The message must fit what happened (tasks skipped or
not), keep its steps in an order that works either way, and quote the destination.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import copier
import jinja2
import plumbum
import pytest
import yaml

from tests.support.matrix import STRATEGIES
from tests.support.shell import package_index_url, path_without_poetry, run
from tests.support.template import ANSWERS, ROOT, answers_of, copy_project

COPIER_YML = yaml.safe_load((ROOT / "copier.yml").read_text())
SAY = "poetry-docker-template: "


def task_command(project: Path) -> list[str]:
    """copier.yml's task, rendered as Copier renders a list command."""
    (task,) = COPIER_YML["_tasks"]
    context = {
        "_copier_python": sys.executable,
        "_copier_conf": {"src_path": ROOT},
        **answers_of(project),
    }
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return [env.from_string(part).render(context) for part in task["command"]]


def run_task(project: Path, path: str) -> subprocess.CompletedProcess[str]:
    """The task's command with no shell involved, as Copier runs a list."""
    env = {**os.environ, "PATH": path}
    return subprocess.run(
        task_command(project), cwd=project, env=env, capture_output=True, text=True, check=False
    )


def fake_poetry(folder: Path, output: str) -> str:
    """A `poetry` that prints `output` and fails; returns a PATH that finds it first."""
    folder.mkdir()
    script = folder / "poetry"
    script.write_text(f"#!{sys.executable}\nimport sys\nprint({output!r})\nsys.exit(1)\n")
    script.chmod(0o755)
    return f"{folder}{os.pathsep}{path_without_poetry()}"


def test_the_task_is_a_list_run_by_copiers_python_from_outside_the_template() -> None:
    (task,) = COPIER_YML["_tasks"]
    command = task["command"]
    assert isinstance(command, list), "a string would go to the system shell"
    assert command[0] == "{{ _copier_python }}"
    script = Path(command[1].replace("{{ _copier_conf.src_path }}", str(ROOT)))
    assert script.is_file()
    assert ROOT / "template" not in script.parents, "the task's script is not part of a project"
    assert task["when"] == "{{ _copier_operation == 'copy' }}"


def test_task_without_poetry_says_so_in_one_line(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    done = run_task(project, path_without_poetry())
    assert done.returncode == 0, "a failed task would make Copier delete the project"
    assert done.stdout == ""
    assert done.stderr == f"{SAY}no poetry.lock yet: Poetry is not on PATH\n"
    assert not (project / "poetry.lock").exists()


def test_task_names_the_missing_python_and_hides_poetrys_noise(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", python_version="3.12")
    path = fake_poetry(
        tmp_path / "bin",
        "The currently activated Python version 3.11.2 is not supported by the project.\n"
        "Poetry was unable to find a compatible version. If you have one, you can ...",
    )
    done = run_task(project, path)
    assert done.returncode == 0
    assert done.stdout + done.stderr == f"{SAY}no poetry.lock yet: Poetry found no Python 3.12\n"


def test_task_shows_poetrys_output_when_it_fails_otherwise(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    path = fake_poetry(tmp_path / "bin", "Because acme depends on nothing-such, solving failed.")
    done = run_task(project, path)
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "Because acme depends on nothing-such, solving failed.",
        f"{SAY}no poetry.lock yet: 'poetry lock' failed (see above)",
    ]


@pytest.mark.slow
def test_task_names_the_missing_python_with_the_real_poetry(tmp_path: Path) -> None:
    """The same, with the Poetry the project uses: its wording is what the task looks for."""
    if shutil.which("python3.14"):
        pytest.skip("Python 3.14 is installed here: Poetry would find it")
    project = copy_project(tmp_path / "p", python_version="3.14")
    done = run_task(project, os.environ["PATH"])
    assert done.returncode == 0
    assert done.stdout + done.stderr == f"{SAY}no poetry.lock yet: Poetry found no Python 3.14\n"


@pytest.mark.slow
def test_task_locks_quietly(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    done = run_task(project, os.environ["PATH"])
    assert done.returncode == 0
    assert (done.stdout, done.stderr) == ("", f"{SAY}poetry.lock written\n")
    run("poetry", "check", "--lock", cwd=project)


# ── The message after the copy ──────────────────────────────────────────────


def copy_and_read_message(
    dst: Path, capfd: pytest.CaptureFixture[str], *, skip_tasks: bool
) -> list[str]:
    """Copy as a user would (not quiet) with no Poetry on PATH; what Copier printed last."""
    with plumbum.local.env(PATH=path_without_poetry()):
        copier.run_copy(
            str(ROOT),
            dst,
            data=ANSWERS,
            defaults=True,
            unsafe=True,
            vcs_ref="HEAD",
            skip_tasks=skip_tasks,
        )
    printed = capfd.readouterr().err
    start = printed.index(f"{ANSWERS['project_name']} is ready")
    return printed[start:].rstrip().splitlines()


def commands_of(message: list[str]) -> list[str]:
    return [line.strip() for line in message[1:]]


def test_message_after_skipped_tasks_says_to_lock_and_quotes_the_destination(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    dst = tmp_path / "my proj;touch x"
    message = copy_and_read_message(dst, capfd, skip_tasks=True)
    assert message[0] == (
        "Acme Widget Service is ready (no poetry.lock: tasks skipped). Next steps:"
    )
    assert commands_of(message) == [
        f"cd {shlex.quote(str(dst))}",
        "poetry lock",
        "poetry install && poetry run hello",
        'git init && git add -A && git commit -m "Start from poetry-docker-template"',
        "docker build -t acme-widget-service .",
        "docker run --rm acme-widget-service",
    ]
    # The cd line, run by a shell, goes there and runs nothing else.
    went = run("sh", "-c", f"{commands_of(message)[0]} && pwd", cwd=tmp_path)
    assert went.stdout.strip() == str(dst)
    assert not (tmp_path / "x").exists()
    assert all(len(line) <= 80 for line in message if "cd " not in line), message


def test_message_after_the_task_puts_install_first(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Whether or not the task could lock, `poetry install` writes a missing lock
    before the first commit and before `docker build`, which needs it."""
    dst = tmp_path / "p"
    message = copy_and_read_message(dst, capfd, skip_tasks=False)
    assert message[0] == "Acme Widget Service is ready. Next steps:"
    commands = commands_of(message)
    assert commands[0] == f"cd {shlex.quote(str(dst))}"
    assert "poetry lock" not in commands
    assert [c.split()[0:2] for c in commands[1:]] == [
        ["poetry", "install"],
        ["git", "init"],
        ["docker", "build"],
        ["docker", "run"],
    ]
    assert not (dst / "poetry.lock").exists(), "no Poetry on PATH: the task could not lock"


# ── The README's examples and the generated README ──────────────────────────


def quick_start_blocks(language: str) -> list[str]:
    """The code blocks of a language in the README's quick start."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quick start\n")[1].split("\n## ")[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def readme_copy(command: str, cwd: Path) -> Path:
    """Run one of the README's `copier copy` commands on this working tree."""
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:2] == ["copier", "copy"]
    words[words.index("<template-url-or-path>")] = str(ROOT)
    argv = [sys.executable, "-m", "copier", "copy", "--vcs-ref", "HEAD", *words[2:]]
    run(*argv, cwd=cwd, env={**os.environ, "PATH": path_without_poetry()})
    return cwd / words[-1]


def test_readme_copies_without_questions(tmp_path: Path) -> None:
    (command,) = [b for b in quick_start_blocks("console") if "docker_strategy=wheel" in b]
    answers = answers_of(readme_copy(command, tmp_path))
    assert (answers["project_name"], answers["docker_strategy"]) == ("Acme Billing", "wheel")
    assert answers["python_version"] == "3.12"


def test_readme_copies_with_organisation_defaults(tmp_path: Path) -> None:
    (defaults,) = quick_start_blocks("yaml")
    name = defaults.splitlines()[0].removeprefix("# ")
    (tmp_path / name).write_text(defaults)
    (command,) = [b for b in quick_start_blocks("console") if "--data-file" in b]
    answers = answers_of(readme_copy(command, tmp_path))
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
