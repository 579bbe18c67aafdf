#!/usr/bin/env bash
# CI's lint job, first step: no conflict left by `copier update`, committed or not.
# git's merge-conflict markers at the start of a line (`<<<<<<< before updating` ...
# `>>>>>>> after updating`); a lone `=======` is not one: Markdown headings use it.
set -euo pipefail
markers=$(git grep --untracked --line-number -IE '^(<{7}|>{7}|\|{7})( |$)') || [ "$?" -eq 1 ]
rejects=$(git ls-files --cached --others --exclude-standard -- '*.rej')
if [ -z "$markers$rejects" ]; then
  echo "No conflict markers, no .rej files."
  exit 0
fi
if [ -n "$markers" ]; then
  while IFS=: read -r file line text; do
    echo "$file:$line: $text"
    echo "::error file=$file,line=$line::A conflict marker: keep what you want of both sides, then delete the marker lines."
  done <<< "$markers"
fi
if [ -n "$rejects" ]; then
  while IFS= read -r file; do
    echo "$file"
    echo "::error file=$file::A change that did not apply: make it by hand in the file beside it, then delete this file."
  done <<< "$rejects"
fi
exit 1
