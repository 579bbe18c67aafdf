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

from tests.support.template import ANSWERS, ROOT, copy_project

COPIER_YML: dict[str, Any] = yaml.safe_load((ROOT / "copier.yml").read_text())
QUESTIONS = {key: value for key, value in COPIER_YML.items() if not key.startswith("_")}
# Computed values (`when: false`): never asked, one place for an expression the files
# repeat. Copier does not validate them; tests/test_render.py checks what they render.
COMPUTED = {name for name, question in QUESTIONS.items() if question.get("when") is False}
ASKED = {name: question for name, question in QUESTIONS.items() if name not in COMPUTED}
# Keys Copier 9 understands on a question; anything else (a `typr:`) is silently ignored.
QUESTION_KEYS = {
    "type", "help", "default", "choices", "validator", "when", "secret",
    "placeholder", "multiline", "multiselect", "qmark",
}  # fmt: skip
# Required questions have no default on purpose: --defaults alone must stop.
REQUIRED = {"project_name"}
VALIDATED = {name for name, question in ASKED.items() if "validator" in question}
# A terminal's width, and what Copier's prompt puts before a help text or a choice
# label on the same line ("🎤 " is 3 columns; so is a choice's " » ").
COLUMNS = 80
DECORATION = 3


def test_settings_keep_metadata_apart_from_the_template() -> None:
    assert COPIER_YML["_subdirectory"] == "template"
    assert COPIER_YML["_templates_suffix"] == ".jinja"
    assert COPIER_YML["_answers_file"] == ".copier-answers.yml"
    assert "_min_copier_version" in COPIER_YML


@pytest.mark.parametrize("name", sorted(ASKED))
def test_question_is_complete(name: str) -> None:
    question = QUESTIONS[name]
    assert set(question) <= QUESTION_KEYS, f"unknown keys: {set(question) - QUESTION_KEYS}"
    assert question.get("type") in {"str", "bool", "int", "float", "yaml", "json"}
    assert question.get("help", "").strip(), "every question needs help text"
    if name in REQUIRED:
        assert "default" not in question
    else:
        assert "default" in question, "pytest-copie and --defaults need a default"


@pytest.mark.parametrize("name", sorted(ASKED))
def test_help_and_choices_fit_one_line_of_80_columns(name: str) -> None:
    """Copier cuts a help text or choice label at the terminal's width."""
    question = QUESTIONS[name]
    assert "\n" not in question["help"].strip()
    assert DECORATION + len(question["help"]) <= COLUMNS, question["help"]
    for label in question.get("choices", []):
        assert DECORATION + len(str(label)) <= COLUMNS, label


def test_every_name_like_question_is_validated() -> None:
    free_text = {n for n, q in ASKED.items() if q["type"] == "str" and "choices" not in q}
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
    found = re.search(r"set stdlib_module_names = (\[.*?\])", text, re.DOTALL)
    assert found, "includes/names.jinja sets stdlib_module_names to a list"
    listed = ast.literal_eval(found.group(1))
    public = {name for name in sys.stdlib_module_names if not name.startswith("_")}
    assert public - set(listed) == set()


def test_derived_names(tmp_path: Path) -> None:
    dst = copy_project(tmp_path / "p", project_name="Acme  Widget.Service 2")
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert answers["project_slug"] == "acme-widget-service-2"
    assert answers["package_name"] == "acme_widget_service_2"


