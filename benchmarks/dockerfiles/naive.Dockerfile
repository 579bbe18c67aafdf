# Benchmark variant (a), the naive single-stage Dockerfile: Poetry installed into
# the base image's Python, the whole project copied, then `poetry install` into that
# same Python, dev tools included. A floor to measure against, not a pattern to copy.
# Only for this machine: the mirror plugin and PIP_INDEX_URL send Poetry to the same
# index as every other variant (see benchmarks/run.py).
FROM python:3.13-slim
ARG PIP_INDEX_URL
RUN pip install poetry==2.5.1 poetry-plugin-export==1.10.1 poetry-plugin-pypi-mirror==0.6.5
WORKDIR /app
COPY . .
RUN poetry config virtualenvs.create false \
 && POETRY_PYPI_MIRROR_URL="${PIP_INDEX_URL:-}" poetry install --no-interaction
CMD ["hello"]
