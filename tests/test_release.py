"""scripts/release: a template version is a tag, made only from a reviewed release commit.

Each test copies the script into a git repository of its own with a CHANGELOG.md
(this repository's tags are never touched) and runs it. The test-suite, which the
script runs before tagging, is replaced through RELEASE_TEST_COMMAND, or by a
stand-in scripts/test that records how it was called.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.git import git, git_save
from tests.support.template import ROOT

CHANGELOG = """# Changelog

## [Unreleased]

### Added

- Something new.

## [0.1.0] - 2026-11-24

### Added

- The first release.
"""
RELEASED = CHANGELOG.replace("## [Unreleased]", "## [0.2.0] - 2026-12-01")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """0.1.0 tagged, then the release commit of 0.2.0 (its CHANGELOG heading) at HEAD."""
    repo = tmp_path / "template"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "release", repo / "scripts" / "release")
    first, _, _ = CHANGELOG.partition("## [Unreleased]")
    (repo / "CHANGELOG.md").write_text(first + CHANGELOG.partition("- Something new.\n\n")[2])
    git(repo, "init", "--quiet")
    git_save(repo, "Release 0.1.0", tag="v0.1.0")
    (repo / "CHANGELOG.md").write_text(CHANGELOG)
    git_save(repo, "Something new")
    (repo / "CHANGELOG.md").write_text(RELEASED)
    git_save(repo, "Release 0.2.0")
    return repo


def release(
    repo: Path, version: str, test_command: str | None = "touch ../tests-ran"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RELEASE_TEST_COMMAND"}
    if test_command is not None:
        env["RELEASE_TEST_COMMAND"] = test_command
    return subprocess.run(
        [repo / "scripts" / "release", version],
        cwd=repo, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def tags(repo: Path) -> list[str]:
    return git(repo, "tag", "--list").split()


def test_tags_the_release_commit_after_the_tests(repo: Path) -> None:
    result = release(repo, "0.2.0")

    assert result.returncode == 0, result.stderr
    assert (repo.parent / "tests-ran").exists()
    assert tags(repo) == ["v0.1.0", "v0.2.0"]
    assert git(repo, "rev-parse", "v0.2.0^{commit}") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "cat-file", "-t", "v0.2.0") == "tag\n", "annotated"
    assert git(repo, "tag", "--list", "--format=%(contents:subject)", "v0.2.0") == (
        "Release 0.2.0\n"
    )
    assert "git push origin v0.2.0" in result.stderr


def test_runs_the_whole_suite_with_ci_set_by_default(repo: Path) -> None:
    """Without RELEASE_TEST_COMMAND: scripts/test, with CI=true (no tier may skip)."""
    record = repo.parent / "ci-was"
    (repo / "scripts" / "test").write_text(f'#!/bin/sh\necho "$CI" > {record}\n')
    (repo / "scripts" / "test").chmod(0o755)
    git_save(repo, "A stand-in scripts/test")
    (repo / "CHANGELOG.md").write_text(RELEASED.replace("0.2.0", "0.3.0"))
    git_save(repo, "Release 0.3.0")

    result = release(repo, "0.3.0", test_command=None)

    assert result.returncode == 0, result.stderr
    assert record.read_text() == "true\n"
    assert "v0.3.0" in tags(repo)


def refuse(repo: Path, version: str, message: str, **kwargs: str) -> None:
    """The script stops with this message before the tests, and tags nothing."""
    before = tags(repo)
    result = release(repo, version, **kwargs)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert tags(repo) == before
    assert not (repo.parent / "tests-ran").exists()


@pytest.mark.parametrize("version", ["0.2", "v0.2.0", "0.2.0-rc1", "00.2.0"])
def test_refuses_a_version_that_is_not_x_y_z(repo: Path, version: str) -> None:
    refuse(repo, version, f"'{version}' is not a version X.Y.Z")


@pytest.mark.parametrize("change", ["modified", "staged", "untracked"])
def test_refuses_a_dirty_tree(repo: Path, change: str) -> None:
    path = repo / ("CHANGELOG.md" if change != "untracked" else "notes.txt")
    path.write_text(path.read_text() + "\nmore\n" if path.exists() else "notes\n")
    if change == "staged":
        git(repo, "add", "CHANGELOG.md")
    refuse(repo, "0.2.0", "the working tree is not clean")


def test_refuses_an_existing_tag(repo: Path) -> None:
    refuse(repo, "0.1.0", "the tag v0.1.0 exists already")


def test_refuses_a_version_below_the_newest_tag(repo: Path) -> None:
    git(repo, "tag", "v0.10.0", "HEAD~1")
    refuse(repo, "0.2.0", "v0.2.0 is not higher than the newest release, v0.10.0")


def test_refuses_without_a_changelog_entry(repo: Path) -> None:
    refuse(repo, "0.3.0", "newest release heading is '## [0.2.0] - 2026-12-01', not")


def test_refuses_a_heading_without_a_date(repo: Path) -> None:
    (repo / "CHANGELOG.md").write_text(CHANGELOG.replace("## [Unreleased]", "## [0.2.0]"))
    git_save(repo, "Release 0.2.0, undated")
    refuse(repo, "0.2.0", "newest release heading is '## [0.2.0]', not")


def test_refuses_when_the_release_commit_is_not_head(repo: Path) -> None:
    """The tag goes on the commit that added the heading, and that must be HEAD."""
    (repo / "README.md").write_text("A change after the release commit.\n")
    git_save(repo, "After the release")
    refuse(repo, "0.2.0", "is not HEAD")


@pytest.mark.parametrize(
    ("command", "message"),
    [("false", "the tests failed"), ("touch left-behind", "left the working tree changed")],
)
def test_tags_nothing_when_the_tests_fail_or_dirty_the_tree(
    repo: Path, command: str, message: str
) -> None:
    result = release(repo, "0.2.0", test_command=command)
    assert result.returncode != 0
    assert f"{message}: nothing tagged" in result.stderr
    assert tags(repo) == ["v0.1.0"]
