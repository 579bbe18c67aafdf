"""Package indexes on loopback for the docker tier: builds reach them with
`docker build --network=host`.

PackageIndex forwards PEP 503/691 simple pages to the real index and records which
projects a build asked for. Like an organisation's proxy index, it serves the files
too: the pages' absolute file links point back at it (/files/<host>/<path>), so a
build whose other egress is cut (`CUT_EGRESS`) still gets every file. Given
credentials, every request without them gets 401, and it serves wheels of its own,
which no other index has, under /private/simple/ (a second Poetry source).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.shell import package_index_url

# An absolute link in a simple page (HTML href or PEP 691 "url"), to serve it from here.
FILE_LINK = re.compile(rb"https://([A-Za-z0-9.-]+)/")
# Build arguments that send every other download of pip, uv and Poetry to a closed port:
# Docker passes the proxy variables to RUN steps without an ARG, and keeps them out of
# the image's history.
CUT_EGRESS = [
    f"--build-arg={name}={value}"
    for variable, value in (("HTTP_PROXY", "http://127.0.0.1:9"),
                            ("HTTPS_PROXY", "http://127.0.0.1:9"), ("NO_PROXY", "127.0.0.1"))
    for name in (variable, variable.lower())
]  # fmt: skip


class PackageIndex:
    """A PEP 503 index on 127.0.0.1: /simple/ forwarded, /private/simple/ its own."""

    def __init__(self, *, user: str | None = None, password: str | None = None) -> None:
        self.upstream = package_index_url().rstrip("/") + "/"
        self.requested: set[str] = set()
        self.files: set[str] = set()  # the file names served through /files/
        self.refused = 0
        self.requests = 0  # every request, answered or refused
        self.private: dict[str, Path] = {}  # wheel file name -> path
        expected = (
            "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            if user is not None
            else None
        )
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                """uv asks for a wheel's size before it reads its metadata."""
                self.head_only = True
                self.do_GET()

            def do_GET(self) -> None:
                index.requests += 1
                if expected and self.headers.get("Authorization") != expected:
                    index.refused += 1
                    self.reply(401, b"credentials needed", "text/plain",
                               {"WWW-Authenticate": 'Basic realm="test index"'})  # fmt: skip
                    return
                path = self.path.split("?")[0]
                if path.startswith("/private/"):
                    self.reply(*index.serve_private(path))
                    return
                if path.startswith("/files/"):
                    index.files.add(path.rsplit("/", 1)[-1])
                    self.reply(*index.forward_file(path.removeprefix("/files/")))
                    return
                name = path.strip("/").split("/")[-1]
                index.requested.add(normalise(name))
                self.reply(*index.forward(path, self.headers.get("Accept", "text/html")))

            def reply(
                self,
                status: int,
                body: bytes,
                content_type: str,
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if not getattr(self, "head_only", False):
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        """The index URL, as PIP_INDEX_URL: no credential in it."""
        return f"http://{self.host}/simple/"

    @property
    def private_url(self) -> str:
        return f"http://{self.host}/private/simple/"

    def add_private(self, wheel: Path) -> None:
        self.private[wheel.name] = wheel

    def forward(self, path: str, accept: str) -> tuple[int, bytes, str]:
        request = urllib.request.Request(
            self.upstream + path.removeprefix("/simple/").lstrip("/"),
            headers={"Accept": accept},
        )
        status, body, content_type = fetch(request)
        return (
            status,
            FILE_LINK.sub(rb"http://" + self.host.encode() + rb"/files/\1/", body),
            content_type,
        )

    def forward_file(self, host_and_path: str) -> tuple[int, bytes, str]:
        """A file the pages link to, fetched from its real host."""
        return fetch(urllib.request.Request(f"https://{host_and_path}"))

    def serve_private(self, path: str) -> tuple[int, bytes, str]:
        """PEP 503 pages for the private wheels, and the wheels themselves."""
        parts = path.strip("/").split("/")  # private, simple|files, <name>
        if parts[1] == "files" and parts[-1] in self.private:
            return 200, self.private[parts[-1]].read_bytes(), "application/octet-stream"
        if parts[1] == "simple" and len(parts) == 3:
            links = [
                f'<a href="/private/files/{name}#sha256={sha256(wheel)}">{name}</a>'
                for name, wheel in sorted(self.private.items())
                if normalise(name.split("-")[0]) == normalise(parts[2])
            ]
            if links:
                body = "<!DOCTYPE html><html><body>" + "".join(links) + "</body></html>"
                return 200, body.encode(), "text/html"
        return 404, b"", "text/plain"

    def __enter__(self) -> PackageIndex:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def fetch(request: urllib.request.Request) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, b"", "text/plain"


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def netrc(url: str, user: str, password: str) -> str:
    """A netrc file's text that gives these credentials to the URL's host."""
    return f"machine {urlsplit(url).hostname} login {user} password {password}\n"
