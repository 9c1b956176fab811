#!/usr/bin/env bash
# Times `ruleeval test` against `promtool test rules` on the same generated rule-test suite
# (../shared/ref/gen_rules.py --tests-out: every rule is evaluated at every step of every test
# group) and prints wall time, CPU time (user+sys: the machine may be shared), peak RSS, both
# verdicts and the ratios. Then the same on a real-world-shaped suite (gen_test_suite.py: a
# mixin-style rule file and hundreds of small test groups with alert_rule_test and
# promql_expr_test cases, as public promtool suites are written).
#   tools/bench/bench_test.sh [RULEEVAL_BIN] [SHARED_DIR] [RULES] [TEST_GROUPS] [SUITE_GROUPS]
# Defaults: build/tools/ruleeval, ../shared, 1000 rules, 10 test groups, 300 suite groups.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$root/build/tools/ruleeval}")
shared=${2:-${RULEEVAL_SHARED_DIR:-$root/../shared}}
rules=${3:-1000}
groups=${4:-10}
suite_groups=${5:-300}
runs=${RULEEVAL_BENCH_RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$shared/ref/gen_rules.py" --rules "$rules" --out "$work/rules.yml" \
  --tests-out "$work/tests.yml" --test-groups "$groups" >/dev/null
echo "bench_test: $rules rules (+ targets), $groups test groups, $(grep -c 'series:' "$work/tests.yml") input series"

# measure NAME CMD...: best wall seconds over $runs runs, with that run's peak RSS and exit code,
# and the median CPU seconds (user+sys) over the runs.
measure() {
  local name=$1
  shift
  local best_t="" best_m="" rc=0 cpus=""
  for _ in $(seq "$runs"); do
    set +e
    /usr/bin/time -f "%e %M %U %S" -o "$work/t" "$@" >"$work/out" 2>&1
    rc=$?
    set -e
    read -r t m u sy <"$work/t"
    cpus="$cpus $(awk -v u="$u" -v s="$sy" 'BEGIN{print u + s}')"
    if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; best_m=$m; fi
  done
  local cpu
  cpu=$(echo "$cpus" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  printf '%-22s %8.3f s %8.3f CPU-s %10s KB  exit %s\n' "$name" "$best_t" "$cpu" "$best_m" "$rc"
  if [ "$rc" != 0 ]; then tail -20 "$work/out"; fi
  eval "${name//[^a-zA-Z0-9]/_}_t=$best_t; ${name//[^a-zA-Z0-9]/_}_m=$best_m; ${name//[^a-zA-Z0-9]/_}_c=$cpu"
}

cd "$work"
measure "ruleeval test" "$bin" test tests.yml
if command -v promtool >/dev/null; then
  measure "promtool test rules" promtool test rules tests.yml
  awk -v a="$ruleeval_test_t" -v b="$promtool_test_rules_t" -v am="$ruleeval_test_m" \
      -v bm="$promtool_test_rules_m" -v ac="$ruleeval_test_c" -v bc="$promtool_test_rules_c" 'BEGIN{
    printf "speed: ruleeval is %.1fx faster than promtool (wall), %.1fx less CPU\n", b/a, bc/ac;
    printf "memory: ruleeval peak RSS is %.2fx promtool'"'"'s (%d KB vs %d KB)\n", am/bm, am, bm;
  }'
else
  echo "promtool not installed: no ratio"
fi

# The real-world-shaped suite.
python3 "$root/tools/bench/gen_test_suite.py" "$work/suite" --groups "$suite_groups"
cd "$work/suite"
measure "ruleeval test suite" "$bin" test alerts_tests.yml
if command -v promtool >/dev/null; then
  measure "promtool test suite" promtool test rules alerts_tests.yml
  awk -v a="$ruleeval_test_suite_t" -v b="$promtool_test_suite_t" -v ac="$ruleeval_test_suite_c" \
      -v bc="$promtool_test_suite_c" 'BEGIN{
    printf "suite speed: ruleeval is %.1fx faster than promtool (wall), %.1fx less CPU\n", b/a, bc/ac;
  }'
fi
