#!/usr/bin/env bash
# The README's test command: install dependencies, build with -Werror, run every test (unit,
# conformance, CLI, integration against real local servers), then the unit tests again under
# ASan+UBSan, then the engine and notifier unit tests under TSan, then a short smoke run of each
# libFuzzer target.
#   RULEEVAL_JOBS     parallel build jobs (default: nproc)
#   RULEEVAL_SKIP_ASAN=1 / RULEEVAL_SKIP_TSAN=1 / RULEEVAL_SKIP_FUZZ=1   skip those stages (local
#   iteration only)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${RULEEVAL_JOBS:-$(nproc)}
stage_start=$SECONDS
stage() {  # print how long the previous stage took, then the next stage's title
  echo "   ($((SECONDS - stage_start)) s)"
  stage_start=$SECONDS
  echo "== $1"
}

tools/bootstrap.sh --all

stage "build (RelWithDebInfo, -Werror)"
# Line tables only (-g1): backtraces keep file:line, and the build is much quicker than with -g.
cmake -S . -B build -G Ninja -DRULEEVAL_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build -j "$jobs"

stage "tests"
(cd build && ctest --output-on-failure -j "$jobs")

stage "package: build the .deb, install it, start it from the unit's command line, purge it"
deb=$(RULEEVAL_BUILD_DIR=build tools/package.sh)
tests/package/install_test.sh "$deb"

if [ "${RULEEVAL_SKIP_ASAN:-0}" != 1 ]; then
  stage "unit tests under ASan+UBSan"
  cmake -S . -B build-asan -G Ninja -DRULEEVAL_WERROR=ON -DRULEEVAL_SANITIZE=ON \
    -DRULEEVAL_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O1" \
    -DCMAKE_CXX_FLAGS_DEBUG="-g1" >/dev/null
  # Only the unit-test binaries: the sanitizer build is the slowest to compile.
  cmake --build build-asan -j "$jobs" --target common_tests parser_tests rules_tests \
    engine_tests notifiers_tests slo_tests
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$jobs" -L unit)
fi

if [ "${RULEEVAL_SKIP_TSAN:-0}" != 1 ]; then
  stage "engine and notifier unit tests under TSan"
  # The two layers with threads (rule manager, remote-write queue, notifier workers). A report
  # makes the binary exit 66, so the test fails.
  cmake -S . -B build-tsan -G Ninja -DRULEEVAL_WERROR=ON -DRULEEVAL_TSAN=ON \
    -DRULEEVAL_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O1" \
    -DCMAKE_CXX_FLAGS_DEBUG="-g1" >/dev/null
  cmake --build build-tsan -j "$jobs" --target engine_tests notifiers_tests
  (cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
     ctest --output-on-failure -j "$jobs" -L unit -R '^(engine|notifiers):')
fi

if [ "${RULEEVAL_SKIP_FUZZ:-0}" != 1 ]; then
  stage "fuzz smoke (libFuzzer, clang-16)"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-16 -DRULEEVAL_FUZZ=ON \
    -DRULEEVAL_TESTS=OFF -DRULEEVAL_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
  cmake --build build-fuzz -j "$jobs" --target fuzz_targets
  "$root/tools/fuzz/smoke.sh" build-fuzz 20
fi
stage "all tests passed (total $SECONDS s)"
