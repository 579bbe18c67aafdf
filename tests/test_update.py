"""`copier update` never loses work: v1 -> v2 with the team's edits, real conflicts
surfaced, the previous release updated to this working tree, recopy, the README's command.

Like Copier's own tests, each test builds a template repository of its own under
tmp_path from this checkout's template files (tests/support/git.py), commits and tags
it, renders a project from it (a git repository too), commits the user's edits,
changes the template, tags again and updates. Nothing depends on this repository's
own tags, which a CI clone may lack. Changing an answer on update is
tests/test_update_answers.py's.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from copier.errors import UnsafeTemplateError

from tests.support.ci import run_ci_entry_point
from tests.support.git import (
    TEMPLATE_PATHS,
    git,
    git_save,
    template_from_commit,
    template_from_working_tree,
    template_repo,
)
from tests.support.matrix import STRATEGIES
from tests.support.shell import run
from tests.support.template import ANSWERS, ROOT, answers_of, read_toml, sample_file
from tests.support.updates import (
    CONFLICT_MARKER,
    assert_strategy,
    change_template,
    conflicting_uv_pins,
    edit,
    files,
    leftovers,
    make_user_edits,
    project_of_a_release_with_tasks,
    rename_question,
    render,
    status,
    update,
)

SEMVER = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"


# ── v1 -> v2 with the user's edits ───────────────────────────────────────────


def test_copy_records_the_template_version(tmp_path: Path) -> None:
    """The answers file says where the project came from, for `copier update` to go on."""
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project")
    answers = answers_of(project)
    assert answers["_commit"] == "v1.0.0"
    assert answers["_src_path"] == str(template)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_update_brings_the_template_change_and_keeps_every_user_edit(
    tmp_path: Path, strategy: str
) -> None:
    """Code, README, a dependency and Dockerfile lines of the user's, next to v2's changes."""
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project", vcs_ref="v1.0.0", docker_strategy=strategy)
    ours = make_user_edits(project)
    change_template(template)

    update(project)

    assert answers_of(project)["_commit"] == "v2.0.0"
    assert leftovers(project) == [], "no conflict here, so no markers and no .rej"
    after = files(project)
    # Files only the user changed: exactly as committed.
    package = f"src/{answers_of(project)['package_name']}"
    for name in (f"{package}/__init__.py", f"{package}/widgets.py"):
        assert after[name] == ours[name]
    # Files both changed: the user's lines and the template's, each where it was.
    assert after["README.md"].startswith(ours["README.md"])
    assert after["README.md"].endswith(
        "## Support\n\nQuestions about Acme Widget Service go to test-team@example.com.\n"
    )
    pyproject = read_toml(project / "pyproject.toml")
    assert pyproject["project"]["dependencies"] == ["idna>=3.7"]
    assert pyproject["tool"]["ruff"]["format"] == {"docstring-code-format": True}
    dockerfile = after["Dockerfile"]
    assert dockerfile.startswith("# Widget team: rebuilt nightly.\n")
    assert 'AS runtime\nLABEL org.opencontainers.image.vendor="Acme"\n' in dockerfile
    assert dockerfile.endswith('\nLABEL org.opencontainers.image.title="acme-widget-service"\n')
    assert_strategy(project, strategy)
    # A file new in v2 arrives.
    assert after["CONTRIBUTING.md"] == "# Contributing to Acme Widget Service\n"
    # Nothing but the update is left to review and commit.
    changed = {line[3:] for line in status(project).splitlines()}
    assert changed == {
        ".copier-answers.yml",
        "CONTRIBUTING.md",
        "Dockerfile",
        "README.md",
        "pyproject.toml",
    }


@pytest.mark.parametrize("conflict", ["inline", "rej"])
def test_a_real_conflict_is_surfaced_and_nothing_is_lost(tmp_path: Path, conflict: str) -> None:
    """User and template bump the same pin on the same line: the user must decide."""
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project")
    conflicting_uv_pins(project, template, ours="0.13.99", theirs="0.42.0")

    update(project, conflict=conflict)

    assert answers_of(project)["_commit"] == "v2.0.0"
    dockerfile = (project / "Dockerfile").read_text()
    if conflict == "inline":
        block = re.search(
            r"^<<<<<<< before updating\n(.*?)^=======\n(.*?)^>>>>>>> after updating\n",
            dockerfile,
            re.MULTILINE | re.DOTALL,
        )
        assert block, dockerfile
        assert "uv==0.13.99" in block[1], "ours, above"
        assert "uv==0.42.0" in block[2], "the template's, below"
        # Git knows: `git commit` refuses until the user resolves it.
        assert git(project, "diff", "--name-only", "--diff-filter=U") == "Dockerfile\n"
        assert not list(project.rglob("*.rej"))
    else:
        assert "uv==0.42.0" in dockerfile
        rejected = (project / "Dockerfile.rej").read_text()
        assert re.search(r"^\+.*uv==0\.13\.99", rejected, re.MULTILINE), rejected
        assert not CONFLICT_MARKER.search(dockerfile)


# ── From the previous release to this working tree ─────────────────────────


def as_updated(fresh: dict[str, str], before: dict[str, str]) -> dict[str, str]:
    """What an update should leave: a fresh copy's files, but the project's own code
    (`src/`, `tests/`: copier.yml's `_skip_if_exists`) as it was before the update."""

    def owned(name: str) -> bool:
        return name.startswith(("src/", "tests/"))

    return {
        **{name: text for name, text in fresh.items() if not owned(name)},
        **{name: text for name, text in before.items() if owned(name)},
    }


def changelog_versions() -> list[str]:
    """Released versions in CHANGELOG.md, newest first."""
    text = (ROOT / "CHANGELOG.md").read_text()
    heading = re.compile(rf"^## \[(?P<version>{SEMVER})\] - \d{{4}}-\d{{2}}-\d{{2}}$", re.MULTILINE)
    return [match["version"] for match in heading.finditer(text)]


def commit_of(revision: str) -> str | None:
    found = run(
        "git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", cwd=ROOT, check=False
    )
    return found.stdout.strip() if found.returncode == 0 else None


def is_shallow() -> bool:
    return git(ROOT, "rev-parse", "--is-shallow-repository").strip() == "true"


def release_revision(version: str) -> str | None:
    """The revision of a release in this clone: its tag `v<version>` when the clone has
    it, else the commit that last added its heading to CHANGELOG.md (the commit the
    release routine tags, scripts/release). A shallow clone's oldest commit seems to add
    every heading, so there only a tag counts."""
    if commit_of(f"v{version}"):
        return f"v{version}"
    if is_shallow():
        return None
    # The newest commit that added the heading: a heading renamed and added back
    # (Unreleased -> X.Y.Z on release day) counts from its last addition.
    added = git(ROOT, "log", "--format=%H", "-S", f"## [{version}]", "--", "CHANGELOG.md")
    return added.split()[0] if added.split() else None


def previous_release() -> str:
    """A revision of this repository holding the newest release before HEAD.

    Releases are the versions in CHANGELOG.md, newest first; a release that is HEAD
    itself gives way to the one before. None found fails the test: updating HEAD to
    the working tree would update nothing and pass, as it did in a shallow CI clone.
    """
    head = commit_of("HEAD")
    versions = changelog_versions()
    for version in versions:
        revision = release_revision(version)
        if revision and commit_of(revision) != head:
            return revision
    pytest.fail(
        f"no release before HEAD in this clone (CHANGELOG.md lists {versions or 'none'}; "
        f"tags: {git(ROOT, 'tag', '--list').split() or 'none'}; shallow: {is_shallow()}): "
        "fetch the history and tags (`git fetch --unshallow --tags`, as .ci/run does)"
    )


def has_tasks(template: Path, tag: str) -> bool:
    """Whether the template's copier.yml at a tag has `_tasks`, as releases before the
    removal of the lock task had: Copier then refuses to update from that tag without
    `--trust` (it checks the version a project comes from, though no task runs)."""
    return "_tasks" in yaml.safe_load(git(template, "show", f"{tag}:copier.yml"))


@pytest.fixture(scope="module")
def release_templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template repository: the previous release tagged v1.0.0, this working tree v2.0.0."""
    repo = tmp_path_factory.mktemp("releases") / "template"
    repo.mkdir()
    revision = previous_release()
    template_from_commit(revision, repo)
    run("git", "init", "--quiet", cwd=repo)
    git_save(repo, f"Previous release: {revision} of poetry-docker-template", tag="v1.0.0")
    git(repo, "rm", "-r", "--quiet", "--ignore-unmatch", "--", *TEMPLATE_PATHS)
    template_from_working_tree(repo)
    git_save(repo, "This working tree", tag="v2.0.0")
    return repo


def test_this_clone_has_a_release_before_head() -> None:
    """The update tests below need one; without it they would update nothing."""
    revision = previous_release()
    assert commit_of(revision) != commit_of("HEAD")
    assert git(ROOT, "merge-base", "--is-ancestor", revision, "HEAD") == ""


def released_origin(origin: Path) -> Path:
    """A repository CI clones: v1.0.0 tagged, one commit after it."""
    origin.mkdir()
    run("git", "init", "--quiet", cwd=origin)
    git_save(origin, "Release 1.0.0", tag="v1.0.0")
    git_save(origin, "After the release")
    return origin


# What the stand-in scripts/test sees of the clone .ci/run prepared.
CLONE_STATE = 'git rev-parse --is-shallow-repository; git tag --list | tr "\\n" " "; echo\n'


@pytest.mark.parametrize("clone", ["shallow", "without-tags", "complete", "no-remote"])
def test_ci_run_fetches_the_history_and_tags_the_update_tests_need(
    tmp_path: Path, clone: str
) -> None:
    """.ci/run unshallows a shallow clone and fetches the tags a clone lacks; a clone
    that has them, or one with no remote, runs the tests all the same."""
    origin = released_origin(tmp_path / "origin")
    repo = tmp_path / "repo"
    if clone == "no-remote":
        shutil.copytree(origin, repo)
    else:
        depth = ["--depth", "1"] if clone == "shallow" else []
        run("git", "clone", "--quiet", *depth, f"file://{origin}", repo)
    if clone == "without-tags":
        git(repo, "tag", "--delete", "v1.0.0")

    ran = run_ci_entry_point(repo, CLONE_STATE)

    assert ran.stdout == "false\nv1.0.0 \n", ran.stderr
    assert git(repo, "rev-list", "--count", "HEAD") == "2\n"
    assert ("no git remote" in ran.stderr) == (clone == "no-remote")


def test_ci_run_runs_the_tests_when_the_remote_is_gone(tmp_path: Path) -> None:
    """No fetch possible: a warning, and the tests run, which then say what is missing."""
    origin = released_origin(tmp_path / "origin")
    repo = tmp_path / "repo"
    run("git", "clone", "--quiet", "--depth", "1", f"file://{origin}", repo)
    shutil.rmtree(origin)

    ran = run_ci_entry_point(repo, CLONE_STATE)

    assert ran.stdout == "true\n\n"
    assert "could not fetch the history and tags from origin" in ran.stderr


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_update_from_the_previous_release_equals_a_fresh_copy(
    release_templates: Path, tmp_path: Path, strategy: str
) -> None:
    """Update v1 -> v2 with no user edits: the very files a fresh copy of v2 gets, but
    for the project's own code (`src/`, `tests/`: copier.yml's `_skip_if_exists`),
    which stays as v1 wrote it, however the sample changed since.

    v1 is a real earlier state of this template, the previous release taken from this
    repository's history by tag or by commit (see previous_release), so the test needs
    no tag in the clone and no hand-made "old" template that could drift from what
    users really have. v2 is the working tree. Nothing else is left out of the
    comparison: the answers file records the same `_commit` in both.
    """
    updated = render(
        release_templates, tmp_path / "updated", vcs_ref="v1.0.0", docker_strategy=strategy
    )
    assert answers_of(updated)["_commit"] == "v1.0.0"
    before = files(updated)
    update(updated, trust=has_tasks(release_templates, "v1.0.0"))
    fresh = render(
        release_templates, tmp_path / "fresh", vcs_ref="v2.0.0", docker_strategy=strategy
    )

    assert files(updated) == as_updated(files(fresh), before)
    assert answers_of(updated)["_commit"] == "v2.0.0"


def test_previous_release_answers_still_mean_the_same(
    release_templates: Path, tmp_path: Path
) -> None:
    """Every answer a previous release recorded names a question with that value allowed.

    Copier silently drops an answer whose question was renamed and keeps one whose
    choice was removed. If this fails, rename the question as
    test_a_renamed_question_keeps_the_answer_without_trust does (Copier's
    `_migrations` would need `--trust`), with a test for it here.
    """
    project = render(release_templates, tmp_path / "project", vcs_ref="v1.0.0")
    questions = {
        name: question
        for name, question in yaml.safe_load((ROOT / "copier.yml").read_text()).items()
        if not name.startswith("_")
    }
    recorded = {k: v for k, v in answers_of(project).items() if not k.startswith("_")}
    assert set(recorded) <= set(questions)
    for name, value in recorded.items():
        choices = questions[name].get("choices")
        if isinstance(choices, dict):
            choices = list(choices.values())
        if choices is not None:
            assert value in choices, (name, value)


@pytest.mark.docker
@pytest.mark.slow
def test_previous_release_updated_and_locked_builds_and_runs(
    release_templates: Path, tmp_path: Path, build_image: Callable[..., Any]
) -> None:
    """Locked after the copy, as a user does: the update leaves poetry.lock alone, and
    `poetry lock` (as the update message says) follows."""
    project = render(release_templates, tmp_path / "project", vcs_ref="v1.0.0", lock=True)
    before = files(project)
    locked_at_v1 = (project / "poetry.lock").read_text()
    update(project, trust=has_tasks(release_templates, "v1.0.0"))
    assert (project / "poetry.lock").read_text() == locked_at_v1, "an update never re-locks"
    run("poetry", "lock", cwd=project)
    fresh = render(release_templates, tmp_path / "fresh", vcs_ref="v2.0.0")

    assert {**files(project), "poetry.lock": ""} == {
        **as_updated(files(fresh), before),
        "poetry.lock": "",
    }
    run("poetry", "check", "--lock", cwd=project)
    git_save(project, "Updated")
    image = build_image(project, "previous-release")
    assert image.run().stdout == "Hello, World!\n"


# ── Without --trust: projects of earlier releases, breaking changes ──────────


def test_a_project_made_with_tasks_needs_trust_once_then_never(tmp_path: Path) -> None:
    """A release with `_tasks` was copied with `--trust`. Copier refuses to update it
    without `--trust`, even to a version without tasks, because it checks the version
    the project comes from; the refusal writes nothing. One update with `--trust`
    (the update workflow of such releases passes it), and every later one needs none.
    """
    template, project = project_of_a_release_with_tasks(tmp_path)
    assert (project / "task-ran").exists(), "the copy ran the task, as it did for users"

    with pytest.raises(UnsafeTemplateError, match="tasks"):
        update(project)
    assert status(project) == ""
    assert answers_of(project)["_commit"] == "v1.0.0"

    update(project, trust=True)
    assert answers_of(project)["_commit"] == "v2.0.0"
    assert "_tasks" not in yaml.safe_load((template / "copier.yml").read_text())
    git_save(project, "Update to v2")

    change_template(template, tag="v3.0.0")
    update(project)
    assert answers_of(project)["_commit"] == "v3.0.0"
    assert leftovers(project) == []
    assert (project / "CONTRIBUTING.md").is_file()


@pytest.mark.parametrize("keep_old_name", [True, False], ids=["renamed-well", "renamed-plainly"])
def test_a_renamed_question_keeps_the_answer_without_trust(
    tmp_path: Path, keep_old_name: bool
) -> None:
    """Copier's `_migrations` could rewrite the answers file, but need `--trust`."""
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project", coverage_threshold="75")
    rename_question(template, "coverage_threshold", "coverage_minimum",
                    keep_old_name=keep_old_name)  # fmt: skip
    git_save(template, "Rename coverage_threshold", tag="v2.0.0")

    update(project)

    answers = answers_of(project)
    assert answers["_commit"] == "v2.0.0"
    assert "coverage_threshold" not in answers
    fail_under = read_toml(project / "pyproject.toml")["tool"]["coverage"]["report"]["fail_under"]
    if keep_old_name:
        assert (answers["coverage_minimum"], fail_under) == ("75", 75)
    else:  # the control: the team's answer is lost, without a word
        assert (answers["coverage_minimum"], fail_under) == ("90", 90)
    assert leftovers(project) == []


