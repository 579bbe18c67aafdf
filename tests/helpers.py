"""Plain helpers for the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# A credential as an organisation's index URL would carry it; tests assert that it
# never reaches an image. PyPI ignores it.
INDEX_SECRET = "s3cret-index-token"


def package_index_url() -> str:
    """The package index to use: $PIP_INDEX_URL, else PyPI's simple index as pip knows it.

    Read at run time so no registry address is ever written into the repository.
    """
    if url := os.environ.get("POETRY_PYPI_MIRROR_URL") or os.environ.get("PIP_INDEX_URL"):
        return url
    from pip._internal.models.index import PyPI

    return PyPI.simple_url


def index_url_with_credentials() -> str:
    """The package index URL with a user and a secret in it, as Artifactory wants."""
    parts = urlsplit(package_index_url())
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"ci-user:{INDEX_SECRET}@{host}"))


def path_without_poetry() -> str:
    """$PATH without the folders that hold a `poetry` executable."""
    return os.pathsep.join(
        folder
        for folder in os.environ["PATH"].split(os.pathsep)
        if not (Path(folder) / "poetry").exists()
    )


def run(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    check: bool = True,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output; on failure show what it printed."""
    result = subprocess.run(
        [os.fspath(arg) for arg in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def read_toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


def answers_of(project: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((project / ".copier-answers.yml").read_text())


@dataclass(frozen=True)
class Image:
    """A built image and the plain-progress log of its build."""

    tag: str
    project: Path
    log: str

    def run(self, *args: str, docker_args: tuple[str, ...] = (), check: bool = True):
        return run("docker", "run", "--rm", *docker_args, self.tag, *args, check=check)


def build_image(project: Path, tag: str, *extra: str, index_url: str | None = None) -> Image:
    """`docker build` a project with plain progress; the index URL carries a credential."""
    result = run(
        "docker",
        "build",
        "--progress=plain",
        "--build-arg",
        f"PIP_INDEX_URL={index_url or index_url_with_credentials()}",
        "--tag",
        tag,
        *extra,
        ".",
        cwd=project,
    )
    return Image(tag=tag, project=project, log=result.stderr + result.stdout)


class RecordingIndex:
    """A package index on loopback that forwards to the real one and records what is asked.

    Builds reach it with `docker build --network=host`. Its URL carries a user and
    INDEX_SECRET, like an organisation's Artifactory URL, so tests can also prove
    that the credential never reaches an image.
    """

    def __init__(self) -> None:
        self.upstream = package_index_url().rstrip("/") + "/"
        self.requested: set[str] = set()
        index = self

        class Forward(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.strip("/").split("/")[-1]
                index.requested.add(name.lower().replace("_", "-").replace(".", "-"))
                request = urllib.request.Request(
                    index.upstream + self.path.removeprefix("/simple/").lstrip("/"),
                    headers={"Accept": self.headers.get("Accept", "text/html")},
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status, body = response.status, response.read()
                        content_type = response.headers.get("Content-Type", "text/html")
                except urllib.error.HTTPError as error:
                    status, body, content_type = error.code, b"", "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self.server.server_address[1]
        return f"http://ci-user:{INDEX_SECRET}@127.0.0.1:{port}/simple/"

    def __enter__(self) -> RecordingIndex:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
