# Benchmark variant (a) for an application with OS packages: naive.Dockerfile plus one
# apt-get step first, with the build packages and the runtime libraries together (the
# build args APT_BUILD_PACKAGES and APT_RUNTIME_PACKAGES: benchmarks/run.py passes the
# template's apt answers), all of them left in the one image, package lists included.
# `apt-get clean` does what the official image's docker-clean hook does (the local
# stand-in has none), so the downloaded .deb files go, as they would there.
# Only for this machine: the mirror plugin and PIP_INDEX_URL send Poetry to the same
# index as every other variant (see benchmarks/run.py).
FROM python:3.13-slim
ARG PIP_INDEX_URL
ARG APT_BUILD_PACKAGES
ARG APT_RUNTIME_PACKAGES
RUN apt-get update \
 && apt-get install -y --no-install-recommends $APT_BUILD_PACKAGES $APT_RUNTIME_PACKAGES \
 && apt-get clean
RUN pip install poetry==2.5.1 poetry-plugin-export==1.10.1 poetry-plugin-pypi-mirror==0.6.5
WORKDIR /app
COPY . .
RUN poetry config virtualenvs.create false \
 && POETRY_PYPI_MIRROR_URL="${PIP_INDEX_URL:-}" poetry install --no-interaction
CMD ["hello"]
