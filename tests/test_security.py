"""Package-index credentials go in as a BuildKit secret, and are found nowhere
afterwards.

An organisation's index stands on loopback (tests/support/package_index.py): it
answers 401 without the credential, and serves, besides the real index's projects, a
wheel of its own that only it has, declared as an explicit Poetry source in the
project. Each strategy builds it with the `netrc` secret; without the secret the build
fails. The credential is then searched for in the plain-progress build log, `docker
history`, `docker image inspect`, the saved image and the max-mode provenance attestation.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from dockerfile_parse import DockerfileParser

from tests.support.docker import SESSION, session_tag
from tests.support.matrix import STRATEGIES
from tests.support.package_index import PackageIndex, netrc
from tests.support.shell import run, unavailable
from tests.support.template import copy_project
from tests.support.workflows import check_schema, load_workflow, zizmor_findings

USER = "ci-user"
SECRET = "s3cret-index-token-4c1d"
PRIVATE = "acme-private-lib"
# The private daemon's own bridge, one per test session: dockerd would delete the
# host's docker0 if told to use none.
BRIDGE = f"pdt-{SESSION}"
BRIDGE_ADDRESS = f"10.213.{int(SESSION, 16) % 250 + 1}.1/24"


@pytest.fixture(scope="session")
def private_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    """The organisation's index, with a wheel this test builds."""
    lib = tmp_path_factory.mktemp("private-lib")
    (lib / "acme_private_lib").mkdir()
    (lib / "acme_private_lib" / "__init__.py").write_text('VALUE = "from the private index"\n')
    (lib / "pyproject.toml").write_text(
        f'[project]\nname = "{PRIVATE}"\nversion = "1.0.0"\n'
        '[build-system]\nrequires = ["poetry-core>=2"]\n'
        'build-backend = "poetry.core.masonry.api"\n'
    )
    run("poetry", "build", "--format", "wheel", cwd=lib)
    with PackageIndex(user=USER, password=SECRET) as index:
        index.add_private(next((lib / "dist").glob("*.whl")))
        yield index


@pytest.fixture(scope="session")
def netrc_file(tmp_path_factory: pytest.TempPathFactory, private_index: PackageIndex) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "netrc"
    path.write_text(netrc(private_index.url, USER, SECRET))
    return path


@pytest.fixture(scope="session")
def private_project(
    locked_project: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
    private_index: PackageIndex,
) -> Callable[[str], Path]:
    """Per strategy, the sample depending on the private wheel from an explicit source.

    Locked once (the source's URL has this session's port in it), with Poetry's own
    per-source credentials, then copied over each strategy's render.
    """
    locked = tmp_path_factory.mktemp("private-locked") / "project"
    shutil.copytree(locked_project(), locked)
    run("poetry", "source", "add", "--priority=explicit", "internal", private_index.private_url,
        cwd=locked)  # fmt: skip
    credentials = {"POETRY_HTTP_BASIC_INTERNAL_USERNAME": USER,
                   "POETRY_HTTP_BASIC_INTERNAL_PASSWORD": SECRET}  # fmt: skip
    run("poetry", "add", "--lock", "--source", "internal", PRIVATE, cwd=locked,
        env={**os.environ, **credentials})  # fmt: skip
    made: dict[str, Path] = {}

    def make(strategy: str) -> Path:
        if strategy not in made:
            project = tmp_path_factory.mktemp(f"private-{strategy}") / "project"
            shutil.copytree(locked_project(docker_strategy=strategy), project)
            for name in ("pyproject.toml", "poetry.lock"):
                shutil.copy2(locked / name, project / name)
            made[strategy] = project
        return made[strategy]

    return make


def build_args(index: PackageIndex, netrc_path: Path | None) -> list[str]:
    """The index URL as a build argument (no credential in it), the credential as the
    `netrc` secret; loopback is reached through the host's network."""
    secret = ["--secret", f"id=netrc,src={netrc_path}"] if netrc_path else []
    return ["--progress=plain", "--network=host", *secret,
            "--build-arg", f"PIP_INDEX_URL={index.url}"]  # fmt: skip


