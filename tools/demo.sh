#!/usr/bin/env bash
# The README's main command: install dependencies, build, and run `ruleeval run` on the bundled
# demo (examples/demo) against the embedded backend, with no server at all. Within two minutes the
# demo's alert goes pending, fires and resolves; the notifications (Alertmanager webhook-v4 JSON)
# are printed on stdout, the logs on stderr, and http://127.0.0.1:9095/ shows the status page.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "${RULEEVAL_JOBS:-$(nproc)}" --target ruleeval
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
build/tools/ruleeval lint examples/rules/ examples/demo/rules.yaml examples/demo/grafana_rules.yaml
build/tools/ruleeval run --config examples/demo/ruleeval.yaml --state-dir "$state" \
  --duration "${RULEEVAL_DEMO_SECONDS:-130}"
