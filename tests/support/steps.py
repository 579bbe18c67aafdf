"""Run a workflow job's `run:` steps on this machine, as a GitHub runner runs them.

act runs whole jobs (tests/support/act.py), but not one whose actions need GitHub
itself: an App token, a pull request. Here the job's `run:` steps run for real, in
order, in a directory the test prepared (a clone standing in for actions/checkout):

- each with `bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`), the
  workflow's, the job's and the step's `env:`, and $GITHUB_OUTPUT, $RUNNER_TEMP,
  $GITHUB_WORKSPACE (the directory given, the checkout) and $GITHUB_WORKFLOW, in the
  workflow's `defaults.run.working-directory` if it has one;
- `${{ }}` in a step's `env:` and its `if:` are evaluated: `steps.<id>.outputs.<name>`
  from the earlier steps' outputs, anything else from the values the test gives;
- a step that `uses:` an action does not run: its result says whether it would
  have, and its outputs are the test's values. So are the steps the test skips by
  name (an install the test environment has already made);
- a failing step ends the job, as on GitHub (later steps' `if:` holds `success()`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.shell import run
from tests.support.workflows import load_workflow

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
STEP_OUTPUT = re.compile(r"^steps\.([\w-]+)\.outputs\.([\w-]+)$")
# The only conditions the workflows use: comparisons of a step's output, and-ed.
COMPARISON = re.compile(r"^steps\.([\w-]+)\.outputs\.([\w-]+) (==|!=) '([^']*)'$")
# The lint job's first check, by its name.
CONFLICT_CHECK = "No conflict markers, no .rej files"


@dataclass
class StepResult:
    """One step: whether it ran (or, for an action, would have), and what it left."""

    index: int
    name: str
    condition_met: bool
    ran: bool = False
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


def read_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for value in lines:
                if value == delimiter:
                    break
                block.append(value)
            outputs[name] = "\n".join(block)
        elif line:
            name, _, value = line.partition("=")
            outputs[name] = value
    return outputs


class Job:
    """A job of a workflow file, its steps run one after another by run()."""

    def __init__(self, workflow: Path, name: str) -> None:
        self.workflow = load_workflow(workflow)
        self.name = name
        self.job = self.workflow["jobs"][name]
        self.steps: list[dict[str, Any]] = self.job["steps"]

    def step_named(self, name: str) -> dict[str, Any]:
        (step,) = [step for step in self.steps if step.get("name") == name]
        return step

    def run(
        self,
        cwd: Path,
        runner_temp: Path,
        *,
        values: dict[str, str] | None = None,
        skip: tuple[str, ...] = (),
        only: str | None = None,
        env: dict[str, str] | None = None,
    ) -> dict[str, StepResult]:
        """Every step in order; results by step id (or name, for a step without one).

        runner_temp is $RUNNER_TEMP: what the steps write there stays for the test.
        skip: steps not to run, by name; only: the one step to run, by name.
        """
        values = values or {}
        results: dict[str, StepResult] = {}
        failed = False
        runner_temp.mkdir(parents=True, exist_ok=True)
        for index, step in enumerate(self.steps):
            key = step.get("id") or step.get("name") or step["uses"].split("@")[0]
            # With `only`, another step's `if:` is not evaluated: that step does not run.
            other = only not in (None, step.get("name", key))
            met = not failed and (other or self.condition(step.get("if"), results, values))
            result = StepResult(index, step.get("name", key), met)
            results[key] = result
            if not met:
                continue
            if "uses" in step or result.name in skip or other:
                prefix = f"steps.{key}.outputs."
                result.outputs = {
                    name.removeprefix(prefix): value
                    for name, value in values.items()
                    if name.startswith(prefix)
                }
                continue
            step_env = {
                name: self.evaluate(str(value), results, values)
                for name, value in step.get("env", {}).items()
            }
            self.execute(step, result, cwd, runner_temp, {**(env or {}), **step_env})
            failed = result.returncode != 0
        return results

    def execute(
        self, step: dict[str, Any], result: StepResult, cwd: Path, temp: Path, env: dict[str, str]
    ) -> None:
        output = temp / f".output-{result.index}"
        output.touch()
        full_env = {
            **os.environ,
            **{k: str(v) for k, v in self.workflow.get("env", {}).items()},
            **{k: str(v) for k, v in self.job.get("env", {}).items()},
            "RUNNER_TEMP": str(temp),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_WORKSPACE": str(cwd),
            "GITHUB_WORKFLOW": str(self.workflow.get("name", "")),
            **env,
        }
        folder = self.workflow.get("defaults", {}).get("run", {}).get("working-directory", ".")
        completed = run(
            "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"],
            cwd=cwd / folder, env=full_env, check=False,
        )  # fmt: skip
        result.ran = True
        result.returncode = completed.returncode
        result.stdout, result.stderr = completed.stdout, completed.stderr
        result.outputs = read_outputs(output)

    def evaluate(self, text: str, results: dict[str, StepResult], values: dict[str, str]) -> str:
        """`${{ expression }}` in a value, replaced by what it names."""
        return EXPRESSION.sub(lambda match: self.value(match[1], results, values), text)

    def value(self, name: str, results: dict[str, StepResult], values: dict[str, str]) -> str:
        if output := STEP_OUTPUT.match(name):
            step, key = output.groups()
            assert step in results, f"`{name}` names no earlier step"
            return results[step].outputs.get(key, "")
        assert name in values, f"the test gives no value for `${{{{ {name} }}}}`"
        return values[name]

    def condition(
        self, condition: str | None, results: dict[str, StepResult], values: dict[str, str]
    ) -> bool:
        if condition is None:
            return True
        met = True
        for part in condition.split(" && "):
            comparison = COMPARISON.match(part.strip())
            assert comparison, f"cannot evaluate `if: {condition}`"
            step, key, operator, expected = comparison.groups()
            actual = self.value(f"steps.{step}.outputs.{key}", results, values)
            met = met and ((actual == expected) == (operator == "=="))
        return met


def conflict_check(project: Path, script: Path | None = None) -> StepResult:
    """CI's conflict check, `.github/scripts/conflict-check.sh`, run in the project as
    the lint job's step runs it (from the project's folder, the workspace's root here).

    script: the script to run, when the project's own holds markers (a template update
    that changed it where the team did: GitHub would run it and fail on its syntax).
    """
    script = script or project / ".github" / "scripts" / "conflict-check.sh"
    done = run("bash", "--noprofile", "--norc", "-eo", "pipefail", script, cwd=project, check=False)
    return StepResult(0, CONFLICT_CHECK, True, True, done.returncode, done.stdout, done.stderr)