# ── Recopy ──────────────────────────────────────────────────────────────────


def test_recopy_keeps_the_answers_and_shows_what_it_overwrote(tmp_path: Path) -> None:
    """`copier recopy` is the fresh start: template files as v2 renders them, edits in the diff."""
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project", docker_strategy="wheel")
    ours = make_user_edits(project)
    change_template(template)

    copier.run_recopy(project, defaults=True, overwrite=True, quiet=True)

    fresh = render(template, tmp_path / "fresh", docker_strategy="wheel")
    recopied = files(project)
    assert answers_of(project) == answers_of(fresh)
    for name in ("README.md", "pyproject.toml", "Dockerfile"):
        assert recopied[name] == files(fresh)[name]
    # Files the template does not render are left alone.
    package = f"src/{answers_of(project)['package_name']}"
    assert recopied[f"{package}/widgets.py"] == ours[f"{package}/widgets.py"]
    # What the recopy overwrote is in `git diff`, to take back what is still wanted.
    assert '-LABEL org.opencontainers.image.vendor="Acme"' in git(project, "diff", "Dockerfile")


# ── The README's command, as a user types it ────────────────────────────────


@pytest.mark.slow
def test_readme_update_command_with_dependencies_changed_on_both_sides(tmp_path: Path) -> None:
    """The generated README's `copier update` line and its `poetry lock` step.

    The user `poetry add`s a dependency, the template raises a dev dependency: both
    change pyproject.toml, which merges cleanly. The update leaves poetry.lock as the
    user had it (the template renders none), so nothing conflicts; `poetry lock` then
    locks the merged pyproject.toml. `--defaults` stands in for pressing Enter. No
    `--trust` anywhere: the README's commands have none.
    """
    template = template_repo(tmp_path / "template")
    project = tmp_path / "project"
    copier_cli = [sys.executable, "-m", "copier"]
    data = [f"--data={key}={value}" for key, value in ANSWERS.items()]
    run(*copier_cli, "copy", "--defaults", *data, str(template), str(project))
    run("git", "init", "--quiet", cwd=project)
    git_save(project, "Generated")
    run("poetry", "add", "--lock", "idna", cwd=project)
    git_save(project, "Add idna")
    edit(sample_file(template, "pyproject.toml"), r'^pytest = ".*"$', 'pytest = ">=8.4"')
    change_template(template)

    readme = (project / "README.md").read_text()
    command = re.search(r"^(copier update [^#\n]*?)\s*(#.*)?$", readme, re.MULTILINE)
    assert command, "the generated README says how to update"
    args = shlex.split(command[1])
    assert args[:2] == ["copier", "update"]
    result = run(*copier_cli, *args[1:], "--defaults", cwd=project)

    assert "Updating to template version 2.0.0" in result.stderr
    assert answers_of(project)["_commit"] == "v2.0.0"
    pyproject = read_toml(project / "pyproject.toml")
    assert [d.split()[0] for d in pyproject["project"]["dependencies"]] == ["idna"]
    assert pyproject["tool"]["poetry"]["group"]["dev"]["dependencies"]["pytest"] == ">=8.4"
    assert (project / "CONTRIBUTING.md").is_file()
    assert "run `poetry lock` if pyproject.toml changed" in result.stdout + result.stderr
    assert leftovers(project) == []
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""
    assert git(project, "diff", "--name-only", "poetry.lock") == "", "the lock is the user's"
    # The README's next step: the lock is stale until `poetry lock` runs.
    assert run("poetry", "check", "--lock", cwd=project, check=False).returncode != 0
    run("poetry", "lock", cwd=project)
    run("poetry", "check", "--lock", cwd=project)
    assert 'name = "idna"' in (project / "poetry.lock").read_text()
    git_save(project, "Update to template v2")


