# Benchmark variant (b) for an application with OS packages: writeup-export.Dockerfile
# plus the write-up's pattern for them, build packages (compiler, headers) in the
# builder stage and runtime libraries in the runtime stage, each installed first in
# its stage with the package lists removed in the same layer. The packages are the
# build args APT_BUILD_PACKAGES and APT_RUNTIME_PACKAGES: benchmarks/run.py passes the
# template's apt answers. `apt-get clean` does what the official image's docker-clean
# hook does (the local stand-in has none). Nothing else differs from the plain file.
FROM python:3.13-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POETRY_VIRTUALENVS_IN_PROJECT=1
ARG PIP_INDEX_URL
ARG APT_BUILD_PACKAGES

RUN apt-get update \
 && apt-get install -y --no-install-recommends $APT_BUILD_PACKAGES \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

RUN pip install poetry==2.5.1 poetry-plugin-export==1.10.1

COPY pyproject.toml poetry.lock README.md ./
COPY src ./src

RUN poetry export --without-hashes -f requirements.txt -o requirements.txt \
 && echo "./" >> requirements.txt \
 && python -m venv /app/.venv \
 && . /app/.venv/bin/activate \
 && pip install -r requirements.txt


FROM python:3.13-slim AS runtime

ARG APT_RUNTIME_PACKAGES

RUN apt-get update \
 && apt-get install -y --no-install-recommends $APT_RUNTIME_PACKAGES \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

COPY --from=builder /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH

CMD ["hello"]
