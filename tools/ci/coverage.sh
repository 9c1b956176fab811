#!/usr/bin/env bash
# Line coverage gate: tools/ci/coverage.sh BUILD_DIR [MIN_PERCENT]
# BUILD_DIR is a GCC build with --coverage whose tests have run (tools/test.sh: build-cov). gcovr
# (Debian package) counts the lines of the product's sources: the libraries and the CLI, not the
# tests, the fuzz drivers, the benchmarks or generated files. Prints a per-file table
# (BUILD_DIR/coverage.txt), the summary and an HTML report (BUILD_DIR/coverage/index.html);
# exits 1 under MIN_PERCENT (default 80).
set -euo pipefail
build=$(cd "$1" && pwd)
min=${2:-80}
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$build/coverage"
# Exclusions are regexes on paths relative to --root.
gcovr --root "$src" --object-directory "$build" -j "$(nproc)" \
  --exclude '(.+/)?tests/' --exclude 'tools/fuzz/' --exclude 'tools/bench/' --exclude 'build[^/]*/' \
  --gcov-exclude '.*CompilerId.*' --exclude-unreachable-branches --gcov-ignore-parse-errors \
  --txt "$build/coverage.txt" --html-details "$build/coverage/index.html" \
  --print-summary --fail-under-line "$min" | tee "$build/coverage-summary.txt" || {
  tail -25 "$build/coverage.txt" 2>/dev/null || true
  echo "coverage: line coverage under ${min}% (or gcovr failed)"
  exit 1
}
# The files with the least coverage, for whoever wants to raise the figure.
echo "least covered files:"
# (awk, not head: head would close the pipe early, and sort's SIGPIPE fails the script under
# pipefail.)
grep -E '^[a-z].*[0-9]+%' "$build/coverage.txt" | sort -k4 -n | awk 'NR <= 10'
