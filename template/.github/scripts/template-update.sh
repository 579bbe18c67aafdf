#!/usr/bin/env bash
# The template-update workflow's two steps, run from the repository's root:
#   template-update.sh plan    where the template lives; whether the branch is still ours
#   template-update.sh update  copier update, the conflicts, poetry lock, the PR's text
# The workflow's env: BRANCH, PROJECT_DIR, ANSWERS_FILE, BOT_EMAIL, SCRIPTS; for plan,
# GH_TOKEN and GH_REPO; for update, VERSION (a tag, or empty for the newest) and
# TEMPLATE_TOKEN, TEMPLATE_OWNER, TEMPLATE_REPOSITORY (empty for a template outside
# GitHub). Outputs go to $GITHUB_OUTPUT, the pull request's text to
# $RUNNER_TEMP/template-update.md. Copier runs without --trust: the template has no tasks.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# A key of the answers file, as committed (HEAD) or as it is now.
answer() { python -c 'import sys, yaml; print(yaml.safe_load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
committed_answers() { git show "HEAD:$ANSWERS_FILE"; }

plan() {
  local src skip others open
  src=$(answer _src_path < "$ANSWERS_FILE")
  echo "Template: $src"
  # A template on GitHub gets a read-only token for its repository alone.
  if [[ $src =~ ^(gh:|https://github\.com/|git@github\.com:)([^/]+)/([^/]+)$ ]]; then
    echo "template-owner=${BASH_REMATCH[2]}" >> "$GITHUB_OUTPUT"
    echo "template-repository=${BASH_REMATCH[3]%.git}" >> "$GITHUB_OUTPUT"
  fi
  # create-pull-request force-pushes the branch: leave alone a branch that someone
  # else pushed to while its pull request is open (a resolved conflict).
  skip=false
  if git rev-parse --verify --quiet "refs/remotes/origin/$BRANCH" > /dev/null; then
    others=$(git log --format='%an <%ae>' "HEAD..origin/$BRANCH" | grep -vF "<$BOT_EMAIL>" | sort -u | paste -sd ',' || true)
    open=$(gh pr list --head "$BRANCH" --state open --json number --jq length)
    if [ -n "$others" ] && [ "$open" -gt 0 ]; then
      skip=true
      echo "::notice::The branch $BRANCH has commits by $others and an open pull request: both are left as they are. Merge or close the pull request for the next update."
    fi
  fi
  echo "skip=$skip" >> "$GITHUB_OUTPUT"
}

# Files with a conflict marker or a .rej file, found by CI's own check.
conflicts() {
  local folder
  for folder in "$PROJECT_DIR" .github; do
    (cd "$folder" && bash "$here/conflict-check.sh" || true) \
      | sed -n "s|^::error file=\([^,:]*\)[,:].*|$folder/\1|p"
  done | sed 's|^\./||' | sort -u
}

# A file the update deleted (the template moved or removed it) that holds changes of
# yours: Copier deletes it all the same. Your change goes into <file>.rej, as a patch
# from the file as the template had rendered it, so CI fails until you carry it over.
keep_changes_of_removed_files() {
  local before=$1 removed old file
  removed=$(git ls-files --deleted -- "$PROJECT_DIR" .github)
  [ -n "$removed" ] || return 0
  old="$RUNNER_TEMP/template-before"
  rm -rf "$old"
  git worktree add --quiet --detach "$old" HEAD
  # The version the project came from, rendered anew with its answers over those
  # files (removed first, so that even a file of _skip_if_exists is rendered): what
  # the template wrote, before your changes. --skip-tasks: an earlier version's
  # tasks would otherwise need --trust.
  (cd "$old" && xargs -d '\n' rm -f -- <<< "$removed" && copier recopy --defaults --overwrite --skip-tasks --quiet \
    --answers-file "$ANSWERS_FILE" --vcs-ref "$before")
  while IFS= read -r file; do
    if [ -e "$old/$file" ] && ! git -C "$old" diff --quiet HEAD -- "$file"; then
      mkdir -p "$(dirname "$file")"
      git -C "$old" diff --no-color -R HEAD -- "$file" > "$file.rej"
    fi
  done <<< "$removed"
  git worktree remove --force "$old"
}

# Answers added (a new question, answered with its default) and answers dropped (a
# question the template no longer asks, or renamed without keeping the old name).
answers_changed() {
  python - "$ANSWERS_FILE" <<'PY'
import subprocess, sys, yaml
path = sys.argv[1]
before = yaml.safe_load(subprocess.run(["git", "show", f"HEAD:{path}"], capture_output=True, text=True, check=True).stdout)
after = yaml.safe_load(open(path))
questions = lambda answers: {k: v for k, v in answers.items() if not k.startswith("_")}
before, after = questions(before), questions(after)
for name in sorted(after.keys() - before.keys()):
    print(f"- new: `{name}`, answered `{after[name]}` (the default)")
for name in sorted(before.keys() - after.keys()):
    print(f"- no longer asked: `{name}` (it was `{before[name]}`)")
PY
}

update() {
  local before after args log marked lock changed body major_before major_after
  before=$(committed_answers | answer _commit)
  if [ -n "${TEMPLATE_TOKEN:-}" ]; then
    # git (run by Copier) authenticates to github.com with the token, for this step
    # only; nothing is written to disk.
    local basic
    basic=$(printf 'x-access-token:%s' "$TEMPLATE_TOKEN" | base64 --wrap=0)
    echo "::add-mask::$basic"
    export GIT_CONFIG_COUNT=2
    export GIT_CONFIG_KEY_0=http.https://github.com/.extraheader
    export GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $basic"
    export GIT_CONFIG_KEY_1=url.https://github.com/.insteadOf
    export GIT_CONFIG_VALUE_1=git@github.com:
  fi
  # --defaults: your recorded answers, and a new question's default. No --trust.
  args=(--defaults --conflict inline --answers-file "$ANSWERS_FILE")
  if [ -n "${VERSION:-}" ]; then args+=(--vcs-ref "$VERSION"); fi
  log="$RUNNER_TEMP/copier.log"
  if ! copier update "${args[@]}" 2>&1 | tee "$log"; then
    if grep -q "unsafe feature" "$log"; then
      echo "::error::This project's template version ($before) has tasks, which Copier runs only with --trust. Update once by hand: copier update --trust --conflict inline --answers-file $ANSWERS_FILE; later versions need no --trust."
    fi
    exit 1
  fi
  after=$(answer _commit < "$ANSWERS_FILE")
  keep_changes_of_removed_files "$before"
  marked=$(conflicts)

  # An update never touches poetry.lock; lock again when pyproject.toml changed.
  lock=unchanged
  if [ -n "$(git status --porcelain -- "$PROJECT_DIR/pyproject.toml")" ]; then
    if (cd "$PROJECT_DIR" && poetry lock --no-interaction); then lock=refreshed; else lock=failed; fi
  fi

  # Everything staged: conflicted files too, so the pull request shows them.
  git add --all
  changed=false
  if ! git diff --cached --quiet; then changed=true; fi

  body="$RUNNER_TEMP/template-update.md"
  major_before=$(sed -E 's/^v?([0-9]+).*/\1/' <<< "$before")
  major_after=$(sed -E 's/^v?([0-9]+).*/\1/' <<< "$after")
  {
    echo "Updates this project from template version \`$before\` to \`$after\`"
    echo "with \`copier update ${args[*]}\`, run by the workflow \`${GITHUB_WORKFLOW:-Template update}\`."
    if [ -n "${TEMPLATE_REPOSITORY:-}" ]; then
      echo "What changed: the template's [CHANGELOG.md](https://github.com/$TEMPLATE_OWNER/$TEMPLATE_REPOSITORY/blob/$after/CHANGELOG.md)."
    fi
    if [[ $major_before =~ ^[0-9]+$ && $major_after =~ ^[0-9]+$ && $major_before != "$major_after" ]]; then
      echo
      echo "**A new major version ($major_before → $major_after).** Its CHANGELOG entry lists, under"
      echo "**Manual steps**, what an update cannot do by itself: do those on this branch."
    fi
    echo
    echo "### Conflicts"
    echo
    if [ -z "$marked" ]; then
      echo "None: your changes and the template's merged cleanly."
    else
      echo "You and the template changed the same lines in these files. Each conflict"
      echo "sits between \`<<<<<<< before updating\` (yours) and \`>>>>>>> after updating\`"
      echo "(the template's); a \`.rej\` file holds a change of yours that did not apply,"
      echo "e.g. to a file the template moved or removed. CI fails until none is left."
      echo "Resolve them on this branch and push: from then on the workflow leaves the"
      echo "branch to you."
      echo
      while IFS= read -r file; do echo "- \`$file\`"; done <<< "$marked"
    fi
    echo
    echo "### Answers"
    echo
    changes=$(answers_changed)
    if [ -z "$changes" ]; then
      echo "The same questions as before, with your answers."
    else
      echo "Check these against the CHANGELOG; change an answer with \`copier update --data NAME=VALUE\`."
      echo
      echo "$changes"
    fi
    echo
    echo "### poetry.lock"
    echo
    case $lock in
      unchanged) echo "pyproject.toml did not change, so neither did poetry.lock." ;;
      refreshed) echo "pyproject.toml changed, so \`poetry lock\` ran: the lock is up to date." ;;
      failed) echo "pyproject.toml changed and \`poetry lock\` failed (see the workflow's log; a conflict in pyproject.toml does that): run it once pyproject.toml is resolved." ;;
    esac
    echo
    echo "### Files"
    echo
    git diff --cached --name-status | while IFS=$'\t' read -r state file rest; do
      echo "- $state \`$file\`${rest:+ → \`$rest\`}"
    done
  } > "$body"
  cat "$body"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$body" >> "$GITHUB_STEP_SUMMARY"; fi
  {
    echo "version=$after"
    echo "changed=$changed"
    echo "conflicts=$([ -n "$marked" ] && echo true || echo false)"
    echo "lock=$lock"
  } >> "$GITHUB_OUTPUT"
}

case ${1:-} in
  plan) plan ;;
  update) update ;;
  *) echo "usage: template-update.sh plan|update" >&2; exit 2 ;;
esac
