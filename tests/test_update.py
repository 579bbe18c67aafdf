"""`copier update` never loses work: v1 -> v2 update paths, strategy switches, bad answers.

Like Copier's own tests, each test builds a template repository of its own under
tmp_path from this checkout's template files (copier.yml, template/, includes/, the
working tree with uncommitted edits), commits and tags it, renders a project from it
(a git repository too), commits the user's edits, changes the template, tags again and
updates. Nothing depends on this repository's own tags, which a CI clone may lack.
"""

from __future__ import annotations

import io
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.conftest import ANSWERS, ROOT, copy_project
from tests.helpers import answers_of, read_toml, run, sample_file

# What a template release is made of; everything else in this repository stays behind.
TEMPLATE_PATHS = ("copier.yml", "template", "includes")
STRATEGIES = ["export", "wheel", "environment"]
CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.MULTILINE)
SEMVER = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"


# ── Template repositories ────────────────────────────────────────────────────


def git(repo: Path, *args: str) -> str:
    return run("git", *args, cwd=repo).stdout


def git_save(repo: Path, message: str, tag: str | None = None) -> None:
    """Commit everything (even nothing) and optionally tag it, as Copier's tests do."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "--message", message)
    if tag:
        git(repo, "tag", tag)


def template_from_working_tree(dst: Path) -> Path:
    """This checkout's template files as they are on disk, untracked ones included.

    The same files Copier itself renders from a dirty checkout (tests/conftest.py).
    """
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--")
    for name in listed.split("\0"):
        source = ROOT / name
        if name.startswith(TEMPLATE_PATHS) and source.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dst / name)
    return dst


def template_from_commit(revision: str, dst: Path) -> Path:
    """This repository's template files as committed at revision (`git archive`)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(TEMPLATE_PATHS)]
        tar.extractall(dst, members=members, filter="data")
    return dst


def template_repo(path: Path, tag: str = "v1.0.0") -> Path:
    """A git repository of the working tree's template, committed and tagged."""
    path.mkdir()
    template_from_working_tree(path)
    run("git", "init", "--quiet", cwd=path)
    git_save(path, "Template v1", tag=tag)
    return path


def edit(path: Path, pattern: str, replacement: str, count: int = 1) -> None:
    """Replace a regex in a file, insisting that it matches exactly `count` times."""
    text, found = re.subn(pattern, replacement, path.read_text(), flags=re.MULTILINE)
    assert found == count, f"{pattern!r} matched {found} times in {path}, expected {count}"
    path.write_text(text)


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def change_template(repo: Path, tag: str = "v2.0.0") -> None:
    """A new template version: README, pyproject, a shared Dockerfile fragment, a new file."""
    append(
        sample_file(repo, "README.md"),
        "\n## Support\n\nQuestions about {{ project_name }} go to {{ author_email }}.\n",
    )
    append(
        sample_file(repo, "pyproject.toml"),
        "\n[tool.ruff.format]\ndocstring-code-format = true\n",
    )
    # The last line of the runtime stage, in every strategy's Dockerfile.
    append(
        repo / "includes" / "docker" / "runtime.jinja",
        'LABEL org.opencontainers.image.title="{{ project_slug }}"\n',
    )
    (repo / "template" / "{{ project_dir }}" / "CONTRIBUTING.md.jinja").write_text(
        "# Contributing to {{ project_name }}\n"
    )
    git_save(repo, "Template v2", tag=tag)


# ── Projects ────────────────────────────────────────────────────────────────


def render(
    template: Path, dst: Path, *, vcs_ref: str | None = None, lock: bool = False, **answers: Any
) -> Path:
    """`copier copy` the tests' answers (plus overrides) and commit the result in git."""
    copy_project(dst, lock=lock, template=template, vcs_ref=vcs_ref, **answers)
    run("git", "init", "--quiet", cwd=dst)
    git_save(dst, "Generated from the template")
    return dst


def update(project: Path, *, lock: bool = False, **options: Any) -> None:
    """`copier update --defaults --overwrite --trust`: the new template, the same answers."""
    options.setdefault("conflict", "inline")
    copier.run_update(
        project,
        defaults=True,
        overwrite=True,
        unsafe=True,
        skip_tasks=not lock,
        quiet=True,
        **options,
    )


