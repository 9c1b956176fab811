#!/usr/bin/env bash
# cppcheck gate: tools/ci/cppcheck.sh BUILD_DIR [JOBS]
# Runs cppcheck (Debian 12: 2.10) on every C++ file of BUILD_DIR/compile_commands.json in the
# source tree, with its include paths and defines. Enabled: warning, performance, portability
# (likely bugs and slow idioms). Not enabled: style (its findings are mostly taste: const-ness,
# STL-algorithm suggestions, shadowing already covered by -Wshadow) and information (missing system
# headers: cppcheck is not given the system include paths on purpose, they would make it slow and
# it has its own models of the standard library via --library=std). Suppressions only inline
# (// cppcheck-suppress id  followed by the reason). Exits 1 on any finding.
set -euo pipefail
build=$(cd "$1" && pwd)
jobs=${2:-$(nproc)}
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$build/cppcheck
rm -rf "$out" && mkdir -p "$out"
# Only the files in the source tree (not generated ones in build dirs).
python3 - "$build/compile_commands.json" "$src" "$out/compile_commands.json" <<'PY'
import json, os, sys
db, src, dst = sys.argv[1:]
keep = []
for e in json.load(open(db)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f, src)
    if rel.startswith("..") or rel.split("/")[0].startswith("build"):
        continue
    keep.append(e)
json.dump(keep, open(dst, "w"))
print(f"cppcheck: {len(keep)} files, ", end="")
PY
echo "$jobs jobs ($(cppcheck --version))"
start=$SECONDS
cppcheck --project="$out/compile_commands.json" -j "$jobs" --quiet \
  --enable=warning,performance,portability --inline-suppr --library=std \
  --std=c++20 --suppress=missingIncludeSystem \
  --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
  --error-exitcode=0 2>"$out/report" || { cat "$out/report"; echo "cppcheck: failed to run"; exit 1; }
grep -E '^\S+:[0-9]+:[0-9]+: ' "$out/report" | sort -u >"$out/findings" || true
count=$(wc -l <"$out/findings")
echo "cppcheck: $count findings in $((SECONDS - start)) s"
if [ "$count" != 0 ]; then
  sed "s|^$src/||" "$out/findings"
  echo "per id:"
  sed -E 's/.*\[([^]]+)\]$/\1/' "$out/findings" | sort | uniq -c | sort -rn
fi
[ "$count" = 0 ]