@pytest.fixture(scope="session")
def built(
    docker_engine: str,
    private_project: Callable[[str], Path],
    private_index: PackageIndex,
    netrc_file: Path,
) -> Callable[[str], tuple[str, str]]:
    """Per strategy: the image's tag (this session's) and its build log, built once with
    the secret. The `docker_engine` fixture removes the images at the session's end."""
    made: dict[str, tuple[str, str]] = {}

    def make(strategy: str) -> tuple[str, str]:
        if strategy not in made:
            tag = session_tag(f"private-{strategy}")
            result = run(docker_engine, "build", *build_args(private_index, netrc_file),
                         "--tag", tag, ".", cwd=private_project(strategy))  # fmt: skip
            made[strategy] = (tag, result.stdout + result.stderr)
        return made[strategy]

    return make


@pytest.mark.docker
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_private_package_is_installed_with_the_secret(
    built: Callable[[str], tuple[str, str]], docker_engine: str, strategy: str
) -> None:
    tag, _ = built(strategy)
    script = "import acme_private_lib; print(acme_private_lib.VALUE)"
    found = run(docker_engine, "run", "--rm", tag, "python", "-c", script)
    assert found.stdout == "from the private index\n"


@pytest.mark.docker
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_without_the_secret_the_build_fails_on_401(
    private_project: Callable[[str], Path],
    private_index: PackageIndex,
    docker_engine: str,
    strategy: str,
) -> None:
    """--no-cache: a secret is not part of any cache key, so cached steps would pass."""
    refused_before = private_index.refused
    result = run(docker_engine, "build", *build_args(private_index, None), "--no-cache", ".",
                 cwd=private_project(strategy), check=False)  # fmt: skip
    assert result.returncode != 0
    assert "401" in result.stderr, result.stderr
    assert private_index.refused > refused_before


@pytest.mark.docker
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_credential_is_in_no_log_history_metadata_or_layer(
    built: Callable[[str], tuple[str, str]], docker_engine: str, strategy: str, tmp_path: Path
) -> None:
    tag, log = built(strategy)
    assert "--mount=type=secret,id=netrc" in log, "the steps that download use the secret"
    archive = tmp_path / "image.tar"
    run(docker_engine, "image", "save", "--output", str(archive), tag)
    places = {
        "build log": log.encode(),
        "docker history": run(docker_engine, "history", "--no-trunc", tag).stdout.encode(),
        "docker image inspect": run(docker_engine, "image", "inspect", tag).stdout.encode(),
        **blobs(archive),
    }
    assert [place for place, data in places.items() if SECRET.encode() in data] == []
    assert any(b"acme_private_lib" in data for data in places.values()), "the search reads layers"


# ── Provenance ───────────────────────────────────────────────────────────────


