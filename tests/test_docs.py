"""The documentation site (mkdocs.yml, docs/): it builds without a single warning, and
each decision record says its context, its decision and their consequences.

`mkdocs build --strict` turns every warning into a failure; mkdocs.yml's `validation`
makes a warning of a link to a missing page or heading and of a page left out of the
nav. The negative tests plant each of those in a copy of the site and see the build fail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.shell import run

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DECISIONS = DOCS / "decisions"
RECORDS = sorted(DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
HEADINGS = ["## Context", "## Decision", "## Consequences"]


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of a config file, into `site`."""
    return run(sys.executable, "-m", "mkdocs", "build", "--strict",
               "--config-file", config, "--site-dir", site, cwd=config.parent,
               check=False)  # fmt: skip


def test_site_builds_strictly(tmp_path: Path) -> None:
    result = build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (tmp_path / "site" / "decisions" / "index.html").exists()


@pytest.mark.parametrize(
    ("page", "text", "complaint"),
    [
        ("index.md", "[gone](no-such-page.md)", "no-such-page.md"),
        ("index.md", "[gone](questions.md#no-such-heading)", "no-such-heading"),
        ("orphan.md", "# Not in the nav\n", "orphan.md"),
    ],
    ids=["broken-link", "broken-anchor", "page-outside-nav"],
)
def test_strict_build_refuses(tmp_path: Path, page: str, text: str, complaint: str) -> None:
    """The control: the same site with one defect planted fails, naming the defect."""
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(DOCS, tmp_path / "docs")
    target = tmp_path / "docs" / page
    target.write_text((target.read_text() if target.exists() else "") + f"\n{text}\n")
    result = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0, result.stderr
    assert complaint in result.stderr, result.stderr


def test_records_are_numbered_one_after_another() -> None:
    numbers = [int(record.name[:4]) for record in RECORDS]
    assert numbers == list(range(1, len(RECORDS) + 1)), [r.name for r in RECORDS]
    assert len(RECORDS) >= 15


@pytest.mark.parametrize("record", RECORDS, ids=[record.stem for record in RECORDS])
def test_record_has_context_decision_and_consequences(record: Path) -> None:
    lines = record.read_text().splitlines()
    assert re.fullmatch(rf"# {int(record.name[:4])}\. \S.*", lines[0]), lines[0]
    assert [line for line in lines if line.startswith("## ")] == HEADINGS
    # Each section says something: no heading directly followed by the next one.
    sections = record.read_text().split("\n## ")[1:]
    assert all(section.split("\n", 1)[1].strip() for section in sections), record.name
    assert 10 <= len(lines) <= 30, f"{record.name}: {len(lines)} lines; a record is short"


def test_index_lists_every_record() -> None:
    index = (DECISIONS / "index.md").read_text()
    linked = set(re.findall(r"\]\((\d{4}-[a-z0-9-]+\.md)\)", index))
    assert linked == {record.name for record in RECORDS}


def console_blocks(text: str) -> list[str]:
    return re.findall(r"```console\n(.*?)```", text, re.DOTALL)


@pytest.mark.parametrize("page", ["getting-started.md"])
def test_copy_commands_are_the_ones_the_tests_run(page: str) -> None:
    """tests/test_quick_start.py runs the README's `copier copy` commands: the docs show
    exactly those, not a copy drifting apart (tests/test_adoption.py runs the docs')."""
    readme = (ROOT / "README.md").read_text()
    commands = [b for b in console_blocks((DOCS / page).read_text()) if "copier copy" in b]
    assert commands
    for command in commands:
        assert command in console_blocks(readme), command
