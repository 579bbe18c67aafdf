"""copier.yml reads like a form, and every validator refuses bad answers clearly."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from tests.conftest import ANSWERS, ROOT, copy_project

COPIER_YML: dict[str, Any] = yaml.safe_load((ROOT / "copier.yml").read_text())
QUESTIONS = {key: value for key, value in COPIER_YML.items() if not key.startswith("_")}
# Keys Copier 9 understands on a question; anything else (a `typr:`) is silently ignored.
QUESTION_KEYS = {
    "type", "help", "default", "choices", "validator", "when", "secret",
    "placeholder", "multiline", "multiselect", "qmark",
}  # fmt: skip
# Required questions have no default on purpose: --defaults alone must stop.
REQUIRED = {"project_name"}


def test_settings_keep_metadata_apart_from_the_template() -> None:
    assert COPIER_YML["_subdirectory"] == "template"
    assert COPIER_YML["_templates_suffix"] == ".jinja"
    assert COPIER_YML["_answers_file"] == ".copier-answers.yml"
    assert "_min_copier_version" in COPIER_YML


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_question_is_complete(name: str) -> None:
    question = QUESTIONS[name]
    assert set(question) <= QUESTION_KEYS, f"unknown keys: {set(question) - QUESTION_KEYS}"
    assert question.get("type") in {"str", "bool", "int", "float", "yaml", "json"}
    assert question.get("help", "").strip(), "every question needs help text"
    if name in REQUIRED:
        assert "default" not in question
    else:
        assert "default" in question, "pytest-copie and --defaults need a default"


def test_every_name_like_question_is_validated() -> None:
    free_text = {n for n, q in QUESTIONS.items() if q["type"] == "str" and "choices" not in q}
    assert free_text, "the questionnaire has free-text questions"
    assert {n for n in free_text if "validator" not in QUESTIONS[n]} == set()


def test_test_answers_name_real_questions() -> None:
    assert set(ANSWERS) <= set(QUESTIONS)


def test_choices_offer_what_the_issues_promise() -> None:
    assert list(QUESTIONS["python_version"]["choices"]) == [
        "3.11",
        "3.12",
        "3.13",
        "3.14",
    ]
    assert QUESTIONS["python_version"]["default"] == "3.13"
    strategies = list(QUESTIONS["docker_strategy"]["choices"].values())
    assert strategies == ["export", "wheel", "environment"]
    assert QUESTIONS["docker_strategy"]["default"] == "export"
    # The help points to the README, whose table says when to pick each strategy.
    readme = (ROOT / "README.md").read_text()
    assert "README" in QUESTIONS["docker_strategy"]["help"]
    for strategy in strategies:
        assert re.search(rf"^\| `{strategy}`", readme, re.MULTILINE), strategy
    assert list(QUESTIONS["smoke_test"]["choices"].values()) == ["output", "log"]


def test_stdlib_list_covers_this_interpreter() -> None:
    """includes/names.jinja refuses every public standard-library module name."""
    text = (ROOT / "includes" / "names.jinja").read_text()
    listed = ast.literal_eval(
        re.search(r"set stdlib_module_names = (\[.*?\])", text, re.DOTALL).group(1)
    )
    public = {name for name in sys.stdlib_module_names if not name.startswith("_")}
    assert public - set(listed) == set()


def test_derived_names(tmp_path: Path) -> None:
    dst = copy_project(tmp_path / "p", project_name="Acme  Widget.Service 2")
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert answers["project_slug"] == "acme-widget-service-2"
    assert answers["package_name"] == "acme_widget_service_2"


BAD_ANSWERS = [
    ({"project_name": ""}, "project_name", "must start with a letter"),
    ({"project_name": "42 Service"}, "project_name", "must start with a letter"),
    ({"project_name": "Json"}, "project_name", "'json' is a standard-library module"),
    ({"project_name": "Class"}, "project_name", "'class' is a Python keyword"),
    ({"project_slug": "Acme_Widget"}, "project_slug", 'e.g. "acme-widget"'),
    ({"project_slug": "acme--widget"}, "project_slug", "not a normalised distribution"),
    ({"package_name": "Acme-Widget"}, "package_name", 'e.g. "acme_widget"'),
    ({"package_name": "2fast"}, "package_name", "not an importable package name"),
    ({"package_name": "import"}, "package_name", 'Python keyword.*e.g. "import_app"'),
    ({"package_name": "json"}, "package_name", "shadow.*e.g. \"json_app\""),
    ({"package_name": "asyncio"}, "package_name", "standard-library module"),
    ({"description": "two\nlines"}, "description", "single non-empty line"),
    ({"description": "  "}, "description", "single non-empty line"),
    ({"author_name": 'Team "A"'}, "author_name", "must not contain"),
    ({"author_email": "platform"}, "author_email", "not an e-mail address"),
    ({"author_email": "a@b"}, "author_email", "not an e-mail address"),
    ({"license": "WTFPL"}, "license", "Invalid choice"),
    ({"python_version": "3.10"}, "python_version", "Invalid choice"),
    ({"docker_strategy": "poetry"}, "docker_strategy", "Invalid choice"),
    ({"docker_extras": "pg,redis"}, "docker_extras", "'pg,redis' is not an extra's name"),
    ({"docker_extras": "-x"}, "docker_extras", "not an extra's name"),
    ({"docker_command": " "}, "docker_command", "The image needs a command"),
    ({"docker_command": "serve; rm -rf /"}, "docker_command", "'serve;' cannot be part"),
    ({"docker_command": "echo $HOME"}, "docker_command", "'[$]HOME' cannot be part"),
    ({"docker_command": 'python -c "print(1)"'}, "docker_command", "without quotes"),
    ({"smoke_test": "http"}, "smoke_test", "Invalid choice"),
    ({"smoke_test_text": ""}, "smoke_test_text", "single non-empty line"),
    ({"smoke_test_text": "a\nb"}, "smoke_test_text", "single non-empty line"),
    ({"smoke_test_text": "${{ secrets.TOKEN }}"}, "smoke_test_text", "GitHub Actions would"),
    ({"apt_build_packages": "gcc;rm"}, "apt_build_packages", "'gcc;rm' is not a Debian package"),
    ({"apt_runtime_packages": "libpq5 $(id)"}, "apt_runtime_packages", "not a Debian package"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "question", "message"),
    BAD_ANSWERS,
    ids=[f"{q}={next(iter(a.values()))!r}" for a, q, _ in BAD_ANSWERS],
)
def test_bad_answer_is_refused_and_nothing_is_written(
    tmp_path: Path, answers: dict[str, str], question: str, message: str
) -> None:
    dst = tmp_path / "never"
    with pytest.raises(ValueError, match=re.escape(question)) as refused:
        copy_project(dst, **answers)
    assert re.search(message, str(refused.value)), str(refused.value)
    assert not dst.exists()


def test_every_validated_question_has_a_negative_test() -> None:
    refused = {question for _, question, _ in BAD_ANSWERS}
    validated = {n for n, q in QUESTIONS.items() if "validator" in q or "choices" in q}
    assert validated <= refused


def test_project_name_is_required(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match='Question "project_name" is required'):
        copier.run_copy(str(ROOT), tmp_path / "p", defaults=True, vcs_ref="HEAD", skip_tasks=True)
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    "answers",
    [
        {"package_name": "widgets"},
        {"package_name": "acme_widget_2"},
        {"project_slug": "acme-widget-2"},
        {
            "apt_build_packages": "gcc libpq-dev",
            "apt_runtime_packages": "libpq5 libstdc++6",
        },
        {"apt_runtime_packages": "tzdata=2025b-0+deb12u1"},
        {"docker_extras": "postgres redis.cache"},
        {"docker_command": "gunicorn -c gunicorn.py --bind=0.0.0.0:8000 mysite.wsgi:application"},
        {"smoke_test": "log", "smoke_test_text": "It's {up} and [ready]: 100% $ok"},
    ],
)
def test_good_answers_pass(tmp_path: Path, answers: dict[str, str]) -> None:
    dst = copy_project(tmp_path / "p", **answers)
    recorded = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert {key: recorded[key] for key in answers} == answers
