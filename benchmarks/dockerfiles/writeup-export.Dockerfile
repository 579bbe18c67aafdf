# Benchmark variant (b), the write-up's export + venv Dockerfile (its section 2, "a
# project managed with Poetry"), as the article has it: Poetry and its export plugin
# installed with pip, the source copied BEFORE the install, `poetry export
# --without-hashes` plus `./`, a plain venv filled by pip, and only that venv copied
# into the runtime stage. Changed only where this project differs: Python 3.13,
# README.md copied (pyproject.toml names it), the tool versions pinned like the
# template's, and PIP_INDEX_URL, so pip uses the same index as every other variant.
FROM python:3.13-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POETRY_VIRTUALENVS_IN_PROJECT=1
ARG PIP_INDEX_URL

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

WORKDIR /app

COPY --from=builder /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH

CMD ["hello"]
