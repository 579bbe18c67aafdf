"""Renovate as the bot (`update_bot`: renovate, or both with the update workflow): the
generated renovate.json is valid to Renovate itself, gives each line one owner, finds
a template release and a new base image, and what it writes survives the next update.

Fast tests read renovate.json. The slow tier installs Renovate from npm (Node 24,
tests/support/renovate.py) and runs it: its validator (`renovate-config-validator
--strict`), and `--platform=local --dry-run=lookup` on a rendered project committed to
git, against a template repository this test tags (`_src_path` a `git+file://` URL,
which Renovate's copier manager accepts) and a registry on loopback
(tests/support/registry.py) that stands in for Docker Hub. PyPI and GitHub lookups are
left out of the dry run (the first would only decide the lock, the second needs a
token). A dry run stops at the lookup: what Renovate would then write is rendered with
its own Handlebars and its copier manager's own command, and run here. The docker tier
builds an image from a digest-pinned Dockerfile. What needs a git host (the pull
requests themselves) is not run.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from tests.support.docker import build_image
from tests.support.git import git, git_save, template_repo
from tests.support.registry import Registry, SavedImage, save_image, synthetic_image
from tests.support.renovate import Renovate, install_renovate, js_regex
from tests.support.shell import run, unavailable
from tests.support.template import answers_of, copy_project, read_toml, tool_versions
from tests.support.updates import change_template, leftovers, render, update

OLD_DIGEST = "sha256:" + "1" * 64
# A workflow a team adds to the template's.
TEAM_WORKFLOW = ".github/workflows/deploy.yml"


def config(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((project / "renovate.json").read_text())
    return loaded


def rules_for(renovate: dict[str, Any], **match: str) -> list[dict[str, Any]]:
    """The packageRules whose match* lists name these values (e.g. managers="poetry")."""
    key = {"managers": "matchManagers", "datasources": "matchDatasources"}
    return [
        rule
        for rule in renovate["packageRules"]
        if all(value in rule.get(key[name], []) for name, value in match.items())
    ]


def names(project: Path) -> list[str]:
    """Every file of a project, by its path in it."""
    return sorted(
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    )


def glob_matches(pattern: str, path: str) -> bool:
    """Renovate's matchFileNames globs (minimatch): `**` spans folders."""
    return fnmatch(path, pattern) or (pattern.endswith("/**") and path.startswith(pattern[:-2]))


# ── renovate.json, read ──────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("answers", "rendered"),
    [
        ({"update_bot": "workflow"}, False),
        ({"update_bot": "renovate"}, True),
        ({"update_bot": "both"}, True),
        ({"update_bot": "renovate", "project_dir": "apps/widget"}, False),
    ],
    ids=["workflow", "renovate", "both", "renovate-in-a-monorepo"],
)
def test_renovate_json_where_renovate_is_the_bot(
    tmp_path: Path, answers: dict[str, Any], rendered: bool
) -> None:
    """In a monorepo the repository's own Renovate configuration is the team's."""
    project = copy_project(tmp_path / "project", **answers)
    assert (project / "renovate.json").exists() is rendered


@pytest.mark.parametrize("update_bot", ["renovate", "both"])
def test_each_line_has_one_owner(tmp_path: Path, update_bot: str) -> None:
    """Renovate owns poetry.lock, the team's workflows and the base image's digest; the
    template owns its own files and the constraints; template releases come from
    Renovate's copier manager, or, with both, from the update workflow alone."""
    project = copy_project(tmp_path / "project", update_bot=update_bot)
    renovate = config(project)
    copier = ["copier"] if update_bot == "renovate" else []
    assert renovate["enabledManagers"] == [*copier, "poetry", "github-actions", "custom.regex"]
    # poetry.lock only, never pyproject.toml; requires-python is the template's.
    assert [r["rangeStrategy"] for r in rules_for(renovate, managers="poetry")
            if "rangeStrategy" in r] == ["in-range-only"]  # fmt: skip
    assert {"matchDepNames": ["python"], "enabled": False}.items() <= (
        next(r for r in rules_for(renovate, managers="poetry") if "matchDepNames" in r).items()
    )
    assert renovate["lockFileMaintenance"]["enabled"] is True
    # The template's files under .github/ are left alone, a team's workflow is not.
    (actions,) = rules_for(renovate, managers="github-actions")
    assert actions["enabled"] is False
    rendered = [name for name in names(project) if name.startswith(".github/")]
    assert ".github/workflows/ci.yml" in rendered
    for path in rendered:
        assert any(glob_matches(g, path) for g in actions["matchFileNames"]), path
    assert not any(glob_matches(g, TEAM_WORKFLOW) for g in actions["matchFileNames"])
    # The tools Renovate runs are the template's.
    versions = tool_versions()
    assert renovate["constraints"] == {
        "copier": f"=={versions['copier']}", "poetry": f"=={versions['poetry']}",
    }  # fmt: skip