def files(project: Path) -> dict[str, str]:
    """Every file of a project that git would show (not .git, not ignored: no .venv)."""
    listed = git(project, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return {
        name: (project / name).read_text()
        for name in sorted(listed.split("\0"))
        if name and (project / name).is_file()
    }


def as_updated(fresh: dict[str, str], before: dict[str, str]) -> dict[str, str]:
    """What an update should leave: a fresh copy's files, but the project's own code
    (`src/`, `tests/`: copier.yml's `_skip_if_exists`) as it was before the update."""

    def owned(name: str) -> bool:
        return name.startswith(("src/", "tests/"))

    return {
        **{name: text for name, text in fresh.items() if not owned(name)},
        **{name: text for name, text in before.items() if owned(name)},
    }


def leftovers(project: Path) -> list[str]:
    """.rej files (ignored ones too) and files with conflict markers in them."""
    rejects = {
        path.relative_to(project).as_posix()
        for path in project.rglob("*.rej")
        if not {".git", ".venv"} & set(path.relative_to(project).parts)
    }
    marked = {name for name, text in files(project).items() if CONFLICT_MARKER.search(text)}
    return sorted(rejects | marked)


def status(project: Path) -> str:
    return git(project, "status", "--porcelain", "--untracked-files=all", "--ignored")


def make_user_edits(project: Path, *, dockerfile_top: bool = True) -> dict[str, str]:
    """What a user does to a fresh project, committed; returns the edited files' texts.

    dockerfile_top: also a comment above the Dockerfile's header, which is the
    strategy's own text (next to it, a strategy switch is a real conflict).
    """
    package = project / "src" / answers_of(project)["package_name"]
    append(
        package / "__init__.py",
        '\n\ndef shout(text: str) -> str:\n    """Our own code."""\n    return text.upper()\n',
    )
    (package / "widgets.py").write_text('"""A module the template never heard of."""\n')
    # Under the description, far from the end where the template adds a section.
    edit(project / "README.md", r"\A(# .*\n\n.*\n)", r"\1\nOwned by the widget team.\n")
    edit(project / "pyproject.toml", r"^dependencies = \[\]$", 'dependencies = ["idna>=3.7"]')
    if dockerfile_top:
        edit(project / "Dockerfile", r"\A", "# Widget team: rebuilt nightly.\n")
    edit(
        project / "Dockerfile",
        r"^(FROM \$\{PYTHON_IMAGE\} AS runtime)$",
        r'\1\nLABEL org.opencontainers.image.vendor="Acme"',
    )
    git_save(project, "Our own changes")
    names = ["README.md", "pyproject.toml", "Dockerfile", package.relative_to(project).as_posix()]
    return {
        name: text
        for name, text in files(project).items()
        if any(name == n or name.startswith(f"{n}/") for n in names)
    }


HEADERS = {
    "export": "# Export strategy:",
    "wheel": "# Wheel strategy:",
    "environment": "# Environment strategy:",
}


def assert_strategy(project: Path, strategy: str) -> None:
    """The Dockerfile is this strategy's, and only its own: header, stages, install, CMD."""
    assert answers_of(project)["docker_strategy"] == strategy
    assert sorted(p.name for p in project.glob("Dockerfile*")) == ["Dockerfile"]
    dockerfile = project / "Dockerfile"
    text = dockerfile.read_text()
    headers = re.findall(r"^# \w+ strategy:", text, re.MULTILINE)
    assert headers == [HEADERS[strategy]], "one header, this strategy's"
    parsed = DockerfileParser(str(dockerfile)).structure
    froms = [i["value"] for i in parsed if i["instruction"] == "FROM"]
    stages = [value.split(" AS ")[1] for value in froms]
    assert stages == ["tools", "manifest", "deps", "project", "runtime"]
    (cmd,) = [i["value"] for i in parsed if i["instruction"] == "CMD"]
    assert ("poetry export --only main" in text) == (strategy == "export")
    assert ("poetry install --only main" in text) == (strategy != "export")
    assert ("build_wheel(" in text) == (strategy != "environment")
    assert ("build_editable(" in text) == (strategy == "environment")
    assert cmd == '["hello"]'


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
    pin = r"uv==[0-9][0-9.]*"
    edit(project / "Dockerfile", pin, "uv==0.13.99")
    git_save(project, "Our uv")
    edit(template / "includes" / "docker" / "tools.jinja", pin, "uv==0.42.0")
    git_save(template, "Template's uv", tag="v2.0.0")

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
    assert block[1].startswith("# Widget team: rebuilt nightly.\n# Export strategy:")
    assert block[2].startswith("# Wheel strategy:")
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
        image = build_image(project, f"poetry-docker-template-test-switch-{strategy}")
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


# ── From the previous release to this working tree ─────────────────────────


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


def previous_release() -> str:
    """A revision of this repository holding the newest release before HEAD.

    Releases are the versions in CHANGELOG.md, newest first. A release's revision is
    its tag `v<version>` when this clone has it, else the commit that last added its heading
    to CHANGELOG.md: a clone without tags still has that commit, and in the release
    routine it is the very commit that gets tagged. A release that is HEAD itself gives
    way to the one before. With none left (no release yet, or a shallow clone, where
    HEAD seems to add every heading), HEAD: v1 is then HEAD's committed tree and v2 the
    working tree, still a real update, only a shorter one.
    """
    head = commit_of("HEAD")
    text = "CHANGELOG.md"
    for version in changelog_versions():
        added = git(ROOT, "log", "--format=%H", "-S", f"## [{version}]", "--", text).split()
        # The newest commit that added the heading: a heading renamed and added back
        # (Unreleased -> X.Y.Z on release day) counts from its last addition.
        revision = f"v{version}" if commit_of(f"v{version}") else (added[0] if added else None)
        if revision and commit_of(revision) != head:
            return revision
    return "HEAD"


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
    update(updated)
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
    choice was removed. If this fails, write a `_migrations` entry in copier.yml that
    rewrites .copier-answers.yml, and a test for it here.
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
    """With the template's tasks enabled, as a user runs it: the copy locks, the update
    leaves poetry.lock alone, and `poetry lock` (as the update message says) follows."""
    project = render(release_templates, tmp_path / "project", vcs_ref="v1.0.0", lock=True)
    before = files(project)
    locked_at_v1 = (project / "poetry.lock").read_text()
    update(project, lock=True)
    assert (project / "poetry.lock").read_text() == locked_at_v1, "an update never re-locks"
    run("poetry", "lock", cwd=project)
    fresh = render(release_templates, tmp_path / "fresh", vcs_ref="v2.0.0")

    assert {**files(project), "poetry.lock": ""} == {
        **as_updated(files(fresh), before),
        "poetry.lock": "",
    }
    run("poetry", "check", "--lock", cwd=project)
    git_save(project, "Updated")
    image = build_image(project, "poetry-docker-template-test-previous-release")
    assert image.run().stdout == "Hello, World!\n"


# ── Recopy ──────────────────────────────────────────────────────────────────


def test_recopy_keeps_the_answers_and_shows_what_it_overwrote(tmp_path: Path) -> None:
    """`copier recopy` is the fresh start: template files as v2 renders them, edits in the diff."""
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project", docker_strategy="wheel")
    ours = make_user_edits(project)
    change_template(template)

    copier.run_recopy(
        project, defaults=True, overwrite=True, unsafe=True, skip_tasks=True, quiet=True
    )

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
    user had it (the lock task runs on copy only), so nothing conflicts; `poetry lock`
    then locks the merged pyproject.toml. `--defaults` stands in for pressing Enter.
    """
    template = template_repo(tmp_path / "template")
    project = tmp_path / "project"
    copier_cli = [sys.executable, "-m", "copier"]
    data = [f"--data={key}={value}" for key, value in ANSWERS.items()]
    run(*copier_cli, "copy", "--trust", "--defaults", *data, str(template), str(project))
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


def test_every_release_tag_has_a_changelog_entry() -> None:
    """Tags are optional in a clone; those present must be semver and documented."""
    tags = git(ROOT, "tag", "--list", "v*").split()
    documented = {f"v{version}" for version in changelog_versions()}
    for tag in tags:
        assert re.fullmatch(rf"v{SEMVER}", tag), f"{tag} is not v<semver>"
        assert tag in documented, f"{tag} has no entry in CHANGELOG.md"
