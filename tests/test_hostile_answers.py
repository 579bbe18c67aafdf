"""Hostile answers: each is refused with a clear message, or carried exactly; never breaks.

Every free-text question gets quotes, backslashes, each class of control character,
Jinja, shell metacharacters, TOML and YAML specials, unicode (zero-width, bidi,
surrogates), very long strings and option-like values. A refused answer leaves no
destination behind, and its message leads with what to type instead, in a first line
that fits an 80-column terminal. A rendered answer leaves pyproject.toml, the answers
file, both GitHub files and the Dockerfile parseable, each carrying the value exactly
where it is used.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.support.git import template_from_working_tree, template_repo
from tests.support.template import answers_of, copy_project
from tests.support.updates import files, render, status, update

REFUSED, RENDERED = "refused", "rendered"
LONG = "x" * 600

# (question, answer, expected outcome)
HOSTILE: list[tuple[str, str, str]] = [
    # Quotes
    ("project_name", 'Acme "Widget"', REFUSED),
    ("author_email", "o'brien+ops{1}@mail.example.co.uk", RENDERED),
    ("description", "It's \"quoted\" and 'single'", RENDERED),
    ("author_name", 'Team "A"', RENDERED),
    ("smoke_test_text", "It's \"done\"", RENDERED),
    ("smoke_test_text", "'", RENDERED),
    # Backslashes
    ("author_name", "Team\\", RENDERED),
    ("description", "C:\\new\\table \\u00e9 \\x41 \\", RENDERED),
    ("smoke_test_text", "back\\slash \\n", RENDERED),
    ("author_email", "a\\b@example.com", REFUSED),
    # Control characters: C0, line breaks, DEL, C1, Unicode separators
    ("package_name", "acme\n", REFUSED),
    ("project_slug", "acme\n", REFUSED),
    ("author_email", "team@example.com\n", REFUSED),
    ("project_name", "Acme\n", REFUSED),
    ("description", "carriage\rreturn", REFUSED),
    ("description", "tab\there", REFUSED),
    ("author_name", "nul\x00", REFUSED),
    ("description", "escape \x1b[31mred", REFUSED),
    ("description", "vertical\x0btab\x0cfeed", REFUSED),
    ("description", "delete\x7f", REFUSED),
    ("description", "next line\x85", REFUSED),
    ("smoke_test_text", "csi \x9b", REFUSED),
    ("author_name", "line\u2028separator", REFUSED),
    ("smoke_test_text", "paragraph\u2029separator", REFUSED),
    ("docker_extras", "postgres\x00", REFUSED),
    ("docker_command", "hello\x1b", REFUSED),
    ("apt_runtime_packages", "libpq5\r", REFUSED),
    # Jinja: carried as text, never evaluated
    ("description", "{{ 7 * 7 }} {% raw %} {# c #}", RENDERED),
    ("author_name", "{% if true %}x{% endif %}", RENDERED),
    ("smoke_test_text", "{{ project_name }}", RENDERED),
    ("project_name", "{{ 7*7 }}", REFUSED),
    ("docker_command", "{{cmd}}", RENDERED),
    # Shell metacharacters
    ("docker_command", "hello; rm -rf /", REFUSED),
    ("docker_command", "sh -c $(id)", REFUSED),
    ("docker_command", "serve && migrate", REFUSED),
    ("docker_command", "serve | tee log", REFUSED),
    ("docker_command", "gunicorn -b :${PORT:-8080} app:app", REFUSED),
    ("docker_command", "gunicorn --forwarded-allow-ips=* app:create_app() 'x", REFUSED),
    # Words a program takes, without a shell: carried exactly, into the CMD's JSON
    ("docker_command", "gunicorn --forwarded-allow-ips=* factory:create_app()", RENDERED),
    ("docker_command", 'gunicorn app:create_app("prod") --log-level=debug', RENDERED),
    ("docker_command", "streamlit run pages/1_Übersicht.py", RENDERED),
    ("docker_command", "price --max=5$ --tags=#a,{b}", RENDERED),
    # Settings and secret names: NAME=value, names; never ${{ for GitHub to evaluate
    ("docker_env", "URL=http://x/?a=1&b=$2 QUOTE=it's\\back", RENDERED),
    ("docker_env", "MODE=${{ secrets.X }}", REFUSED),
    ("docker_env", "MODE=a\nb", REFUSED),
    ("docker_env", "MODE", REFUSED),
    ("docker_env", "A=" + "x" * 2100, REFUSED),
    ("docker_secrets", "BOT_TOKEN API_KEY", RENDERED),
    ("docker_secrets", "${{ github.token }}", REFUSED),
    ("docker_secrets", "GITHUB_TOKEN", REFUSED),
    ("docker_secrets", "token;id", REFUSED),
    ("docker_port", "8000", RENDERED),
    ("docker_port", "80 # x", REFUSED),
    ("docker_port", "{{ 7 * 7 }}", REFUSED),
    ("docker_data_dir", "/app/data", RENDERED),
    ("docker_data_dir", "/data dir", REFUSED),
    ("docker_data_dir", "/app/../../etc", REFUSED),
    ("docker_data_dir", "/var/lib/dpkg", REFUSED),
    ("docker_data_dir", "$(id)", REFUSED),
    ("apt_runtime_packages", "libpq5 && curl evil", REFUSED),
    ("apt_build_packages", "gcc|sh", REFUSED),
    ("docker_extras", "pg;id", REFUSED),
    ("docker_extras", " Postgres_2   redis.cache ", RENDERED),
    ("smoke_test_text", "$(id) `whoami` && echo $HOME; rm -rf / > x", RENDERED),
    ("description", "$(touch /tmp/pwned) && ; | > < *", RENDERED),
    # TOML and YAML specials
    ("description", "\"\"\"triple\"\"\" '''literal''' [table] key = \"v\" # c", RENDERED),
    ("author_name", "= [x] # y {z}", RENDERED),
    ("smoke_test_text", "- item: &anchor *alias !!python/object {x: [1]}", RENDERED),
    ("smoke_test_text", "# not a comment", RENDERED),
    ("description", "null", RENDERED),
    ("author_name", "no", RENDERED),
    ("description", "---", RENDERED),
    ("smoke_test_text", "0o17", RENDERED),
    ("description", " leading and trailing spaces ", RENDERED),
    ("author_name", "Team, Inc.", RENDERED),
    ("author_name", "Team <a@example.com>", REFUSED),
    # Unicode
    ("author_name", "Zoë Ångström 王小明", RENDERED),
    ("description", "zero\u200bwidth\u200cnon\u200djoiner", RENDERED),
    ("smoke_test_text", "emoji 🎉 ok", RENDERED),
    ("description", "\ufeffbyte order mark", RENDERED),
    ("description", "bidi \u202eevil", REFUSED),
    ("author_name", "\u2066isolate\u2069", REFUSED),
    ("description", "surrogate \udcff", REFUSED),
    ("package_name", "acmé", REFUSED),
    ("project_name", "\uff21cme", REFUSED),  # a full-width A
    ("project_slug", "acme\u200b", REFUSED),
    # A number: only a whole one from 0 to 100, as digits
    ("coverage_threshold", "0", RENDERED),
    ("coverage_threshold", "100", RENDERED),
    ("coverage_threshold", "90\n", REFUSED),
    ("coverage_threshold", "1e2", REFUSED),
    ("coverage_threshold", "{{ 7 * 7 }}", REFUSED),
    ("coverage_threshold", "90 # comment", REFUSED),
    ("coverage_threshold", "\uff19\uff10", REFUSED),  # full-width digits, int() reads 90
    ("coverage_threshold", "9" * 600, REFUSED),
    # The base image's tag (asked with Renovate, validated whenever given): a slim tag of
    # the project's Python, optionally @sha256:<64 hex>; anything else is refused
    ("python_image_tag", "3.13-slim\n", REFUSED),
    ("python_image_tag", "3.13-slim AS evil", REFUSED),
    ("python_image_tag", "3.13-slim; rm -rf /", REFUSED),
    ("python_image_tag", "{{ python_version }}-slim", REFUSED),
    ("python_image_tag", "--platform=linux/arm64", REFUSED),
    ("python_image_tag", "3.13-slim@sha256:" + "A" * 64, REFUSED),
    ("python_image_tag", "3.13-slim@sha256:" + "a" * 65, REFUSED),
    ("python_image_tag", "3.13-slim\u200b", REFUSED),
    # Very long strings
    ("project_name", "A.b_c-d 9" + "x" * 91, RENDERED),
    ("project_slug", "a" * 100, RENDERED),
    ("package_name", "a" * 100, RENDERED),
    ("project_name", "A" * 300, REFUSED),
    ("project_slug", "a" * 300, REFUSED),
    ("package_name", "a" * 300, REFUSED),
    ("description", LONG, REFUSED),
    ("description", "x" * 512, RENDERED),
    ("author_name", LONG, REFUSED),
    ("author_email", "a" * 250 + "@example.com", REFUSED),
    ("smoke_test_text", LONG, REFUSED),
    ("docker_extras", "x" * 1100, REFUSED),
    ("docker_command", "hello " + "a" * 1000, RENDERED),
    ("docker_command", "a" * 1100, REFUSED),
    ("apt_runtime_packages", "libpq5 " * 200, REFUSED),
    # Option-like values
    ("docker_command", "--help", REFUSED),
    ("docker_command", "hello --help", RENDERED),
    ("apt_build_packages", "--allow-unauthenticated", REFUSED),
    ("apt_runtime_packages", "-y", REFUSED),
    ("apt_runtime_packages", "ca-certificates-", REFUSED),
    ("apt_build_packages", "gcc libpq-dev=15.0-1", RENDERED),
    ("docker_extras", "--help", REFUSED),
    ("project_slug", "--help", REFUSED),
    ("smoke_test_text", "--help", RENDERED),
    # Paths
    ("project_dir", "../elsewhere", REFUSED),
    ("project_dir", "/etc", REFUSED),
    ("project_dir", "apps/../../x", REFUSED),
    ("project_dir", "apps/.git", REFUSED),
    ("project_dir", "apps\\svc", REFUSED),
    ("project_dir", "apps/svc\n", REFUSED),
    ("project_dir", "apps/ svc", REFUSED),
    ("project_dir", "apps/" + "a" * 300, REFUSED),
    ("project_dir", "apps/Billing_v2.0", RENDERED),
    # GitHub Actions expressions
    ("smoke_test_text", "${{ github.token }}", REFUSED),
    ("smoke_test_text", "$ {{ not an expression }}", RENDERED),
]  # fmt: skip


def case_id(case: tuple[str, str, str]) -> str:
    question, answer, _ = case
    shown = answer.encode("unicode_escape").decode()
    return f"{question}={shown[:24]}{'...' if len(shown) > 24 else ''}"


def refused_with(question: str) -> str:
    return re.escape(f"Validation error for question '{question}': use ")


def refusal(error: BaseException, question: str) -> str:
    """The message of a refused answer, checked: names the question, leads with `use`."""
    message = str(error)
    prefix = f"Validation error for question '{question}': "
    assert message.startswith(prefix), message
    first = message.split("\n")[0]
    assert first.startswith(prefix + "use "), f"lead with what to type instead: {first!r}"
    assert len(first) <= 80, f"{len(first)} columns: {first!r}"
    assert re.fullmatch(r"[ -~]+", first), f"plain ASCII, no echo of the answer: {first!r}"
    assert "\n" in message, "the why follows on the next line"
    return message


def rendered_values(project: Path) -> dict[str, Any]:
    """Each answer as the project uses it, from parsed files, by question."""
    root = project
    project_dir = answers_of(root)["project_dir"]
    project = root / project_dir
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    workflows = root / ".github" / "workflows"
    if project_dir == ".":
        workflow = yaml.safe_load((workflows / "ci.yml").read_text())
        yaml.safe_load((root / ".github" / "dependabot.yml").read_text())
    else:
        slug = pyproject["project"]["name"]
        workflow = yaml.safe_load((workflows / f"{slug}-ci.yml").read_text())
    meta = pyproject["project"]
    (author,) = meta["authors"]
    (package,) = pyproject["tool"]["poetry"]["packages"]
    dockerfile = DockerfileParser(str(project / "Dockerfile")).structure
    cmd = [i["value"] for i in dockerfile if i["instruction"] == "CMD"][-1]  # the runtime's
    env = [i["value"] for i in dockerfile if i["instruction"] == "ENV"][-1]
    exposed = [i["value"] for i in dockerfile if i["instruction"] == "EXPOSE"]
    (smoke,) = [step for step in workflow["jobs"]["image"]["steps"]
                if "SMOKE_TEST_TEXT" in step.get("env", {})]  # fmt: skip
    args = dict(
        i["value"].split("=", 1)
        for i in dockerfile
        if i["instruction"] == "ARG" and "=" in i["value"]
    )
    installs = [
        shlex.split(i["value"]) for i in dockerfile if "apt-get install" in i["value"]
    ]  # fmt: skip
    readme = (project / "README.md").read_text().splitlines()
    return {
        "project_name": readme[0].removeprefix("# "),
        "project_slug": meta["name"],
        "package_name": package["include"],
        "description": meta["description"],
        "author_name": author["name"],
        "author_email": author["email"],
        "docker_extras": shlex.split(args["EXTRAS"])[0],
        "docker_command": json.loads(cmd),
        "smoke_test_text": smoke["env"]["SMOKE_TEST_TEXT"],
        "docker_env": " ".join(
            f"{name}={smoke['env'][name]}"
            for name in smoke["env"].get("SMOKE_TEST_ENV", "").split()
            if not smoke["env"][name].startswith("${{")
        ),
        "docker_secrets": " ".join(
            name
            for name in smoke["env"].get("SMOKE_TEST_ENV", "").split()
            if smoke["env"][name].startswith("${{ secrets.")
        ),
        "docker_port": exposed[0] if exposed else "",
        "docker_data_dir": shlex.split(env.split("DATA_DIR=")[1])[0] if "DATA_DIR=" in env else "",
        "project_dir": workflow["defaults"]["run"].get("working-directory", "."),
        "dockerfile": workflow["env"]["DOCKERFILE"],
        "apt": installs,
        "coverage_threshold": str(pyproject["tool"]["coverage"]["report"]["fail_under"]),
    }


def assert_carried(project: Path, question: str, answer: str) -> None:
    """The answers file records the answer exactly, and every file uses it exactly."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers[question] == answer
    used = rendered_values(project)
    if question == "docker_command":
        assert used[question] == answer.split()
    elif question == "docker_extras":
        assert used[question] == " ".join(answer.split())
    elif question.startswith("apt_"):
        words = answer.split()
        assert any(
            line[i : i + len(words)] == words for line in used["apt"] for i in range(len(line))
        ), used["apt"]
    else:
        assert used[question] == answer
    if question == "package_name":
        assert (project / "src" / answer / "__init__.py").is_file()
    if question == "project_dir":
        assert used["dockerfile"] == f"{answer}/Dockerfile"
        assert (project / answer / "Dockerfile.dockerignore").is_file()


