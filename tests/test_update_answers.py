"""Changing an answer on `copier update`: the Docker strategy and the Python version
move every file that depends on them and keep the team's edits; a bad answer is
refused before anything is written.

Each test makes a template repository of its own, as in tests/test_update.py.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.git import git, git_save, template_repo
from tests.support.shell import run
from tests.support.template import answers_of, copy_project, read_toml
from tests.support.updates import (
    assert_strategy,
    change_template,
    edit,
    files,
    leftovers,
    make_user_edits,
    render,
    status,
    update,
)

# ── Changing an answer on update: the Docker strategy ───────────────────────


def test_switching_strategy_rewrites_the_dockerfile_and_keeps_user_edits(
    tmp_path: Path,
) -> None:
    """export -> wheel -> environment -> export, each with `--data docker_strategy=...`.

    The user's Dockerfile edit is in the runtime stage, which all strategies share.
    """
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project")
    assert_strategy(project, "export")
    ours = make_user_edits(project, dockerfile_top=False)

    for strategy in ["wheel", "environment", "export"]:
        update(project, data={"docker_strategy": strategy})
        assert leftovers(project) == [], strategy
        assert_strategy(project, strategy)
        dockerfile = (project / "Dockerfile").read_text()
        assert 'AS runtime\nLABEL org.opencontainers.image.vendor="Acme"\n' in dockerfile
        # The README as a fresh copy of this strategy has it, plus the user's line.
        fresh = render(template, tmp_path / f"fresh-{strategy}", docker_strategy=strategy)
        edit(fresh / "README.md", r"\A(# .*\n\n.*\n)", r"\1\nOwned by the widget team.\n")
        assert (project / "README.md").read_text() == (fresh / "README.md").read_text()
        assert read_toml(project / "pyproject.toml")["project"]["dependencies"] == ["idna>=3.7"]
        git_save(project, f"Switch to {strategy}")

    # Back where it started: every file the user edited is exactly as they committed it.
    after = files(project)
    assert {name: after[name] for name in ours} == ours


def test_switching_strategy_surfaces_an_edit_of_strategy_specific_lines(
    tmp_path: Path,
) -> None:
    """A line added against the strategy's own header comes back as a conflict, kept."""
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project")
    make_user_edits(project)

    update(project, data={"docker_strategy": "wheel"})

    assert answers_of(project)["docker_strategy"] == "wheel"
    assert git(project, "diff", "--name-only", "--diff-filter=U") == "Dockerfile\n"
    block = re.search(
        r"^<<<<<<< before updating\n(.*?)^=======\n(.*?)^>>>>>>> after updating\n",
        (project / "Dockerfile").read_text(),
        re.MULTILINE | re.DOTALL,
    )
    assert block
    assert block[1].startswith("# Widget team: rebuilt nightly.\n# Export strategy ")
    assert block[2].startswith("# Wheel strategy")
    assert leftovers(project) == ["Dockerfile"], "the only conflict"


def test_changing_python_version_on_update_changes_every_file_that_names_it(
    tmp_path: Path,
) -> None:
    """`--data python_version=3.11`: the same files as a fresh 3.11 copy, user edits kept.

    pyproject.toml, the Dockerfile's base image and the CI workflow move together
    (the generated dependabot.yml sends users here to change the Python version).
    """
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project", python_version="3.13")
    ours = make_user_edits(project)

    update(project, data={"python_version": "3.11"})

    assert leftovers(project) == []
    fresh = files(render(template, tmp_path / "fresh", python_version="3.11"))
    after = files(project)
    assert set(after) == set(fresh) | set(ours)
    unedited = {name for name in fresh if name not in ours}
    assert {name: after[name] for name in unedited} == {name: fresh[name] for name in unedited}
    pyproject = read_toml(project / "pyproject.toml")
    assert pyproject["project"]["requires-python"] == ">=3.11,<4"
    assert pyproject["project"]["dependencies"] == ["idna>=3.7"]
    assert "ARG PYTHON_IMAGE=python:3.11-slim\n" in after["Dockerfile"]
    assert 'LABEL org.opencontainers.image.vendor="Acme"' in after["Dockerfile"]


@pytest.mark.parametrize(
    ("data", "tag"),
    [({"python_version": "3.12"}, "3.12-slim"), ({"docker_strategy": "wheel"}, "3.13-slim@")],
    ids=["python_version", "another-answer"],
)
def test_a_pinned_base_image_follows_the_python_version(
    tmp_path: Path, data: dict[str, str], tag: str
) -> None:
    """Renovate's pin (python_image_tag) belongs to one Python version. Its validator
    refuses it for another, so on `--data python_version=...` Copier drops the recorded
    pin and takes the default tag of the new version (Renovate pins it again); any
    other answer keeps the pin."""
    template = template_repo(tmp_path / "template")
    pinned = "3.13-slim@sha256:" + "0123abcd" * 8
    project = render(template, tmp_path / "project", update_bot="renovate",
                     python_image_tag=pinned)  # fmt: skip
    assert f"ARG PYTHON_IMAGE=python:{pinned}\n" in (project / "Dockerfile").read_text()

    update(project, data=data)

    recorded = answers_of(project)["python_image_tag"]
    assert recorded == (pinned if tag.endswith("@") else tag)
    assert f"ARG PYTHON_IMAGE=python:{recorded}\n" in (project / "Dockerfile").read_text()
    assert leftovers(project) == []


@pytest.mark.docker
@pytest.mark.slow
def test_switched_strategy_image_builds_and_runs(
    tmp_path: Path,
    locked_project: Callable[..., Path],
    build_image: Callable[..., Any],
) -> None:
    """Each Dockerfile a switch leaves behind builds, and its image says hello."""
    template = template_repo(tmp_path / "template")
    project = tmp_path / "project"
    copy_project(project, template=template, vcs_ref=None)
    # The lock the template's task wrote for the same answers (locked once a session).
    locked = locked_project()
    assert (project / "pyproject.toml").read_text() == (locked / "pyproject.toml").read_text()
    shutil.copy2(locked / "poetry.lock", project / "poetry.lock")
    run("git", "init", "--quiet", cwd=project)
    git_save(project, "Generated and locked")

    for strategy in ["wheel", "export", "environment"]:
        update(project, data={"docker_strategy": strategy})
        assert_strategy(project, strategy)
        assert (project / "poetry.lock").read_text() == (locked / "poetry.lock").read_text()
        git_save(project, f"Switch to {strategy}")
        image = build_image(project, f"switch-{strategy}")
        assert image.run().stdout == "Hello, World!\n"


# ── Bad answers on update ───────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"package_name": "class"}, r"'package_name'.*'class' is a Python keyword"),
        ({"docker_strategy": "bogus"}, r"Invalid choice for 'docker_strategy': 'bogus'"),
        ({"python_version": "3.10"}, r"Invalid choice for 'python_version': '3.10'"),
        ({"author_email": "platform"}, r"'author_email'.*not an e-mail address"),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else ""
    ),
)
def test_bad_data_on_update_is_refused_and_the_project_untouched(
    tmp_path: Path, data: dict[str, str], message: str
) -> None:
    """Copier validates `--data` before it writes: nothing to undo, nothing to commit."""
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project")
    make_user_edits(project)
    change_template(template)
    before = files(project)

    with pytest.raises(ValueError, match=message):
        update(project, data=data)

    assert status(project) == ""
    assert files(project) == before
    assert answers_of(project)["_commit"] == "v1.0.0"
