#!/usr/bin/env bash
# CI's image job: the image's default command does what the smoke_test answers promise.
# IMAGE; SMOKE_TEST: "output" (prints exactly SMOKE_TEST_TEXT and exits 0) or "log"
# (keeps running, logs a line holding SMOKE_TEST_TEXT, ends cleanly on SIGTERM);
# SMOKE_TEST_ENV: names of variables, set in this step, that the container gets.
set -euo pipefail
options=()
for name in ${SMOKE_TEST_ENV:-}; do options+=(--env "$name"); done

if [ "$SMOKE_TEST" = output ]; then
  docker run --rm "${options[@]}" "$IMAGE" > output.txt
  printf '%s\n' "$SMOKE_TEST_TEXT" > expected.txt
  if ! cmp --silent expected.txt output.txt; then
    # One line first (an annotation on GitHub): expected and printed side by side.
    printed=$(head --bytes 300 output.txt | tr '\r\n' '  ')
    echo "::error::Expected exactly '$SMOKE_TEST_TEXT'; the image printed '$printed'."
    diff -u expected.txt output.txt
    exit 1
  fi
  echo "The image printed exactly the expected line."
  exit 0
fi

container=$(docker run --detach "${options[@]}" "$IMAGE")
trap 'docker rm --force "$container" > /dev/null' EXIT
running() { [ -n "$(docker ps --quiet --filter "id=$container" --filter status=running)" ]; }
stopped() {  # the log, then why the command's end fails the test
  cat output.txt
  echo "::error::The image's command $1 (exit code $(docker wait "$container"))."
  exit 1
}
for _ in $(seq 60); do
  docker logs "$container" > output.txt 2>&1
  if grep --quiet --fixed-strings -- "$SMOKE_TEST_TEXT" output.txt; then break; fi
  running || stopped "exited before it logged the expected text"
  sleep 1
done
grep --quiet --fixed-strings -- "$SMOKE_TEST_TEXT" output.txt \
  || { cat output.txt; echo "::error::No log line holds the expected text after 60 s."; exit 1; }
# A server that logs its banner and then dies must not pass: still running a moment later.
sleep 3
running || stopped "logged the expected text, then exited"
cat output.txt
# docker stop sends SIGTERM, then SIGKILL after 10 s (exit code 137).
start=$SECONDS
docker stop "$container" > /dev/null
code=$(docker wait "$container")
echo "Stopped in $((SECONDS - start)) s with exit code $code."
case $code in
  0 | 143) ;;  # ended by SIGTERM, or on it
  137) echo "::error::The command ignored SIGTERM and was killed."; exit 1 ;;
  *) echo "::error::The command exited with code $code when asked to stop."; exit 1 ;;
esac