def test_the_base_image_stays_on_the_projects_python(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project", update_bot="renovate", python_version="3.12")
    (image,) = rules_for(config(project), datasources="docker")
    assert image["groupName"] == "python base image", "answer and Dockerfile together"
    assert image["pinDigests"] is True
    allowed = js_regex(image["allowedVersions"].strip("/"))
    assert [tag for tag in ["3.12-slim", "3.12.7-slim", "3.13-slim", "3.12-alpine", "3.12"]
            if allowed.search(tag)] == ["3.12-slim", "3.12.7-slim"]  # fmt: skip


@pytest.mark.parametrize(
    "tag", ["3.13-slim", f"3.13-slim@{OLD_DIGEST}", f"3.13.1-slim@{OLD_DIGEST}"]
)
def test_both_custom_managers_match_the_lines_the_template_renders(
    tmp_path: Path, tag: str
) -> None:
    """One regex per file, each finding the tag and digest the answer recorded."""
    project = copy_project(tmp_path / "project", update_bot="renovate", python_image_tag=tag)
    value, _, digest = tag.partition("@")
    found = {}
    for manager in config(project)["customManagers"]:
        (pattern,) = manager["managerFilePatterns"]
        (path,) = [name for name in names(project) if js_regex(pattern.strip("/")).search(name)]
        (match_string,) = manager["matchStrings"]
        (match,) = js_regex(match_string).finditer((project / path).read_text())
        found[path] = (match["currentValue"], match["currentDigest"] or "")
        assert (manager["depNameTemplate"], manager["datasourceTemplate"]) == ("python", "docker")
    assert found == {".copier-answers.yml": (value, digest), "Dockerfile": (value, digest)}


# ── Renovate, run ────────────────────────────────────────────────────────────


@pytest.fixture(scope="session")
def renovate() -> Renovate:
    if shutil.which("npm") is None:
        unavailable("npm is not on PATH: it installs Renovate and Node 24", "slow")
    return install_renovate()


@pytest.mark.slow
@pytest.mark.parametrize("update_bot", ["renovate", "both"])
def test_renovates_validator_accepts_the_config(
    renovate: Renovate, tmp_path: Path, update_bot: str
) -> None:
    project = copy_project(tmp_path / "project", update_bot=update_bot)
    done = renovate.validate(project, tmp_path / "home")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Config validated successfully" in done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        ("no-datasource", "must contain datasourceTemplate"),
        ("unknown-manager", "not supported"),
        ("old-option", "Config migration necessary"),
    ],
)
def test_renovates_validator_refuses_a_broken_config(
    renovate: Renovate, tmp_path: Path, breakage: str, complaint: str
) -> None:
    """The control: the validator does fail, on what it checks."""
    project = copy_project(tmp_path / "project", update_bot="renovate")
    broken = config(project)
    if breakage == "no-datasource":
        del broken["customManagers"][0]["datasourceTemplate"]
    elif breakage == "unknown-manager":
        broken["enabledManagers"].append("dependabot")
    else:  # the option managerFilePatterns replaced
        manager = broken["customManagers"][0]
        manager["fileMatch"] = [manager.pop("managerFilePatterns")[0].strip("/")]
    (project / "renovate.json").write_text(json.dumps(broken))
    done = renovate.validate(project, tmp_path / "home")
    assert done.returncode != 0
    assert complaint in done.stdout + done.stderr


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SavedImage]:
    """Tags of `python` as the loopback registry serves them, each its own digest."""
    folder = tmp_path_factory.mktemp("images")
    return {tag: synthetic_image(folder / tag, tag)
            for tag in ["3.13-slim", "3.13.0-slim", "3.13.1-slim", "3.14-slim"]}  # fmt: skip


@pytest.fixture(scope="module")
def registry(images: dict[str, SavedImage]) -> Iterator[Registry]:
    served = Registry(images)
    yield served
    served.stop()


def dry_run_config(registry: Registry) -> dict[str, Any]:
    """The global config of a dry run: Docker Hub is the loopback registry; no PyPI."""
    return {
        "hostRules": [{"matchHost": registry.host, "allowInternal": True}],
        "packageRules": [
            {"matchDatasources": ["docker"], "registryUrls": [f"http://{registry.host}"]},
            {"matchDatasources": ["pypi"], "enabled": False},
        ],
    }


