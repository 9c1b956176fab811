#!/usr/bin/env bash
# Run every built fuzz target for a few seconds each: tools/fuzz/smoke.sh BUILD_DIR SECONDS
# The seed is fixed (FUZZ_SEED, default 1) so that CI runs are repeatable; longer exploratory runs
# use a random seed: FUZZ_SEED=0 tools/fuzz/smoke.sh build-fuzz 600
set -euo pipefail
build=$1
secs=${2:-20}
seed=${FUZZ_SEED:-1}
src=$(cd "$(dirname "$0")" && pwd)
found=0
for bin in "$build"/tools/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  found=1
  name=$(basename "$bin")
  corpus="$build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  seeds="$src/corpus/${name#fuzz_}"
  echo "fuzz smoke: $name for ${secs}s"
  args=("$corpus")
  [ -d "$seeds" ] && args+=("$seeds")
  "$bin" -seed="$seed" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${args[@]}" \
    2>"$build/$name.log" || { tail -50 "$build/$name.log"; exit 1; }
  grep -E "stat::number_of_executed_units" "$build/$name.log" || true
done
[ "$found" = 1 ] || echo "fuzz smoke: no fuzz targets built"
