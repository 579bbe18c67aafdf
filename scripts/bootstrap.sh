# shellcheck shell=bash
# Sourced by scripts/demo and scripts/test: makes the pinned development
# environment in .venv (Python >= 3.11 and network access to a package index).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# Poetry and the plugins it needs before it can install the rest, at the versions of
# includes/versions.jinja, the one place the template writes them.
version() { sed -n "s/^{% set $1_version = \"\(.*\)\" %}\$/\1/p" includes/versions.jinja; }
BOOTSTRAP_PINS=(
  "poetry==$(version poetry)"
  "poetry-plugin-export==$(version poetry_plugin_export)"
  "poetry-plugin-pypi-mirror==$(version poetry_plugin_pypi_mirror)"
)

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "bootstrap: $python is older than Python 3.11; set PYTHON=/path/to/python3.11+" >&2; exit 1; }

if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  echo "bootstrap: creating .venv" >&2
  rm -rf .venv
  "$python" -m venv .venv
fi
pinned() {  # are exactly these versions installed in .venv?
  .venv/bin/python - "${BOOTSTRAP_PINS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(any(version(name) != wanted for name, wanted in (p.split("==") for p in sys.argv[1:])))
PY
}
pinned || .venv/bin/python -m pip install --quiet --disable-pip-version-check "${BOOTSTRAP_PINS[@]}"

# Poetry resolves through the PEP 503 simple index (the mirror plugin) rather than
# PyPI's JSON API, which some proxies block: your PIP_INDEX_URL if set, else PyPI's
# simple index as pip itself knows it.
if [ -z "${POETRY_PYPI_MIRROR_URL:-}" ]; then
  POETRY_PYPI_MIRROR_URL=${PIP_INDEX_URL:-$(.venv/bin/python -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')}
fi
export POETRY_PYPI_MIRROR_URL

# Poetry installs the locked tools into this same .venv, again only when the lock
# or the manifest changed since the last sync. scripts/lock sets BOOTSTRAP_SYNC=0:
# after a manifest edit the old lock no longer matches, and syncing it would fail.
export POETRY_VIRTUALENVS_IN_PROJECT=true
synced=$(cat pyproject.toml poetry.lock | .venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
if [ "${BOOTSTRAP_SYNC:-1}" != 0 ] && [ "$(cat .venv/.synced 2>/dev/null)" != "$synced" ]; then
  .venv/bin/poetry sync --quiet --no-interaction
  echo "$synced" >.venv/.synced
fi
export PATH="$ROOT/.venv/bin:$PATH"
