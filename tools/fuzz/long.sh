#!/usr/bin/env bash
# Long fuzzing outside CI: every libFuzzer target for a given time, with a corpus kept between runs.
#   tools/fuzz/long.sh SECONDS_PER_TARGET [TARGET...]
# Builds build-fuzz/ (clang-16, -O2, ASan+UBSan+libFuzzer; RULEEVAL_FUZZ_BUILD=dir to use another
# fuzz build) unless it exists, then runs each target (all of tools/fuzz/fuzz_*.cpp by default) for
# SECONDS_PER_TARGET on FUZZ_JOBS parallel workers (default: nproc), one target after another.
# The corpus lives in <build>/fuzz-corpus/<target> (seeded from tools/fuzz/corpus/<name>) and grows
# from run to run; crashes, leaks, timeouts and out-of-memory inputs are written to
# <build>/fuzz-artifacts/<target>/. Prints per target: executions, corpus size, findings. Exits 1
# if any target found anything (reproduce: <build>/tools/fuzz/<target> <artifact>).
#   FUZZ_SEED   libFuzzer -seed (default 0: random; the CI smoke, tools/fuzz/smoke.sh, uses 1)
#   FUZZ_RUNS   also stop a target after this many executions (libFuzzer -runs; in fork mode the
#               parent counts every worker's); SECONDS_PER_TARGET stays the upper bound
#   FUZZ_ARGS   more libFuzzer flags. `-detect_leaks=0` with
#               ASAN_OPTIONS=detect_stack_use_after_return=0 ran fuzz_template 3x faster
#               (libFuzzer checks for leaks after every input whose mallocs and frees do not
#               balance, which the templates' caches make frequent); ASan's checks stay on.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:?usage: tools/fuzz/long.sh SECONDS_PER_TARGET [TARGET...]}
shift
build=${RULEEVAL_FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}
seed=${FUZZ_SEED:-0}
runs=${FUZZ_RUNS:--1}
read -r -a extra <<<"${FUZZ_ARGS:-}"

# A directory holding only built targets (<dir>/tools/fuzz/fuzz_*) is used as it is.
if [ ! -f "$build/build.ninja" ] && ! ls "$build"/tools/fuzz/fuzz_* >/dev/null 2>&1; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-16 -DRULEEVAL_FUZZ=ON \
    -DRULEEVAL_TESTS=OFF -DRULEEVAL_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
fi
if [ -f "$build/build.ninja" ]; then
  cmake --build "$build" -j "$(nproc)" --target fuzz_targets >/dev/null
fi
build=$(cd "$build" && pwd)
root=$(pwd)

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for bin in "$build"/tools/fuzz/fuzz_*; do [ -x "$bin" ] && targets+=("$(basename "$bin")"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "long fuzz: no targets in $build/tools/fuzz"; exit 1; }

summary=()
failed=0
for name in "${targets[@]}"; do
  [ -x "$build/tools/fuzz/$name" ] || { echo "long fuzz: no such target $build/tools/fuzz/$name"; exit 1; }
  # Fork mode starts a new worker process from the binary for every job: a rebuild of the fuzz
  # build during the run (another long.sh, say) would make the jobs started while the linker
  # rewrites it fail at once, each counted as a crash with no input to show. The run uses a
  # private copy.
  mkdir -p "$build/fuzz-bin"
  bin=$build/fuzz-bin/$name.$$
  cp "$build/tools/fuzz/$name" "$bin"
  corpus=$build/fuzz-corpus/$name
  artifacts=$build/fuzz-artifacts/$name
  logs=$build/fuzz-logs/$name
  mkdir -p "$corpus" "$artifacts" "$logs"
  rm -f "$logs"/fuzz-*.log
  seeds=$root/tools/fuzz/corpus/${name#fuzz_}
  dirs=("$corpus")
  [ -d "$seeds" ] && dirs+=("$seeds")
  before=$(find "$corpus" -type f | wc -l)
  found_before=$(find "$artifacts" -type f | wc -l)
  echo "long fuzz: $name for ${secs}s on $jobs workers$([ "$runs" -lt 0 ] || echo ", at most $runs executions")${FUZZ_ARGS:+ ($FUZZ_ARGS${ASAN_OPTIONS:+, ASAN_OPTIONS=$ASAN_OPTIONS})} (corpus: $before inputs)"
  # -fork keeps fuzzing after a crash (each worker is a child), so one run reports every finding;
  # new inputs of every worker are merged into the kept corpus (the first directory).
  t0=$SECONDS
  set +e
  (cd "$logs" && "$bin" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
     -seed="$seed" -runs="$runs" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
     -artifact_prefix="$artifacts/" -print_final_stats=1 ${extra[@]+"${extra[@]}"} "${dirs[@]}" \
     >"$logs/run.log" 2>&1)
  rc=$?
  set -e
  rm -f "$bin"
  # In fork mode the parent prints "#<execs>: cov: ... corp: <n> exec/s: <n> oom/timeout/crash:
  # <a>/<b>/<c> ..." status lines; the last one holds the totals.
  last=$(grep -E '^#[0-9]+: cov:' "$logs/run.log" | tail -1 || true)
  execs=$(sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$last")
  if [ -z "$execs" ]; then  # not fork mode (jobs=1) or an early exit: the final stats line
    execs=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+)/\1/p' "$logs/run.log" | tail -1)
  fi
  # oom/timeout/crash: a/b/c
  crashes=$(sed -nE 's|.*oom/timeout/crash: ([0-9]+)/([0-9]+)/([0-9]+).*|\1 ooms, \2 timeouts, \3 crashes|p' <<<"$last")
  after=$(find "$corpus" -type f | wc -l)
  new_findings=$(( $(find "$artifacts" -type f | wc -l) - found_before ))
  line=$(printf '%-22s executions %12s in %5d s   corpus %6d -> %-6d   findings: %s   new artifacts %d   (exit %d)' \
         "$name" "${execs:-?}" "$((SECONDS - t0))" "$before" "$after" "${crashes:-none}" "$new_findings" "$rc")
  echo "  $line"
  summary+=("$line")
  if [ "$new_findings" -gt 0 ] || [ "$rc" != 0 ] || grep -qE '[1-9][0-9]* (ooms|timeouts|crashes)' <<<"$crashes"; then
    failed=1
    tail -30 "$logs/run.log"
  fi
done
echo "== long fuzz summary (${secs}s per target, $jobs workers)"
printf '%s\n' "${summary[@]}"
echo "artifacts: $build/fuzz-artifacts/<target>/, logs: $build/fuzz-logs/<target>/"
exit $failed