@pytest.fixture(scope="module")
def plain_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working tree's template files outside git: Copier renders them without a clone."""
    return template_from_working_tree(tmp_path_factory.mktemp("plain-template"))


@pytest.mark.parametrize(("question", "answer", "outcome"), HOSTILE, ids=map(case_id, HOSTILE))
def test_hostile_answer_is_refused_or_carried_exactly(
    tmp_path: Path, plain_template: Path, question: str, answer: str, outcome: str
) -> None:
    dst = tmp_path / "project"
    answers: dict[str, Any] = {question: answer}
    if outcome == REFUSED:
        with pytest.raises(ValueError, match=refused_with(question)) as refused:
            copy_project(dst, template=plain_template, vcs_ref=None, **answers)
        refusal(refused.value, question)
        assert not dst.exists(), "nothing is written for a refused answer"
        return
    copy_project(dst, template=plain_template, vcs_ref=None, **answers)
    assert_carried(dst, question, answer)


def test_the_table_covers_every_free_text_question() -> None:
    questions = yaml.safe_load((Path(__file__).parent.parent / "copier.yml").read_text())
    free_text = {
        name
        for name, question in questions.items()
        if not name.startswith("_")
        and question["type"] == "str"
        and "choices" not in question
        and question.get("when") is not False
    }
    assert {question for question, _, _ in HOSTILE} == free_text
    assert len(HOSTILE) >= 40
    assert {outcome for _, _, outcome in HOSTILE} == {REFUSED, RENDERED}


# ── The same on `copier update --data` ──────────────────────────────────────

ON_UPDATE = [
    ("package_name", "acme\n", REFUSED),
    ("author_name", "Team\\", RENDERED),
    ("description", "next line\x85", REFUSED),
    ("smoke_test_text", 'It\'s "done" \\ {{ x }}', RENDERED),
    ("apt_runtime_packages", "ca-certificates-", REFUSED),
    ("author_email", "team@example.com\n", REFUSED),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template_repo(tmp_path_factory.mktemp("hostile") / "template")


@pytest.mark.parametrize(("question", "answer", "outcome"), ON_UPDATE, ids=map(case_id, ON_UPDATE))
def test_hostile_answer_on_update(
    tmp_path: Path, template: Path, question: str, answer: str, outcome: str
) -> None:
    project = render(template, tmp_path / "project")
    before = files(project)
    if outcome == REFUSED:
        with pytest.raises(ValueError, match=refused_with(question)) as refused:
            update(project, data={question: answer}, vcs_ref="HEAD")
        refusal(refused.value, question)
        assert status(project) == "", "a refused answer changes nothing"
        assert files(project) == before
        return
    update(project, data={question: answer}, vcs_ref="HEAD")
    assert_carried(project, question, answer)
