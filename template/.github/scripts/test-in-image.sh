#!/usr/bin/env bash
# CI's test job: the project's tests in its development image, next to its database if
# it has one: what `docker compose run --rm app pytest` runs on a laptop.
set -euo pipefail
if grep --quiet '^  db:' compose.yaml && [ ! -s .secrets/db-password ]; then
  # A throwaway password for this run's database, in no file that is committed.
  mkdir -p .secrets
  python3 -c "import secrets; print(secrets.token_urlsafe(24))" > .secrets/db-password
fi
trap 'docker compose down --volumes --remove-orphans' EXIT
docker compose build app
if ! docker compose run --rm --no-deps app python -c "import pytest" 2> /dev/null; then
  echo "::notice::pytest is not among the locked dependencies, so no test ran: poetry add --group dev pytest"
  exit 0
fi
status=0
docker compose run --rm app pytest || status=$?
if [ "$status" -eq 5 ]; then
  echo "::notice::pytest found no tests to run."
  exit 0
fi
exit "$status"