# ── Versions ────────────────────────────────────────────────────────────────


def test_changelog_lists_releases_newest_first() -> None:
    """Keep a Changelog: an optional [Unreleased] on top, then `## [X.Y.Z] - date`."""
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## (.*)$", text, re.MULTILINE)
    if "[Unreleased]" in headings:
        assert headings.index("[Unreleased]") == 0
        headings = headings[1:]
    assert headings, "at least one release"
    releases = [re.fullmatch(rf"\[({SEMVER})\] - (\d{{4}}-\d{{2}}-\d{{2}})", h) for h in headings]
    assert all(releases), f"'## [X.Y.Z] - YYYY-MM-DD' headings only: {headings}"
    versions = [tuple(map(int, m[1].split("."))) for m in releases if m]
    dates = [m[5] for m in releases if m]
    assert versions == sorted(set(versions), reverse=True), "newest first, each once"
    assert dates == sorted(dates, reverse=True)
    kinds = set(re.findall(r"^### (.*)$", text, re.MULTILINE))
    assert kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_every_release_is_in_this_clone_and_every_tag_documented() -> None:
    """Each release of CHANGELOG.md has its revision here (tag, or heading commit in a
    full clone): a clone without them fails, not passes. A tag present is v<semver>,
    has an entry, and sits on the commit that added its heading."""
    versions = changelog_versions()
    missing = [version for version in versions if release_revision(version) is None]
    assert missing == [], (
        f"releases {missing} are neither tagged nor findable in this "
        f"{'shallow ' if is_shallow() else ''}clone: `git fetch --unshallow --tags`"
    )
    for tag in git(ROOT, "tag", "--list", "v*").split():
        assert re.fullmatch(rf"v{SEMVER}", tag), f"{tag} is not v<semver>"
        version = tag.removeprefix("v")
        assert version in versions, f"{tag} has no entry in CHANGELOG.md"
        if not is_shallow():
            added = git(ROOT, "log", "--format=%H", "-S", f"## [{version}]", "--", "CHANGELOG.md")
            assert commit_of(tag) == added.split()[0], f"{tag} is not on its release commit"