def updates_of(found: dict[str, list[dict[str, Any]]], manager: str) -> dict[str, Any]:
    """{package file: [(updateType, newValue, newDigest, branchName), ...]}."""
    return {
        package["packageFile"]: [
            (u["updateType"], u.get("newValue"), u.get("newDigest"), u["branchName"])
            for dep in package["deps"]
            for u in dep.get("updates", [])
        ]
        for package in found.get(manager, [])
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("update_bot", "tag", "expected"),
    [
        ("renovate", f"3.13-slim@{OLD_DIGEST}", ("digest", "3.13-slim")),
        ("renovate", f"3.13.0-slim@{OLD_DIGEST}", ("patch", "3.13.1-slim")),
        ("both", "3.13-slim", ("pinDigest", "3.13-slim")),
    ],
    ids=["new-digest", "new-patch-tag-and-digest", "first-pin"],
)
def test_dry_run_finds_the_release_and_the_image(
    renovate: Renovate,
    registry: Registry,
    images: dict[str, SavedImage],
    tmp_path: Path,
    update_bot: str,
    tag: str,
    expected: tuple[str, str],
) -> None:
    """Renovate's lookup: the template's newest tag (copier manager, Renovate alone),
    and the base image in the answers file and the Dockerfile, in one branch, never
    another Python's (3.14-slim is served too)."""
    template = template_repo(tmp_path / "template")
    change_template(template)  # v2.0.0
    project = render(f"git+file://{template}", tmp_path / "project", vcs_ref="v1.0.0",
                     update_bot=update_bot, python_image_tag=tag)  # fmt: skip

    found = renovate.lookup(project, tmp_path / "home", dry_run_config(registry))

    update_type, value = expected
    image = (update_type, value, images[value].digest, "renovate/python-base-image")
    found_images = updates_of(found, "regex")
    assert set(found_images) == {".copier-answers.yml", "Dockerfile"}
    for file, proposed in found_images.items():
        # One branch. Where a newer patch tag comes with a new digest of the current
        # tag, both are listed; the branch keeps the first (Renovate's branchify drops
        # the later one as an "upgrade collision"): the new tag with its digest.
        assert proposed[0] == image, file
        assert {branch for *_, branch in proposed} == {"renovate/python-base-image"}
        assert len(proposed) == (2 if update_type == "patch" else 1), proposed
        assert not [u for u in proposed if u[1].startswith("3.14")], "another Python"
    releases = updates_of(found, "copier")
    if update_bot == "renovate":
        (release,) = releases[".copier-answers.yml"]
        assert release[:2] == ("major", "v2.0.0")
    else:
        assert releases == {}, "with both, template releases are the workflow's"


def renovate_writes(renovate: Renovate, project: Path, new_value: str, new_digest: str,
                    *, only: str | None = None) -> None:  # fmt: skip
    """Apply the image update as Renovate does: each custom manager's match replaced by
    its autoReplaceStringTemplate, rendered with Renovate's Handlebars. `only`: one file."""
    for manager in config(project)["customManagers"]:
        (pattern,) = manager["managerFilePatterns"]
        for name in names(project):
            if not js_regex(pattern.strip("/")).search(name) or only not in (None, name):
                continue
            path = project / name
            (match,) = js_regex(manager["matchStrings"][0]).finditer(path.read_text())
            values = {"newValue": new_value, "newDigest": new_digest}
            written = renovate.handlebars(manager["autoReplaceStringTemplate"], values)
            path.write_text(path.read_text().replace(match[0], written))


@pytest.mark.slow
@pytest.mark.parametrize("written", ["both-files", "answers-file-only"])
def test_renovates_digest_survives_the_next_template_update(
    renovate: Renovate, tmp_path: Path, written: str
) -> None:
    """Renovate writes the new digest into the answer and the Dockerfile's line, in one
    commit; the next template release keeps both, with no conflict.

    The control is the answer alone: Copier renders the project's version anew with
    the recorded answers and takes every difference from that as the team's edit, so
    the Dockerfile keeps the old digest, update after update, while the answers file
    claims the new one (docs/decisions/0018-base-image-digest-in-an-answer.md).
    """
    new_digest = "sha256:" + "2" * 64
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project", update_bot="renovate",
                     python_image_tag=f"3.13-slim@{OLD_DIGEST}")  # fmt: skip
    only = ".copier-answers.yml" if written == "answers-file-only" else None
    renovate_writes(renovate, project, "3.13-slim", new_digest, only=only)
    git_save(project, "Update python base image (Renovate)")
    change_template(template)

    update(project)

    assert answers_of(project)["_commit"] == "v2.0.0"
    assert answers_of(project)["python_image_tag"] == f"3.13-slim@{new_digest}"
    assert leftovers(project) == []
    arg = re.search(r"^ARG PYTHON_IMAGE=python:(.*)$", (project / "Dockerfile").read_text(), re.M)
    assert arg
    assert arg[1] == f"3.13-slim@{new_digest if written == 'both-files' else OLD_DIGEST}"