# (answer, the first line after Copier's prefix: what to type instead, then the why).
# A question with choices gets Copier's own message, never seen interactively.
BAD_ANSWERS = [
    ({"project_name": ""}, 'use e.g. "Acme Widget Service"', "start with a letter"),
    ({"project_name": "42 Service"}, 'use "Service"', "start with a letter"),
    ({"project_name": "Json"}, 'use "Json App"', "'json' is a standard-library module"),
    ({"project_name": "Class"}, 'use "Class App"', "'class' is a Python keyword"),
    ({"project_slug": "Acme_Widget"}, 'use "acme-widget"', "not a normalised"),
    ({"project_slug": "acme--widget"}, 'use "acme-widget"', "not a normalised distribution"),
    ({"package_name": "Acme-Widget"}, 'use "acme_widget"', "not an importable"),
    ({"package_name": "2fast"}, 'use "fast"', "not an importable package name"),
    ({"package_name": "import"}, 'use "import_app"', "Python keyword"),
    ({"package_name": "json"}, 'use "json_app"', "shadow the package on import"),
    ({"package_name": "asyncio"}, 'use "asyncio_app"', "standard-library module"),
    # The regression-test package: not in sys.stdlib_module_names, still shadowing.
    ({"package_name": "test"}, 'use "test_app"', "standard-library module"),
    ({"description": "two\nlines"}, 'use "two lines"', "a line break"),
    ({"description": "  "}, "use a line of text", "must not be empty"),
    ({"author_name": "Team <ops@example.com>"}, 'use "Team ops@example.com"', "reads '<'"),
    ({"author_email": "platform"}, 'use e.g. "platform@example.com"', "not an e-mail"),
    ({"author_email": "a@b"}, 'use e.g. "platform@example.com"', "not an e-mail address"),
    ({"license": "WTFPL"}, None, "Invalid choice"),
    ({"python_version": "3.10"}, None, "Invalid choice"),
    ({"docker_strategy": "poetry"}, None, "Invalid choice"),
    ({"docker_extras": "pg,redis"}, 'use "pg redis"', "'pg,redis' is not an extra's name"),
    ({"docker_extras": "-x"}, 'use "x"', "not an extra's name"),
    ({"docker_command": " "}, 'use e.g. "hello"', "the image needs the command it runs"),
    ({"docker_command": "serve; rm -rf /"}, "use one command", "'serve;' is a shell operator"),
    ({"docker_command": "serve && migrate"}, "use one command", "'&&' is a shell operator"),
    ({"docker_command": "echo $HOME"}, "use a variable the program reads",
     "'[$]HOME' needs a shell"),
    ({"docker_command": "gunicorn -b :${PORT:-8080} app:app"}, "use a variable the program reads",
     "needs a shell.*a script of the project"),
    ({"docker_command": 'python -c "print(1)"'}, "use the words without quotes",
     "starts with a quote"),
    ({"docker_command": "--version"}, "use a program name first", "read as an option"),
    ({"docker_command": "serve\tnow"}, 'use "serve now"', "a control character"),
    ({"docker_port": "80a"}, 'use e.g. "8000"', "'80a' is not a TCP port"),
    ({"docker_port": "65536"}, 'use e.g. "8000"', "not a TCP port"),
    ({"docker_port": "0"}, 'use e.g. "8000"', "not a TCP port"),
    ({"docker_env": "LOG_LEVEL"}, 'use e.g. "LOG_LEVEL=info"', "'LOG_LEVEL' is not NAME=value"),
    ({"docker_env": "1X=2"}, 'use e.g. "LOG_LEVEL=info"', "not NAME=value"),
    ({"docker_env": "A=${{ secrets.X }}"}, 'use e.g. "LOG_LEVEL=info"', "not NAME=value"),
    ({"docker_secrets": "GITHUB_TOKEN"}, 'use e.g. "BOT_TOKEN"', "GITHUB_"),
    ({"docker_secrets": "bot-token"}, 'use e.g. "BOT_TOKEN"', "cannot name a secret"),
    ({"docker_env": "TOKEN=x", "docker_secrets": "TOKEN"}, 'use e.g. "BOT_TOKEN"',
     "not also in docker_env"),
    ({"docker_data_dir": "data"}, 'use e.g. "/app/data" or "/data"', "an absolute path"),
    ({"docker_data_dir": "/app"}, 'use e.g. "/app/data" or "/data"', "not one the system"),
    ({"docker_data_dir": "/usr/lib/x"}, 'use e.g. "/app/data" or "/data"', "not one the system"),
    ({"docker_data_dir": "/app/../etc"}, 'use e.g. "/app/data" or "/data"', "an absolute path"),
    ({"database": "mysql"}, None, "Invalid choice"),
    ({"smoke_test": "http"}, None, "Invalid choice"),
    ({"smoke_test_text": ""}, 'use e.g. "Hello, World!"', "must not be empty"),
    ({"smoke_test_text": "a\nb"}, 'use "a b"', "a line break"),
    ({"smoke_test_text": "${{ secrets.TOKEN }}"}, 'use the text without "${{"', "GitHub"),
    ({"apt_build_packages": "gcc;rm"}, 'use e.g. "gcc libpq-dev"', "'gcc;rm' is not a Debian"),
    ({"apt_runtime_packages": "libpq5 $(id)"}, 'use e.g. "libpq5"', "not a Debian package"),
    ({"project_dir": "../app"}, 'use "app"', "not a folder of the repository"),
    ({"project_dir": "/srv/app"}, 'use "srv/app"', "not a folder of the repository"),
    ({"project_dir": "apps/app-a/"}, 'use "apps/app-a"', "not a folder of the repository"),
    ({"project_dir": "apps\\app-a"}, 'use "apps/app-a"', "not a folder of the repository"),
    ({"project_dir": "apps/.hidden"}, 'use "apps/hidden"', "not a folder of the repository"),
    ({"apt_runtime_packages": "ca-certificates-"}, 'use "ca-certificates"', "apt remove"),
    ({"coverage_threshold": "-1"}, "use 0", "not a whole number from 0 to 100"),
    ({"coverage_threshold": "101"}, "use 100", "not a whole number from 0 to 100"),
    ({"coverage_threshold": "abc"}, "use a number from 0 to 100", "'abc' is not a whole"),
    ({"coverage_threshold": "85.5"}, "use a number from 0 to 100", "not a whole number"),
    ({"coverage_threshold": ""}, "use a number from 0 to 100", "not a whole number"),
    ({"update_bot": "dependabot"}, None, "Invalid choice"),
    ({"python_image_tag": "3.12-slim"}, 'use "3.13-slim"', "not a slim tag of Python 3.13"),
    ({"python_image_tag": "3.13"}, 'use "3.13-slim"', "not a slim tag of Python 3.13"),
    ({"python_image_tag": "3.13-slim@sha256:abc"}, 'use "3.13-slim"', "64 hex digits"),
    ({"python_image_tag": "3.13-slim@latest"}, 'use "3.13-slim"', "not a slim tag"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "lead", "why"),
    BAD_ANSWERS,
    ids=[",".join(f"{q}={v!r}" for q, v in answers.items()) for answers, _, _ in BAD_ANSWERS],
)
def test_bad_answer_is_refused_and_nothing_is_written(
    tmp_path: Path, answers: dict[str, Any], lead: str | None, why: str
) -> None:
    question = list(answers)[-1]  # the one refused; any other sets the scene
    dst = tmp_path / "never"
    with pytest.raises(ValueError, match=re.escape(question)) as refused:
        copy_project(dst, **answers)
    assert not dst.exists()
    message = str(refused.value)
    assert re.search(why, message, re.IGNORECASE), message
    if lead is not None:
        # An interactive prompt shows the first line only, after Copier's prefix, cut
        # at the terminal's width: what to type instead must be all there.
        first, _, rest = message.partition("\n")
        assert first == f"Validation error for question '{question}': {lead}"
        assert len(first) <= COLUMNS, first
        assert rest.startswith(f"For '{question}', "), "the why follows"


