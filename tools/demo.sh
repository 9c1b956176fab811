#!/usr/bin/env bash
# The README's main command: install dependencies, build, and run ruleeval's main job on the
# bundled example with no external server.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "${RULEEVAL_JOBS:-$(nproc)}" --target ruleeval
exec build/tools/ruleeval lint examples/rules/
