"""A container registry on loopback, read-only, serving images saved with `docker save`.

No registry can be reached from here, and a locally built image has no repository
digest (`RepoDigests` is empty until an image is pulled or pushed). This one serves the
OCI layout that `docker save` writes (Docker 25+): its manifest's digest is the
image's digest as a registry would give it. Enough of the distribution API for a
pull and for a lookup: `/v2/`, `tags/list`, `manifests/<tag or digest>` (HEAD and GET,
with `Docker-Content-Digest`) and `blobs/<digest>`. Any repository name maps to the
images given, by tag.

Docker and BuildKit treat 127.0.0.0/8 as an insecure registry: they try HTTPS first and
fall back to HTTP when the answer to their TLS handshake is plain HTTP, which is why a
handshake gets a plain `400` here.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.support.shell import run

TLS_HANDSHAKE = b"\x16"


@dataclass(frozen=True)
class SavedImage:
    """An image as `docker save` wrote it: its manifest, and the folder of its blobs."""

    manifest: bytes
    media_type: str
    blobs: Path

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.manifest).hexdigest()


def save_image(docker: str, image: str, dst: Path) -> SavedImage:
    """`docker save` an image into dst (an OCI layout) and read its one manifest."""
    dst.mkdir(parents=True, exist_ok=True)
    archive = dst / "image.tar"
    run(docker, "save", "--output", archive, image)
    with tarfile.open(archive) as tar:
        tar.extractall(dst, filter="data")
    archive.unlink()
    (entry,) = json.loads((dst / "index.json").read_text())["manifests"]
    blobs = dst / "blobs" / "sha256"
    manifest = (blobs / entry["digest"].removeprefix("sha256:")).read_bytes()
    saved = SavedImage(manifest, entry["mediaType"], blobs)
    assert saved.digest == entry["digest"]
    return saved


def synthetic_image(dst: Path, name: str) -> SavedImage:
    """An image with no layers, for lookups only: a digest of its own for each name."""
    blobs = dst / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {"Labels": {"name": name}},
        "rootfs": {"type": "layers", "diff_ids": []},
    }).encode()  # fmt: skip
    config_digest = hashlib.sha256(config).hexdigest()
    (blobs / config_digest).write_bytes(config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": f"sha256:{config_digest}", "size": len(config)},
        "layers": [],
    }).encode()  # fmt: skip
    return SavedImage(manifest, "application/vnd.oci.image.manifest.v1+json", blobs)


class Registry:
    """Serves {tag: SavedImage} on 127.0.0.1 until stop(); `host` is 127.0.0.1:<port>."""

    def __init__(self, tags: dict[str, SavedImage]) -> None:
        self.tags = tags
        self.requests: list[str] = []
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle(self) -> None:
                if self.connection.recv(1, socket.MSG_PEEK) == TLS_HANDSHAKE:
                    self.connection.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
                    return
                super().handle()

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                registry.requests.append(f"{self.command} {path}")
                found = registry.serve(path)
                if found is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, media_type, digest = found
                self.send_response(200)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                if digest:
                    self.send_header("Docker-Content-Digest", digest)
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str) -> tuple[bytes, str, str | None] | None:
        if path in ("/v2/", "/v2"):
            return b"{}", "application/json", None
        name, _, rest = path.removeprefix("/v2/").rpartition("/")
        repository, kind = name.rsplit("/", 1) if "/" in name else ("", name)
        if kind == "tags" and rest == "list":
            body = json.dumps({"name": repository, "tags": sorted(self.tags)}).encode()
            return body, "application/json", None
        if kind == "manifests":
            for tag, image in self.tags.items():
                if rest in (tag, image.digest):
                    return image.manifest, image.media_type, image.digest
        if kind == "blobs" and rest.startswith("sha256:"):
            for image in self.tags.values():
                blob = image.blobs / rest.removeprefix("sha256:")
                if blob.is_file():
                    return blob.read_bytes(), "application/octet-stream", rest
        return None

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
