"""A project's life across template versions: rendered and committed, edited by its
team, updated with `copier update`, and compared file by file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import copier
import yaml
from dockerfile_parse import DockerfileParser

from tests.support.git import git, git_save, template_from_working_tree, template_repo
from tests.support.shell import run
from tests.support.template import ANSWERS, answers_of, copy_project, sample_file

CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.MULTILINE)


# ── Projects ────────────────────────────────────────────────────────────────


def render(template: Path | str, dst: Path, *, vcs_ref: str | None = None, lock: bool = False,
           **answers: Any) -> Path:  # fmt: skip
    """`copier copy` the tests' answers (plus overrides) and commit the result in git."""
    copy_project(dst, lock=lock, template=template, vcs_ref=vcs_ref, **answers)
    run("git", "init", "--quiet", cwd=dst)
    git_save(dst, "Generated from the template")
    return dst


def update(project: Path, *, trust: bool = False, **options: Any) -> None:
    """`copier update --defaults --overwrite`: the new template, the same answers.

    No `--trust`: the template has no tasks. trust=True only for a project made by an
    earlier release that had them: Copier refuses to update from such a version
    without it, even though no task runs on update.
    """
    options.setdefault("conflict", "inline")
    copier.run_update(project, defaults=True, overwrite=True, unsafe=trust, quiet=True, **options)


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


# The copy task of earlier releases, in their form (a list, copy only): it leaves a
# file behind, so a test can see whether it ran.
TASKS = """
_tasks:
  - command: ["{{ _copier_python }}", "-c", "open('task-ran', 'w').close()"]
    when: "{{ _copier_operation == 'copy' }}"
"""


def project_of_a_release_with_tasks(folder: Path) -> tuple[Path, Path]:
    """A template whose v1.0.0 had the copy task and whose v2.0.0 is this working tree
    (no tasks), and a project copied from v1.0.0 with --trust, as users' projects were,
    committed: (template, project)."""
    template = template_repo(folder / "template", tag="v0.9.0")
    append(template / "copier.yml", TASKS)
    git_save(template, "A release with a copy task", tag="v1.0.0")
    project = folder / "project"
    copier.run_copy(str(template), project, data=ANSWERS, defaults=True, unsafe=True,
                    vcs_ref="v1.0.0", quiet=True)  # fmt: skip
    run("git", "init", "--quiet", cwd=project)
    git_save(project, "Generated with --trust")
    run("git", "rm", "--quiet", "copier.yml", cwd=template)
    template_from_working_tree(template)
    git_save(template, "This working tree: no tasks", tag="v2.0.0")
    return template, project


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


# uv's pin in a rendered Dockerfile; in the template, includes/versions.jinja writes it.
UV_PIN = r"uv==[0-9][0-9.]*"


def conflicting_uv_pins(project: Path, template: Path, ours: str, theirs: str) -> None:
    """The team pins uv in its Dockerfile, and the next release (tagged v2.0.0) pins
    another uv on the same line: a real conflict, committed on both sides."""
    edit(project / "Dockerfile", UV_PIN, f"uv=={ours}")
    git_save(project, "Our uv")
    edit(template / "includes" / "versions.jinja", r'(uv_version = ")[0-9.]+"', rf'\g<1>{theirs}"')
    git_save(template, "Template's uv", tag="v2.0.0")


def rename_question(template: Path, old: str, new: str, *, keep_old_name: bool) -> None:
    """A release that renames a question, in every file of the template.

    keep_old_name: the way that needs no `--trust`. The new question takes the old
    answer as its default, and the old name stays, after it, as a question never
    asked (`when: false`): Copier forgets a recorded answer only when it reaches the
    question that has it, so the new question, asked first, still sees it. Without
    this, Copier drops the old answer and the new question takes its plain default.
    """
    for path in [template / "copier.yml", *template.glob("template/**/*"),
                 *template.glob("includes/**/*")]:  # fmt: skip
        if path.is_file() and old in path.read_text():
            path.write_text(path.read_text().replace(old, new))
    questions = yaml.safe_load((template / "copier.yml").read_text())
    if keep_old_name:
        default = questions[new]["default"]
        questions[new]["default"] = f"{{{{ {old} | default('{default}') }}}}"
        questions[old] = {"type": "str", "when": False, "help": f"Renamed to {new}", "default": ""}
    (template / "copier.yml").write_text(yaml.safe_dump(questions, sort_keys=False))


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


def assert_strategy(project: Path, strategy: str) -> None:
    """The Dockerfile is this strategy's, and only its own: header, stages, steps, CMD."""
    assert answers_of(project)["docker_strategy"] == strategy
    assert sorted(p.name for p in project.glob("Dockerfile*")) == ["Dockerfile"]
    dockerfile = project / "Dockerfile"
    text = dockerfile.read_text()
    headers = re.findall(r"^# (\w+) strategy\b", text, re.MULTILINE)
    assert headers == [strategy.capitalize()], "one header, this strategy's"
    parsed = DockerfileParser(str(dockerfile)).structure
    stages = [i["value"].split(" AS ")[1] for i in parsed if i["instruction"] == "FROM"]
    assert (stages[0], stages[-1]) == ("tools", "runtime"), stages
    assert {"manifest", "deps", "project"} <= set(stages), stages
    # The build's steps (docker/stages) are told the strategy: this one, every time.
    steps = re.findall(r"python /opt/stages (deps|project) (\w+)", text)
    assert {step for step, _ in steps} == {"deps", "project"}, steps
    assert {named for _, named in steps if named != "dev"} == {strategy}, steps
    cmds = [i["value"] for i in parsed if i["instruction"] == "CMD"]
    assert cmds[-1] == '["hello"]', "the runtime stage's command"