def test_every_validated_question_has_a_negative_test() -> None:
    refused = {list(answers)[-1] for answers, _, _ in BAD_ANSWERS}
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
        {"docker_command": "gunicorn --forwarded-allow-ips=* factory_app:create_app()"},
        {"docker_command": "streamlit run pages/1_Übersicht.py --server.port=8501"},
        {"docker_command": 'gunicorn pkg:create_app("prod") --log-level=info'},
        {"docker_command": "convert --to text", "docker_entrypoint": True},
        {"docker_port": "8000", "docker_env": "LOG_LEVEL=info URL=http://x/?a=1&b=$2"},
        {"docker_secrets": "BOT_TOKEN DATABASE_URL", "docker_env": "MODE=prod"},
        {"docker_data_dir": "/app/data", "docker_workdir_is_data_dir": True},
        {"docker_data_dir": "/data", "docker_build_steps": True, "database": "postgres"},
        {"smoke_test": "log", "smoke_test_text": "It's {up} and [ready]: 100% $ok"},
        {"author_name": 'Team "A" \\ O\'Brien', "author_email": "o'brien+ops@example.co.uk"},
        {"apt_build_packages": "g++ libstdc++-12-dev", "docker_command": "hello --help"},
        {"coverage_threshold": "0"},
        {"coverage_threshold": "100"},
        {"update_bot": "renovate", "python_image_tag": "3.13-slim@sha256:" + "0123abcd" * 8},
        {"update_bot": "both", "python_image_tag": "3.13.1-slim"},
        {"update_bot": "renovate", "python_version": "3.12", "python_image_tag": "3.12-slim"},
    ],
)
def test_good_answers_pass(tmp_path: Path, answers: dict[str, Any]) -> None:
    dst = copy_project(tmp_path / "p", **answers)
    recorded = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert {key: recorded[key] for key in answers} == answers