@pytest.mark.slow
def test_renovates_copier_update_needs_no_trust_and_leaves_the_lock(
    renovate: Renovate, tmp_path: Path, locked_project: Callable[..., Path]
) -> None:
    """The command Renovate's copier manager runs, read from its source (`--trust` only
    with the self-hosted `allowScripts`): it updates to the release, and, like any
    update, leaves poetry.lock as it was; Renovate does not re-lock (that needs the
    self-hosted postUpgradeTasks), so CI's lock check stays red until `poetry lock`."""
    command = renovate.copier_command()
    assert command[:4] == ["copier", "update", "--skip-answered", "--defaults"]
    template = template_repo(tmp_path / "template")
    project = render(template, tmp_path / "project", update_bot="renovate")
    locked = locked_project()
    assert (project / "pyproject.toml").read_text() == (locked / "pyproject.toml").read_text()
    shutil.copy2(locked / "poetry.lock", project / "poetry.lock")
    git_save(project, "Locked")
    manifest = (
        template
        / "template"
        / "{{ project_dir }}"
        / "{% if starter %}pyproject.toml{% endif %}.jinja"
    )
    manifest.write_text(
        manifest.read_text().replace("dependencies = []", 'dependencies = ["idna>=3.7"]')
    )
    git_save(template, "Template v2: idna", tag="v2.0.0")

    run(*command, "--answers-file", ".copier-answers.yml", "--vcs-ref", "v2.0.0", cwd=project)

    assert answers_of(project)["_commit"] == "v2.0.0"
    assert read_toml(project / "pyproject.toml")["project"]["dependencies"] == ["idna>=3.7"]
    assert leftovers(project) == []
    assert git(project, "diff", "--name-only", "poetry.lock") == ""
    assert run("poetry", "check", "--lock", cwd=project, check=False).returncode != 0


# ── A digest-pinned base image, built ───────────────────────────────────────


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("right_digest", [True, False], ids=["its-digest", "another-digest"])
def test_a_digest_pinned_dockerfile_builds(
    docker_engine: str,
    tmp_path: Path,
    locked_project: Callable[..., Path],
    right_digest: bool,
) -> None:
    """`ARG PYTHON_IMAGE=python:3.13-slim@sha256:...`, as Renovate pins it, builds.

    The stand-in has no repository digest (it was never pulled), and BuildKit resolves
    a digest only from a registry. So the test serves the stand-in from the loopback
    registry (`docker save`: its manifest's digest is the digest) and maps the
    Dockerfile's exact reference to it (`--build-context <reference>=docker-image://
    <loopback>/library/python@<digest>`): BuildKit fetches the manifest by that digest
    and checks it. The rendered Dockerfile is used as it is; another digest fails.
    """
    saved = save_image(docker_engine, "python:3.13-slim", tmp_path / "saved")
    registry = Registry({"3.13-slim": saved})
    try:
        digest = saved.digest if right_digest else OLD_DIGEST
        reference = f"python:3.13-slim@{digest}"
        project = copy_project(tmp_path / "project", update_bot="renovate",
                               python_image_tag=f"3.13-slim@{digest}")  # fmt: skip
        assert f"ARG PYTHON_IMAGE={reference}\n" in (project / "Dockerfile").read_text()
        shutil.copy2(locked_project() / "poetry.lock", project / "poetry.lock")
        context = f"{reference}=docker-image://{registry.host}/library/python@{digest}"
        if right_digest:
            image = build_image(project, "digest-pinned", "--build-context", context)
            assert image.run().stdout == "Hello, World!\n"
            assert f"/library/python@{digest}" in image.log
        else:
            with pytest.raises(AssertionError, match=f"python@{digest}: not found"):
                build_image(project, "digest-pinned-wrong", "--build-context", context)
    finally:
        registry.stop()
