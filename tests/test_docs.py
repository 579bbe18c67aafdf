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
import unicodedata
from pathlib import Path

import pytest

from tests.support.shell import run

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DECISIONS = DOCS / "decisions"
RECORDS = sorted(DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
HEADINGS = ["## Context", "## Decision", "## Consequences"]
README = ROOT / "README.md"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
# The README is the overview; the detail lives in docs/ (issue 25).
README_BUDGET = 250


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


def test_readme_copy_commands_are_the_ones_the_tests_run() -> None:
    """tests/test_quick_start.py runs docs/getting-started.md's `copier copy` commands
    (tests/test_adoption.py runs docs/adopting.md's): the README's quick start shows
    exactly one of those, not a copy drifting apart."""
    readme = (ROOT / "README.md").read_text()
    commands = [b for b in console_blocks(readme) if "copier copy" in b]
    assert commands, "the README's quick start shows `copier copy`"
    for command in commands:
        assert command in console_blocks((DOCS / "getting-started.md").read_text()), command


# ── The README points into docs/, and every link lands ───────────────────────

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def test_readme_stays_an_overview() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= README_BUDGET, f"README.md: {len(lines)} lines; move detail to docs/"


def slug(heading: str) -> str:
    """The id MkDocs gives a heading (Python-Markdown's toc slugify, on the heading's
    text without its Markdown)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").replace("*", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def prose(page: Path) -> str:
    """A page without its code blocks and code spans, where nothing is a link."""
    return CODE_SPAN.sub("", FENCE.sub("", page.read_text()))


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {slug(h) for h in re.findall(r"^#{1,6} (.+?)\s*$", text, re.MULTILINE)}


def broken_links(page: Path) -> list[str]:
    """Relative links of a page whose file, or whose heading after `#`, does not exist."""
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        ):
            broken.append(target)
    return broken


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_relative_links_land(page: Path) -> None:
    """Every relative link of the README and of docs/ names a file that exists, and a
    heading that exists when it has an anchor. MkDocs checks the pages' own links too;
    that both agree on docs/ is the check that `slug` is MkDocs' id."""
    assert broken_links(page) == []


def test_readme_links_into_every_page() -> None:
    """The README's reading list reaches every page of the site's nav."""
    linked = {target.partition("#")[0] for target in LINK.findall(prose(README))}
    pages = {f"docs/{p.relative_to(DOCS).as_posix()}" for p in DOCS.glob("*.md")}
    assert pages - linked == set()


def test_broken_links_are_found(tmp_path: Path) -> None:
    """The control: a missing file and a missing heading are reported; a good link, a
    web address and a link shown as code are not."""
    (tmp_path / "other.md").write_text("# Other\n\n## A `code` heading, too\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#a-code-heading-too) [self](#page) [web](https://example.com)\n"
        "[gone](missing.md#top) [no heading](other.md#nope) `[shown](shown.md)`\n"
        "```\n[fenced](fenced.md)\n```\n"
    )
    assert broken_links(page) == ["missing.md#top", "other.md#nope"]
