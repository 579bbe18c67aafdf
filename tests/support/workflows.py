"""GitHub workflows, read: parsed YAML, steps and the actions they use, the verified pin
of every action; checked by their JSON schemas and zizmor; and the image job's checks,
run on this machine as a runner runs them."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.support.shell import run

# Every action the workflows use: the commit each is pinned to, and that commit's tag.
# Each commit was read from the action's own repository as `git rev-parse TAG^{commit}`
# (the commit a tag points at, through an annotated tag if there is one). A new
# version goes here and into every workflow at once.
PINS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "docker/setup-buildx-action": ("37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
    "docker/setup-qemu-action": ("96fe6ef7f33517b61c61be40b68a1882f3264fb8", "v4.2.0"),
    "docker/build-push-action": ("53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0"),
    "docker/login-action": ("4907a6ddec9925e35a0a9e82d7399ccc52663121", "v4.1.0"),
    "docker/metadata-action": ("dc802804100637a589fabce1cb79ff13a1411302", "v6.2.0"),
    "actions/create-github-app-token": ("1b10c78c7865c340bc4f6099eb2f838309f1e8c3", "v3.1.1"),
    "peter-evans/create-pull-request": ("5f6978faf089d4d20b00c7766989d076bb2fc7f1", "v8.1.1"),
    "actions/attest": ("1e69f48acb82d1966a394da916b4c1698aa569d6", "v4.2.2"),
}

# `uses: owner/repo@<40 hex> # vX.Y.Z`, exactly: the form Dependabot keeps up to date.
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<target>\S+)(?P<comment>.*)$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40})$")
TAG_COMMENT = re.compile(r"^ # (?P<tag>v\d+\.\d+\.\d+)$")


# ── Reading workflows ────────────────────────────────────────────────────────


def load_workflow(path: Path) -> dict[str, Any]:
    """The parsed workflow, with `on:` under "on" (YAML 1.1 reads the key as True)."""
    workflow: dict[Any, Any] = yaml.safe_load(path.read_text())
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def ci_workflow(repository: Path) -> Path:
    """The generated CI workflow: ci.yml, or <slug>-ci.yml for a project in a monorepo."""
    workflows = repository / ".github" / "workflows"
    if (workflows / "ci.yml").is_file():
        return workflows / "ci.yml"
    (found,) = workflows.glob("*-ci.yml")
    return found


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = job.get("steps", [])
    return found


def action_of(step: dict[str, Any]) -> str | None:
    return step["uses"].split("@")[0] if "uses" in step else None


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in steps(job) if action_of(step) == action]


def the_step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    found = steps_using(job, action)
    assert len(found) == 1, f"expected one {action} step, found {len(found)}"
    return found[0]


def scripts(job: dict[str, Any]) -> str:
    """Every `run:` script of a job, one after another."""
    return "\n".join(step["run"] for step in steps(job) if "run" in step)


def all_steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in workflow["jobs"].items():
        for step in steps(job):
            yield name, step


def pins_in(path: Path) -> list[tuple[str, str, str]]:
    """(action, sha, tag) of every `uses:` line, failing on one not in the pinned form."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not (match := USES_LINE.match(line)):
            continue
        target, comment = match["target"], match["comment"]
        if target.startswith(("./.github/actions/", "./.github/workflows/")):
            continue  # the repository's own action or workflow, at this commit
        pinned, tagged = PINNED.match(target), TAG_COMMENT.match(comment)
        form = "`owner/repo@<40-hex sha> # vX.Y.Z`"
        assert pinned, f"{path.name}:{number}: `{line.strip()}` is not {form}"
        assert tagged, f"{path.name}:{number}: `{line.strip()}` is not {form}"
        found.append((pinned["action"], pinned["sha"], tagged["tag"]))
    return found


# ── Checking them ────────────────────────────────────────────────────────────


def zizmor_findings(*inputs: Path) -> list[dict[str, Any]]:
    """zizmor's offline audits at default settings; no config file, so nothing is muted."""
    result = run("zizmor", "--offline", "--no-config", "--format", "json", *inputs, check=False)
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    assert (result.returncode, findings) == (0, []), (
        f"zizmor exited {result.returncode}:\n{json.dumps(findings, indent=2)}\n{result.stderr}"
    )
    return findings


def check_schema(schema: str, *files: Path) -> None:
    run("check-jsonschema", "--builtin-schema", schema, *files)


# ── The image job's checks, run ──────────────────────────────────────────────


def image_checks(project: Path) -> list[dict[str, Any]]:
    """The steps with a `run:` script that follow the image job's build."""
    job = load_workflow(ci_workflow(project))["jobs"]["image"]
    names = [action_of(step) for step in steps(job)]
    after = steps(job)[names.index("docker/build-push-action") + 1 :]
    return [step for step in after if "run" in step]


def run_checks(project: Path, cwd: Path, env: dict[str, str]) -> list[int]:
    """Each check as GitHub runs it, `shell: bash` being bash --noprofile --norc -eo
    pipefail, with the workflow's, the job's and the step's env, in the repository at
    `project` (the smoke test is a script of it): the smoke test's exit code, then the
    non-root check's."""
    workflow = load_workflow(ci_workflow(project))
    job = workflow["jobs"]["image"]
    codes = []
    for step in image_checks(project):
        assert "if" not in step, "every check runs"
        variables = {**workflow["env"], **job.get("env", {}), **step.get("env", {})}
        result = run(
            "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"], cwd=cwd,
            env={**os.environ, **variables, "GITHUB_WORKSPACE": str(project), **env},
            check=False,
        )  # fmt: skip
        codes.append(result.returncode)
    return codes
