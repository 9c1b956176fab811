#!/usr/bin/env bash
# Times `ruleeval lint` against `promtool check rules` on the same generated rule file and prints
# wall time, peak RSS and the ratios.
#   tools/bench/bench_lint.sh [RULEEVAL_BIN] [SHARED_DIR] [RULES]
# Defaults: build/tools/ruleeval, ../shared (or $RULEEVAL_SHARED_DIR), 10000 rules. Needs python3;
# promtool (/usr/bin/promtool) and GNU time (/usr/bin/time) are used when installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/tools/ruleeval}
shared=${2:-${RULEEVAL_SHARED_DIR:-$root/../shared}}
rules=${3:-10000}
runs=${RULEEVAL_BENCH_RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file=$work/rules_$rules.yml
python3 "$shared/ref/gen_rules.py" --rules "$rules" --out "$file" >/dev/null
echo "bench_lint: $(grep -c -E '^ *- (alert|record):' "$file") rules, $(du -h "$file" | cut -f1) ($file)"

# measure NAME CMD...: best wall seconds, and the peak RSS (KB) and minor page faults of that run,
# over $runs runs, and the median CPU seconds (user+sys; the machine may be shared, so CPU is the
# steadier number).
measure() {
  local name=$1
  shift
  local best_t="" best_m="" best_f="" cpus=""
  for _ in $(seq "$runs"); do
    if [ -x /usr/bin/time ]; then
      /usr/bin/time -f "%e %M %U %S %R" -o "$work/t" "$@" >/dev/null 2>&1 || true
      read -r t m u sy f <"$work/t"
      cpus="$cpus $(awk -v u="$u" -v s="$sy" 'BEGIN{print u + s}')"
    else
      local s e
      s=$(date +%s.%N)
      "$@" >/dev/null 2>&1 || true
      e=$(date +%s.%N)
      t=$(echo "$e - $s" | bc)
      m=0
      f=0
      cpus="$cpus $t"
    fi
    if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; best_m=$m; best_f=$f; fi
  done
  local cpu
  cpu=$(echo "$cpus" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  printf '%-28s %8.3f s %8.3f CPU-s %10s KB %8s page faults\n' "$name" "$best_t" "$cpu" "$best_m" "$best_f"
  eval "${name//[^a-zA-Z0-9]/_}_t=$best_t; ${name//[^a-zA-Z0-9]/_}_m=$best_m; ${name//[^a-zA-Z0-9]/_}_c=$cpu"
}

measure "ruleeval lint" "$bin" lint "$file"
measure "ruleeval lint -j1 threads1" taskset -c 0 "$bin" lint -j 1 "$file"
if command -v promtool >/dev/null; then
  measure "promtool check rules" promtool check rules "$file"
  awk -v a="$ruleeval_lint_t" -v b="$promtool_check_rules_t" -v am="$ruleeval_lint_m" \
      -v bm="$promtool_check_rules_m" -v c="$ruleeval_lint__j1_threads1_t" \
      -v ac="$ruleeval_lint_c" -v bc="$promtool_check_rules_c" 'BEGIN{
    printf "speed: ruleeval is %.1fx faster than promtool (%.1fx on one core)\n", b/a, b/c;
    printf "cpu: ruleeval uses %.1fx less CPU than promtool (%.3f vs %.3f CPU-s, medians)\n",
           bc/ac, ac, bc;
    if (am > 0) printf "memory: ruleeval peak RSS is %.2fx promtool'"'"'s (%d KB vs %d KB)\n", am/bm, am, bm;
  }'
else
  echo "promtool not installed: no ratio"
fi
