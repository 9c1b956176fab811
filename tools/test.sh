#!/usr/bin/env bash
# The README's test command: install dependencies, then
#   1. the optimized build (RelWithDebInfo, -Werror): the binary that gets packaged;
#   2. the coverage build (GCC --coverage -O0, -Werror) with every test: unit, conformance, CLI,
#      differential and integration; gcovr's line coverage is printed and must be >= 80%;
#   3. the Debian package, built from (1), installed, started from its unit's command line, purged;
#   4. one clang-16 build with ASan+UBSan+libFuzzer instrumentation: the unit tests under
#      ASan+UBSan, then a short smoke run of every libFuzzer target;
#   5. one clang-16 build with TSan: the engine, notifier and HTTP client unit tests and one
#      `ruleeval run` test;
#   The clang-16 builds (4, 5) run at low priority in the background during the tests of (2),
#   which mostly wait for servers and timers, so they use the CPU the tests leave idle;
#   and, at the lowest priority in the background from the start, clang-tidy and cppcheck, both
#   required to report zero findings on the whole tree. cppcheck analyses every file. clang-tidy
#   (about 1,300 CPU-s for the whole tree with nothing cached, more than CI's budget on 2 cores)
#   always analyses common/, parser/, rules/, slo/, engine/, the CLI (tools/ruleeval/) and the
#   fuzz drivers (about 650 CPU-s); a file of notifiers/ or tests/ is analysed unless its exact
#   input (its preprocessed text with every header, its flags, the .clang-tidy files and the
#   clang-tidy version, hashed) is listed in tools/ci/clang-tidy-verified.txt as analysed with
#   zero findings (refresh it with RULEEVAL_TIDY_RECORD, see clang-tidy.sh): so any change there
#   is analysed in CI, and nothing unchanged is analysed twice. Unchanged files also come from
#   clang-tidy.sh's result cache (~/.cache/ruleeval/clang-tidy) for about 0.15 CPU-s each.
#   Both read the compile commands of a configured-only clang-16 build without precompiled
#   headers (build-lint).
# The unoptimized builds (2, 4, 5) use precompiled headers (RULEEVAL_PCH, cmake/Precompile.cmake):
# measured on the notifiers library and what it links, they save 35% of the CPU time of a
# clang-16 -O0 build and 12% of a GCC --coverage -O0 build.
# Every stage prints its duration.
#   RULEEVAL_JOBS     parallel build jobs (default: nproc)
#   RULEEVAL_SKIP_ASAN=1 / RULEEVAL_SKIP_TSAN=1 / RULEEVAL_SKIP_FUZZ=1 / RULEEVAL_SKIP_LINT=1
#   skip those stages (local iteration only)
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

stage "configure the builds"
# Line tables only (-g1): backtraces keep file:line, and the build is much quicker than with -g.
# No precompiled header here: with one, GCC 12 at -O2 reports its -Warray-bounds false positive
# inside libstdc++'s std::string operator+ (which it keeps quiet as a system header's otherwise),
# and -Werror stops the build; at -O2 the header parsing it would save is a small part anyway.
cmake -S . -B build -G Ninja -DRULEEVAL_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DRULEEVAL_TESTS=OFF >/dev/null
# The tests run in the coverage build: unoptimized, so that every line maps to its counters.
cmake -S . -B build-cov -G Ninja -DRULEEVAL_WERROR=ON -DRULEEVAL_BENCH=OFF -DRULEEVAL_PCH=ON \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O0 --coverage" -DCMAKE_CXX_FLAGS_DEBUG="" \
  -DCMAKE_EXE_LINKER_FLAGS="--coverage" >/dev/null
