"""The questionnaire in a real terminal of 80 columns: every help text, every choice and
an error message are readable in full.

Copier (through questionary and prompt_toolkit) prints each help text on one line and
each choice on one line, and shows a refused answer's message in a one-line toolbar,
all cut at the terminal's width. This test runs `copier copy` as a user would, in a
pseudo-terminal (pexpect), renders what it prints as a terminal would (pyte), answers
every question, one of them wrongly first, and looks for each text as a whole line.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect
import pyte
import pytest
import yaml

from tests.support.template import ROOT, answers_of

COLUMNS, ROWS = 80, 24
QMARK = "🎤 "  # Copier's prompt decoration: 2 columns and a space
# Asked with the answers this test gives: not the computed values (`when: false`), nor
# what an empty docker_data_dir leaves out.
NOT_ASKED = {"docker_workdir_is_data_dir"}
QUESTIONS: dict[str, dict[str, Any]] = {
    name: question
    for name, question in yaml.safe_load((ROOT / "copier.yml").read_text()).items()
    if not name.startswith("_") and question.get("when") is not False and name not in NOT_ASKED
}
DOWN, ENTER, CLEAR_LINE = "\x1b[B", "\r", "\x15"
# Keys per question (Enter alone takes the default); package_name is answered wrongly
# first, see below; Renovate, so that the base image's tag is asked too.
KEYS = {"project_name": "Acme Widget Service\r", "license": DOWN + ENTER,
        "update_bot": DOWN + ENTER}  # fmt: skip
WRONG_PACKAGE_NAME = "My-Pkg"
ERROR_LINE = "Validation error for question 'package_name': use \"my_pkg\""


class Terminal:
    """A program in a pseudo-terminal and the screen a terminal would show of it."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.ended = False
        self.child: pexpect.spawn[bytes] = pexpect.spawn(  # no encoding: reads bytes
            argv[0], argv[1:], cwd=str(cwd), env=env, dimensions=(ROWS, COLUMNS)
        )

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def read(self, seconds: float) -> None:
        try:
            self.stream.feed(self.child.read_nonblocking(65536, timeout=seconds))
        except pexpect.TIMEOUT:
            pass
        except pexpect.EOF:
            self.ended = True

    def wait_for(self, seen: Callable[[list[str]], bool], what: str, timeout: float) -> None:
        """Read until the screen shows what is wanted; else fail, showing the screen."""
        deadline = time.monotonic() + timeout
        while not seen(self.lines()):
            if self.ended or time.monotonic() > deadline:
                screen = "\n".join(f"|{line}" for line in self.lines())
                state = "the program ended" if self.ended else f"{timeout} s passed"
                pytest.fail(f"{state} before the screen showed {what}:\n{screen}")
            self.read(0.1)

    def wait_for_line(self, line: str, timeout: float = 20) -> None:
        self.wait_for(lambda lines: line in lines, repr(line), timeout)

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def close(self) -> int | None:
        while not self.ended:
            self.read(1)
        self.child.close()
        return self.child.exitstatus


@pytest.fixture
def terminal(tmp_path: Path) -> Any:
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        # No cursor-position requests: pyte cannot answer them.
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    argv = [sys.executable, "-m", "copier", "copy", "--vcs-ref", "HEAD"]
    term = Terminal([*argv, str(ROOT), str(tmp_path / "acme")], tmp_path, env)
    yield term
    term.child.close(force=True)


def choice_lines(labels: list[str]) -> Callable[[list[str]], bool]:
    """Every label on a line of its own: "   label", or " » label" for the selected one."""
    return lambda lines: all(f"   {label}" in lines or f" » {label}" in lines for label in labels)


def test_every_help_choice_and_error_is_readable_in_80_columns(
    terminal: Terminal, tmp_path: Path
) -> None:
    for name, question in QUESTIONS.items():
        first = name == next(iter(QUESTIONS))  # Copier clones the template first
        terminal.wait_for_line(QMARK + question["help"], timeout=60 if first else 20)
        if "choices" in question:
            labels = [str(label) for label in question["choices"]]
            terminal.wait_for(choice_lines(labels), f"the choices {labels}", timeout=10)
        if name == "package_name":
            terminal.send(CLEAR_LINE + WRONG_PACKAGE_NAME + ENTER)
            terminal.wait_for_line(ERROR_LINE, timeout=10)
            terminal.send(CLEAR_LINE + "acme_widget" + ENTER)
        else:
            terminal.send(KEYS.get(name, ENTER))

    terminal.wait_for_line("  poetry install && poetry run hello", timeout=60)
    assert terminal.close() == 0
    answers = answers_of(tmp_path / "acme")
    assert (answers["package_name"], answers["license"]) == ("acme_widget", "MIT")
    assert answers["update_bot"] == "renovate"
    assert answers["project_slug"] == "acme-widget-service"
