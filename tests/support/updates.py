"""A project's life across template versions: rendered and committed, edited by its
team, updated with `copier update`, and compared file by file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import copier
from dockerfile_parse import DockerfileParser

from tests.support.git import git, git_save
from tests.support.shell import run
from tests.support.template import answers_of, copy_project, sample_file

CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.MULTILINE)


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


# ── Edits, the team's and the template's ─────────────────────────────────────


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


# ── What a strategy's Dockerfile is ─────────────────────────────────────────

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
