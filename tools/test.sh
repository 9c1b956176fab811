#!/usr/bin/env bash
# The README's test command: install dependencies, build with -Werror, run every test (unit,
# conformance, CLI, integration against real local servers), then the unit tests again under
# ASan+UBSan, then a short smoke run of each libFuzzer target.
#   RULEEVAL_JOBS     parallel build jobs (default: nproc)
#   RULEEVAL_SKIP_ASAN=1 / RULEEVAL_SKIP_FUZZ=1   skip those stages (local iteration only)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${RULEEVAL_JOBS:-$(nproc)}

tools/bootstrap.sh --all

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -G Ninja -DRULEEVAL_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

echo "== tests"
(cd build && ctest --output-on-failure -j "$jobs")

if [ "${RULEEVAL_SKIP_ASAN:-0}" != 1 ]; then
  echo "== unit tests under ASan+UBSan"
  cmake -S . -B build-asan -G Ninja -DRULEEVAL_WERROR=ON -DRULEEVAL_SANITIZE=ON \
    -DRULEEVAL_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O1" >/dev/null
  # Only the unit-test binaries and the CLI: the sanitizer build is the slowest to compile.
  cmake --build build-asan -j "$jobs" --target common_tests parser_tests rules_tests \
    engine_tests notifiers_tests ruleeval
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$jobs" -L unit)
fi

if [ "${RULEEVAL_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz smoke (libFuzzer, clang-16)"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-16 -DRULEEVAL_FUZZ=ON \
    -DRULEEVAL_TESTS=OFF -DRULEEVAL_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz -j "$jobs" --target fuzz_targets
  "$root/tools/fuzz/smoke.sh" build-fuzz 20
fi
echo "== all tests passed"
