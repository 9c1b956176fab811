#!/usr/bin/env bash
# clang-tidy gate: tools/ci/clang-tidy.sh BUILD_DIR [JOBS]
# Runs clang-tidy-16 (Debian's clang-tidy 14 cannot parse C++23's std::expected, which needs P0848)
# with the repository's .clang-tidy on every C++ file of the build's compile_commands.json that
# lives in the source tree (libraries, CLI, tests, fuzz and bench drivers; generated files are
# skipped). BUILD_DIR must be a clang-16 build (its commands carry the flags clang needs, see
# cmake/Warnings.cmake); it only has to be configured, not built.
# Prints every finding once (a header's finding is reported by every file that includes it), a
# count per check, and exits 1 if there is any finding or a file does not compile.
#   RULEEVAL_TIDY_FILES=regex   only files whose path matches (local iteration)
set -euo pipefail
build=$(cd "$1" && pwd)
jobs=${2:-$(nproc)}
src=$(cd "$(dirname "$0")/../.." && pwd)
tidy=${CLANG_TIDY:-clang-tidy-16}
out=$build/clang-tidy
rm -rf "$out" && mkdir -p "$out" && : >"$out/times"

python3 - "$build/compile_commands.json" "$src" "$build" "${RULEEVAL_TIDY_FILES:-}" >"$out/files" <<'PY'
import json, os, re, sys
db, src, build, only = sys.argv[1:]
seen = set()
for e in json.load(open(db)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f, src)
    if rel.startswith("..") or f.startswith(build + "/") or rel.split("/")[0].startswith("build"):
        continue
    if only and not re.search(only, f):
        continue
    if f not in seen:
        seen.add(f)
        print(f)
PY
n=$(wc -l <"$out/files")
echo "clang-tidy: $n files, $jobs jobs ($($tidy --version | grep -o 'version [0-9.]*'))"
start=$SECONDS
# One output file per source file; clang-tidy's exit status only says whether it ran.
export tidy build out
xargs -a "$out/files" -P "$jobs" -I{} bash -c '
  f={}; log="$out/$(echo "$f" | tr / _).log"
  /usr/bin/time -o "$log.time" -f "%U %S %e" "$tidy" -p "$build" --quiet "$f" >"$log" 2>"$log.err" ||
    echo "$f" >>"$out/failed"
  awk -v f="$f" "{printf \"%.1f %s %s\\n\", \$1 + \$2, \$3, f}" "$log.time" >>"$out/times"'

cat "$out"/*.log | grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): .*\[[a-z][a-zA-Z0-9.,-]*\]$' | sort -u >"$out/findings" || true
count=$(wc -l <"$out/findings")
echo "clang-tidy: $count findings in $((SECONDS - start)) s"
# CPU seconds (user+sys) and wall seconds per file, the slowest first (the gate's cost per file).
sort -rn "$out/times" >"$out/times.sorted"
echo "clang-tidy: $(awk '{c += $1} END {printf "%.0f", c}' "$out/times") CPU s in all; slowest files (CPU s, wall s):"
head -5 "$out/times.sorted" | sed "s|$src/||"
if [ "$count" != 0 ]; then
  sed "s|^$src/||" "$out/findings"
  echo "per check:"
  sed -E 's/.*\[([^]]+)\]$/\1/' "$out/findings" | sort | uniq -c | sort -rn
fi
if [ -s "$out/failed" ]; then
  echo "clang-tidy: could not analyse:"
  while read -r f; do echo "  $f"; tail -5 "$out/$(echo "$f" | tr / _).log.err"; done <"$out/failed"
  exit 1
fi
[ "$count" = 0 ]