@pytest.fixture(scope="session")
def attesting_docker(docker_engine: str) -> Iterator[list[str]]:
    """A docker command line whose engine can attach attestations to an image.

    The engine's classic image store cannot ("Attestation is not supported for the
    docker driver"); its containerd image store can. If the engine here does not use
    it, a private engine that does is started beside it (root only), given the
    stand-in base image, and stopped at the end.
    """
    status = run(docker_engine, "info", "--format", "{{json .DriverStatus}}").stdout
    if "io.containerd.snapshotter" in status:
        yield [docker_engine]
        return
    dockerd, ip = shutil.which("dockerd"), shutil.which("ip")
    if os.geteuid() != 0 or not dockerd or not ip:
        unavailable("no engine with the containerd image store, and none can be started", "docker")
    home = Path(tempfile.mkdtemp(prefix="pdt-engine-"))
    (home / "daemon.json").write_text('{"features": {"containerd-snapshotter": true}}\n')
    run(ip, "link", "add", BRIDGE, "type", "bridge")
    run(ip, "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE)
    socket = f"unix://{home}/docker.sock"
    daemon = subprocess.Popen(
        [dockerd, "--config-file", str(home / "daemon.json"), "--data-root", str(home / "data"),
         "--exec-root", str(home / "exec"), "--pidfile", str(home / "pid"), "--host", socket,
         "--bridge", BRIDGE, "--iptables=false", "--ip6tables=false"],
        stdout=(home / "log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    docker = [docker_engine, "--host", socket]
    try:
        deadline = time.monotonic() + 60
        while run(*docker, "info", check=False).returncode != 0:
            assert daemon.poll() is None, (home / "log").read_text()
            assert time.monotonic() < deadline, (home / "log").read_text()
            time.sleep(0.5)
        base = subprocess.run([docker_engine, "save", "python:3.13-slim"], capture_output=True,
                              check=True).stdout  # fmt: skip
        subprocess.run([*docker, "load", "--quiet"], input=base, capture_output=True, check=True)
        yield docker
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        run(ip, "link", "delete", BRIDGE, check=False)
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.docker
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_credential_is_not_in_the_provenance(
    attesting_docker: list[str],
    private_project: Callable[[str], Path],
    private_index: PackageIndex,
    netrc_file: Path,
    strategy: str,
    tmp_path: Path,
) -> None:
    """The publish job attaches mode=max provenance, which records every build
    argument: the index URL is there (the control), the secret's value is not."""
    oci = tmp_path / "image.oci.tar"
    result = run(*attesting_docker, "buildx", "build", *build_args(private_index, netrc_file),
                 "--provenance=mode=max", "--output", f"type=oci,dest={oci}", ".",
                 cwd=private_project(strategy))  # fmt: skip
    found = blobs(oci)
    provenance = [data for data in found.values() if b"https://slsa.dev/provenance" in data]
    assert provenance, "the export holds a provenance attestation"
    assert any(private_index.url.encode() in data for data in provenance), "the control"
    log = result.stdout + result.stderr
    assert [place for place, data in found.items() if SECRET.encode() in data] == []
    assert SECRET not in log


# ── A credential typed into the URL ──────────────────────────────────────────


def with_credential(url: str) -> str:
    """The same index URL with the user and the token in it, as many CI set-ups carry it."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{USER}:{SECRET}@{parts.netloc}"))


def build_with_credential_in_url(
    docker: list[str], project: Path, index: PackageIndex, *options: str
) -> tuple[subprocess.CompletedProcess[str], int]:
    """The documented build argument, the credential inside it and no netrc secret:
    the build's result, and how many requests reached the index meanwhile."""
    before = index.requests
    result = run(*docker, "build", "--progress=plain", "--network=host", "--build-arg",
                 f"PIP_INDEX_URL={with_credential(index.url)}", *options, ".",
                 cwd=project, check=False)  # fmt: skip
    return result, index.requests - before


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_step_names_the_index_url(tmp_path: Path, strategy: str) -> None:
    """BuildKit shows a step's command, build arguments expanded, as its title: the index
    URL is read from the environment (ENV), never named in a command."""
    project = copy_project(tmp_path / "p", docker_strategy=strategy, apt_build_packages="gcc")
    names = re.compile(r"PIP_INDEX_URL|UV_DEFAULT_INDEX|POETRY_PYPI_MIRROR_URL")
    naming = [
        (step["instruction"], step["value"].split()[0])
        for step in DockerfileParser(str(project / "Dockerfile")).structure
        if names.search(step["value"])
    ]
    assert naming == [("ARG", "PIP_INDEX_URL"), ("ENV", "PATH=/opt/tools/bin:$PATH")]


@pytest.mark.docker
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_credential_in_the_index_url_stops_the_build_at_its_first_step(
    private_project: Callable[[str], Path],
    private_index: PackageIndex,
    docker_engine: str,
    strategy: str,
) -> None:
    """The tools stage refuses the URL before anything downloads, pointing at the netrc
    secret; the token is in no log line and no image is left. The control is the same
    URL without the credential: `built(strategy)` (the tests above) builds with it."""
    tag = session_tag(f"credential-in-url-{strategy}")
    result, requests = build_with_credential_in_url(
        [docker_engine], private_project(strategy), private_index, "--tag", tag
    )
    log = result.stdout + result.stderr
    assert result.returncode != 0, log
    assert requests == 0, "nothing was downloaded from the index"
    assert "PIP_INDEX_URL holds a user name or password" in log
    assert "as the netrc secret (--secret id=netrc,src=~/.netrc)" in log
    # The failed step: the tools stage's first RUN, which runs `check-index` first.
    failed = re.findall(r"^ERROR: failed to solve: process .*$", log, re.MULTILINE)
    assert len(failed) == 1, log
    assert failed[0].startswith('ERROR: failed to solve: process "/bin/sh -c python /opt/stages '
                                'check-index '), failed[0]  # fmt: skip
    assert re.search(r"^#\d+ \[tools [0-9/]+\] RUN .*check-index", log, re.MULTILINE), log
    assert [line for line in log.splitlines() if SECRET in line] == []
    assert run(docker_engine, "image", "inspect", tag, check=False).returncode != 0


@pytest.mark.docker
def test_a_credential_in_the_index_url_reaches_no_provenance(
    attesting_docker: list[str],
    private_project: Callable[[str], Path],
    private_index: PackageIndex,
    tmp_path: Path,
) -> None:
    """The publish job's export, mode=max provenance and all: with the credential in the
    URL the build stops and exports nothing, so no attestation can record the token.
    (test_the_credential_is_not_in_the_provenance shows that a build that does finish
    records its index URL there: the reason the build must not finish.)"""
    oci = tmp_path / "image.oci.tar"
    result, requests = build_with_credential_in_url(
        attesting_docker, private_project("export"), private_index,
        "--provenance=mode=max", "--output", f"type=oci,dest={oci}",
    )  # fmt: skip
    log = result.stdout + result.stderr
    assert result.returncode != 0, log
    assert requests == 0
    assert "PIP_INDEX_URL holds a user name or password" in log
    assert SECRET not in log
    # buildx opens the destination before the build: it stays empty.
    assert not oci.exists() or oci.stat().st_size == 0, "nothing exported, no attestation"


# ── The generated workflow ───────────────────────────────────────────────────


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_workflow_passes_the_index_url_and_its_secret(tmp_path: Path, strategy: str) -> None:
    """Both build steps take the index URL from a repository variable, as a build
    argument, and the credential from a repository secret, as the `netrc` secret: a
    team sets the two and changes no file; the workflow is schema-valid and zizmor-clean."""
    project = copy_project(tmp_path / "p", docker_strategy=strategy)
    workflow = project / ".github" / "workflows" / "ci.yml"
    check_schema("vendor.github-workflows", workflow)
    assert zizmor_findings(project) == []
    check_schema("vendor.github-workflows", workflow.with_name("release.yml"))
    image = load_workflow(workflow)["jobs"]["image"]
    publish = load_workflow(workflow.with_name("release.yml"))["jobs"]["publish"]
    for job in (image, publish):
        (build,) = [s for s in job["steps"] if s.get("uses", "").startswith(
            "docker/build-push-action@")]  # fmt: skip
        assert build["with"]["secrets"] == "netrc=${{ secrets.PACKAGE_INDEX_NETRC }}\n"
        args = build["with"]["build-args"].splitlines()
        assert "PIP_INDEX_URL=${{ vars.PIP_INDEX_URL }}" in args
        assert not [line for line in args if "secrets." in line], "no secret as an argument"


def blobs(archive: Path) -> dict[str, bytes]:
    """Every file of an image archive (docker save, or an OCI layout), gzip-compressed
    layers decompressed, so that a search sees the files inside each layer."""
    found = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            found[f"{archive.name}:{member.name}"] = data
    return found
