#!/usr/bin/env bash
# Times `ruleeval test` against `promtool test rules` on the same generated rule-test suite
# (../shared/ref/gen_rules.py --tests-out: every rule is evaluated at every step of every test
# group) and prints wall time, peak RSS, both verdicts and the ratios.
#   tools/bench/bench_test.sh [RULEEVAL_BIN] [SHARED_DIR] [RULES] [TEST_GROUPS]
# Defaults: build/tools/ruleeval, ../shared, 1000 rules, 10 test groups.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$root/build/tools/ruleeval}")
shared=${2:-${RULEEVAL_SHARED_DIR:-$root/../shared}}
rules=${3:-1000}
groups=${4:-10}
runs=${RULEEVAL_BENCH_RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$shared/ref/gen_rules.py" --rules "$rules" --out "$work/rules.yml" \
  --tests-out "$work/tests.yml" --test-groups "$groups" >/dev/null
echo "bench_test: $rules rules (+ targets), $groups test groups, $(grep -c 'series:' "$work/tests.yml") input series"

# measure NAME CMD...: best wall seconds over $runs runs, with that run's peak RSS and exit code.
measure() {
  local name=$1
  shift
  local best_t="" best_m="" rc=0
  for _ in $(seq "$runs"); do
    set +e
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >"$work/out" 2>&1
    rc=$?
    set -e
    read -r t m <"$work/t"
    if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; best_m=$m; fi
  done
  printf '%-22s %8.3f s %10s KB  exit %s\n' "$name" "$best_t" "$best_m" "$rc"
  if [ "$rc" != 0 ]; then tail -20 "$work/out"; fi
  eval "${name//[^a-zA-Z0-9]/_}_t=$best_t; ${name//[^a-zA-Z0-9]/_}_m=$best_m"
}

cd "$work"
measure "ruleeval test" "$bin" test tests.yml
if command -v promtool >/dev/null; then
  measure "promtool test rules" promtool test rules tests.yml
  awk -v a="$ruleeval_test_t" -v b="$promtool_test_rules_t" -v am="$ruleeval_test_m" \
      -v bm="$promtool_test_rules_m" 'BEGIN{
    printf "speed: ruleeval is %.1fx faster than promtool\n", b/a;
    printf "memory: ruleeval peak RSS is %.2fx promtool'"'"'s (%d KB vs %d KB)\n", am/bm, am, bm;
  }'
else
  echo "promtool not installed: no ratio"
fi
