#!/usr/bin/env bash
# CI's lint job: no committed file of this project holds a secret that its
# .secrets.baseline does not accept. detect-secrets names the file and line, never the
# value. Paths are the repository's, as pre-commit passes them (a monorepo too).
set -euo pipefail
project=$(git rev-parse --show-prefix)  # "" at the root, "apps/x/" in a monorepo
cd "$(git rev-parse --show-toplevel)"
baseline="${project}.secrets.baseline"
status=0
# The baseline left out: detect-secrets would spot its hashes when it is not in ./.
report=$(git ls-files -z -- "${project:-.}" ":!:$baseline" \
  | xargs -0 detect-secrets-hook --baseline "$baseline" 2>&1) || status=$?
if [ "$status" -eq 0 ]; then
  echo "No secret that $baseline does not accept."
  exit 0
fi
echo "$report"
while read -r file line; do
  echo "::error file=$file,line=$line::A possible secret. If it is one, remove it and revoke it; if not, accept it in $baseline (see the README, Supply chain)."
done < <(sed -n 's/^Location: *\(.*\):\([0-9]*\)$/\1 \2/p' <<< "$report")
exit 1