# The clang-16 builds are not -Werror: GCC's warnings are the project's bar (builds 1 and 2);
# clang's differ. -O0: sanitizer-instrumented code is costly to optimize (measured on
# notifier.cpp: clang -O1 33 s, -O0 12 s, the former GCC -O1 ASan build 40 s of CPU), and the
# sanitizers detect as much at -O0. tools/fuzz/long.sh builds its own -O2 fuzz build.
clang_flags=(-G Ninja -DCMAKE_CXX_COMPILER=clang++-16 -DRULEEVAL_BENCH=OFF
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O0" -DCMAKE_CXX_FLAGS_DEBUG="-g1")
# One serves the ASan+UBSan unit tests and the libFuzzer targets (the libraries are compiled once
# with -fsanitize=fuzzer-no-link,address,undefined; UBSan reports are fatal).
cmake -S . -B build-san "${clang_flags[@]}" -DRULEEVAL_FUZZ=ON -DRULEEVAL_PCH=ON >/dev/null
# The other is the TSan build (formerly GCC -O1: the same targets took about 800 CPU-s there and
# 530 with clang-16 -O0, before precompiled headers).
cmake -S . -B build-tsan "${clang_flags[@]}" -DRULEEVAL_TSAN=ON -DRULEEVAL_PCH=ON >/dev/null
# clang-tidy and cppcheck read this one's compile commands (configured, never built): commands
# without a precompiled header, which would not exist yet when they start.
cmake -S . -B build-lint "${clang_flags[@]}" -DRULEEVAL_FUZZ=ON >/dev/null

lint_pid=
if [ "${RULEEVAL_SKIP_LINT:-0}" != 1 ]; then
  # clang-tidy and cppcheck need only the compile commands. At nice 19 they take (almost) only the
  # CPU the other stages leave idle, above all during the integration tests, which mostly wait
  # for servers and timers; their reports are printed and checked at the end.
  # Their own process group (setsid), so that a failing stage stops them too.
  setsid bash -c "rc=0
    RULEEVAL_TIDY_FILES=\"\${RULEEVAL_TIDY_FILES:-^$root/(common/|parser/|rules/|slo/|engine/|tools/(fuzz|ruleeval)/)}\" \\
      RULEEVAL_TIDY_VERIFIED=\"\${RULEEVAL_TIDY_VERIFIED-tools/ci/clang-tidy-verified.txt}\" \\
      nice -n 19 tools/ci/clang-tidy.sh build-lint $jobs >build-lint/clang-tidy.log 2>&1 || rc=1
    nice -n 19 tools/ci/cppcheck.sh build-lint $jobs >build-lint/cppcheck.log 2>&1 || rc=1
    exit \$rc" &
  lint_pid=$!
  trap '[ -z "$lint_pid" ] || kill -- -"$lint_pid" 2>/dev/null || true' EXIT
fi

stage "build (RelWithDebInfo, -Werror): ruleeval and the benchmarks"
cmake --build build -j "$jobs"

stage "coverage build (--coverage -O0, -Werror): ruleeval and every test"
cmake --build build-cov -j "$jobs"

san_targets=()
[ "${RULEEVAL_SKIP_ASAN:-0}" != 1 ] &&
  san_targets+=(common_tests http_tests parser_tests rules_tests engine_tests notifiers_tests slo_tests)
[ "${RULEEVAL_SKIP_FUZZ:-0}" != 1 ] && san_targets+=(fuzz_targets)
tsan_targets=()
# The layers with threads (rule manager, remote-write queue, notifier workers, per-thread HTTP
# clients), and the CLI for one `ruleeval run` end to end.
[ "${RULEEVAL_SKIP_TSAN:-0}" != 1 ] &&
  tsan_targets+=(engine_tests notifiers_tests http_tests ruleeval)
san_pid=
if [ ${#san_targets[@]} -gt 0 ] || [ ${#tsan_targets[@]} -gt 0 ]; then
  # nice 10: the tests (nice 0) take the CPU whenever they want it; the builds get the rest. Their
  # own process group, so that a failing stage stops them too. Waited for after the package stage.
  setsid nice -n 10 bash -c "set -e
    if [ -n '${san_targets[*]}' ]; then
      cmake --build build-san -j $jobs --target ${san_targets[*]} >build-san/build.log 2>&1 ||
        { echo 'the ASan+UBSan+libFuzzer build failed:'; tail -n 40 build-san/build.log; exit 1; }
      tail -n 1 build-san/build.log
    fi
    if [ -n '${tsan_targets[*]}' ]; then
      cmake --build build-tsan -j $jobs --target ${tsan_targets[*]} >build-tsan/build.log 2>&1 ||
        { echo 'the TSan build failed:'; tail -n 40 build-tsan/build.log; exit 1; }
      tail -n 1 build-tsan/build.log
    fi" >build-san/builds.log 2>&1 &
  san_pid=$!
  trap '[ -z "$lint_pid" ] || kill -- -"$lint_pid" 2>/dev/null || true
        [ -z "$san_pid" ] || kill -- -"$san_pid" 2>/dev/null || true' EXIT
fi

stage "tests (coverage build; the clang-16 builds run beside them at low priority)"
find build-cov -name '*.gcda' -delete
# The SLO round trip runs `ruleeval test` hundreds of times over days of samples: it uses the
# optimized binary (build 1), which takes it from about 16 to a few minutes.
(cd build-cov && RULEEVAL_OPTIMIZED_BINARY="$root/build/tools/ruleeval" \
   ctest --output-on-failure -j "$jobs")

stage "line coverage (gcovr; at least 80%)"
tools/ci/coverage.sh build-cov 80

stage "package: build the .deb, install it, start it from the unit's command line, purge it"
deb=$(RULEEVAL_BUILD_DIR=build tools/package.sh)
tests/package/install_test.sh "$deb"

if [ -n "$san_pid" ]; then
  stage "clang-16 ASan+UBSan+libFuzzer and TSan builds (started beside the tests)"
  san_rc=0
  wait "$san_pid" || san_rc=$?
  san_pid=
  cat build-san/builds.log
  [ "$san_rc" = 0 ] || { echo "a clang-16 build failed"; exit 1; }
fi

if [ "${RULEEVAL_SKIP_ASAN:-0}" != 1 ]; then
  stage "unit tests under ASan+UBSan"
  (cd build-san && ASAN_OPTIONS=detect_leaks=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$root/tools/ci/ubsan.supp \
     ctest --output-on-failure -j "$jobs" -L unit)
fi

if [ "${RULEEVAL_SKIP_FUZZ:-0}" != 1 ]; then
  stage "fuzz smoke (libFuzzer, clang-16; one target per core)"
  # 7 s per target (seed corpus included): a smoke, which keeps CI under 30 minutes with 11 targets;
  # tools/fuzz/long.sh is the long run (millions of executions per target).
  UBSAN_OPTIONS=halt_on_error=1:suppressions=$root/tools/ci/ubsan.supp \
    FUZZ_JOBS=$jobs "$root/tools/fuzz/smoke.sh" build-san 7
fi

if [ "${RULEEVAL_SKIP_TSAN:-0}" != 1 ]; then
  stage "engine, notifier and HTTP client unit tests and one ruleeval-run test under TSan"
  # A report makes the binary exit 66, so the test fails. The `ruleeval run` test drives the
  # embedded backend, the HTTP API, silences and the file receiver, with the rule manager's
  # workers, the notifier and the API threads all live; a report stops the process (exit 66),
  # which the test checks after SIGTERM.
  (cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
     ctest --output-on-failure -j "$jobs" \
       -R '^((engine|notifiers|http):|run: alert lifecycle on the embedded backend$)')
fi

if [ -n "$lint_pid" ]; then
  stage "static analysis: clang-tidy and cppcheck (ran in the background)"
  lint_rc=0
  wait "$lint_pid" || lint_rc=1
  lint_pid=
  cat build-lint/clang-tidy.log build-lint/cppcheck.log 2>/dev/null || true
  [ "$lint_rc" = 0 ] || { echo "static analysis: findings (above)"; exit 1; }
fi
stage "all tests passed (total $SECONDS s)"
