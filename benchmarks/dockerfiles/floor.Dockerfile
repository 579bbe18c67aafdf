# Benchmark variant (f), the floor: what a rebuild can cost when nothing but the source
# changed. The locked dependencies install from the exported, hash-checked requirements
# in a stage only pyproject.toml and poetry.lock reach; the project is never built: its
# source is the last layer, importable through a .pth, with the metadata and the `hello`
# script an editable install would write. A yardstick, not a pattern: nothing checks
# the source, and the image runs whatever src/ holds.
# Only for this machine: PIP_INDEX_URL sends pip to the same index as every other variant.
FROM python:3.13-slim AS tools
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
ARG PIP_INDEX_URL
RUN pip install poetry==2.5.1 poetry-plugin-export==1.10.1

# From the manifests alone: the requirements with their hashes, and the project's record.
FROM tools AS manifest
WORKDIR /manifest
COPY pyproject.toml poetry.lock ./
RUN poetry export --only main --format requirements.txt --output requirements.txt
RUN <<'EOF'
python - <<'PY'
import pathlib, sys, tomllib
project = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
venv = pathlib.Path("root/app/.venv")
site = venv / f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
info.mkdir(parents=True)
name, version = project["name"], project["version"]
(info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
(site / "_project.pth").write_text("/app/src\n")
(venv / "bin").mkdir()
for script, target in project.get("scripts", {}).items():
    module, function = target.split(":")
    path = venv / "bin" / script
    path.write_text(
        f"#!/app/.venv/bin/python\nimport sys\nfrom {module} import {function}\n"
        f"sys.exit({function}())\n"
    )
    path.chmod(0o755)
PY
EOF

# The dependencies: a version bump or a [tool.*] edit exports the same file, so this stays cached.
FROM tools AS deps
COPY --from=manifest /manifest/requirements.txt /tmp/
RUN python -m venv /app/.venv \
 && /app/.venv/bin/pip install --no-deps --require-hashes -r /tmp/requirements.txt

# The venv, the project's record, then the source: a source edit changes only the last layer.
FROM python:3.13-slim AS runtime
COPY --from=deps /app/.venv /app/.venv
COPY --from=manifest /manifest/root/ /
ENV PATH=/app/.venv/bin:$PATH
WORKDIR /app
COPY src/ /app/src/
CMD ["hello"]
