#!/usr/bin/env bash
# The differential harness: ruleeval against real promtool 2.42 on generated rule files, rule
# tests and PromQL expressions (tests/differential/harness.py; known differences with reasons in
# tests/differential/known_differences.yaml).
#   tools/differential.sh                 the short seeded slice CI runs (ctest -L differential)
#   tools/differential.sh --long N        N cases of each kind (a deeper search)
#   options: --seed S (default 1), --kind rules,tests,promql, --build DIR (default build),
#            --report FILE (every difference as JSON), --jobs J
# Exit 0 when no unexplained difference was found, 1 otherwise, 77 when promtool is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
cases=60
seed=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --long) cases=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --kind|--report|--jobs|--show) extra+=("$1" "$2"); shift 2 ;;
    *) echo "usage: $0 [--long N] [--seed S] [--kind K] [--build DIR] [--report FILE]" >&2; exit 2 ;;
  esac
done
ruleeval="$build/tools/ruleeval"
[ -x "$ruleeval" ] || { echo "differential: $ruleeval not built" >&2; exit 2; }
exec python3 "$root/tests/differential/harness.py" --ruleeval "$ruleeval" \
  --shared "$root/../shared" --cases "$cases" --seed "$seed" "${extra[@]}"
