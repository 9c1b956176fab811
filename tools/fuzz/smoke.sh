#!/usr/bin/env bash
# Run every built fuzz target for a few seconds each: tools/fuzz/smoke.sh BUILD_DIR SECONDS
# The seed is fixed (FUZZ_SEED, default 1) so that CI runs are repeatable; longer exploratory runs
# use tools/fuzz/long.sh (kept corpus, all cores, a report per target).
#   FUZZ_JOBS   targets run at the same time (default 1; tools/test.sh runs one per core)
set -euo pipefail
build=$1
secs=${2:-20}
seed=${FUZZ_SEED:-1}
jobs=${FUZZ_JOBS:-1}
src=$(cd "$(dirname "$0")" && pwd)
bins=()
for bin in "$build"/tools/fuzz/fuzz_*; do
  [ -x "$bin" ] && bins+=("$bin")
done
[ ${#bins[@]} -gt 0 ] || { echo "fuzz smoke: no fuzz targets built"; exit 0; }

one() {  # one target; its output is printed in one piece when it ends
  local bin=$1 name corpus seeds
  name=$(basename "$bin")
  corpus="$build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  seeds="$src/corpus/${name#fuzz_}"
  local args=("$corpus")
  [ -d "$seeds" ] && args+=("$seeds")
  if "$bin" -seed="$seed" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       "${args[@]}" 2>"$build/$name.log"; then
    echo "fuzz smoke: $name ${secs}s: $(grep -E 'stat::number_of_executed_units' "$build/$name.log" || true)"
  else
    echo "fuzz smoke: $name FAILED"
    tail -50 "$build/$name.log"
    return 1
  fi
}
export -f one
export build secs seed src
printf '%s\n' "${bins[@]}" | xargs -P "$jobs" -I{} bash -c 'one "$1"' _ {}
